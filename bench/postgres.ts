/**
 * The PostgreSQL workload of the benchmark: a private server (the test
 * suite's throwaway cluster, test/support/postgres.ts), a seeded table of 16
 * mixed columns, a full load of it through the engine into a local lake, and
 * the server's own emit rate as the ceiling: `COPY (SELECT … ORDER BY …) TO
 * STDOUT (FORMAT binary)` through psql into /dev/null, in the same run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { postgresConnector } from '../connectors/postgres/index.js';
import { connectTo, findPostgresBin, type PostgresServer } from '../test/support/postgres.js';
import { type EngineLoad, timedEngineLoad } from './local-load.js';

export const BENCH_TABLE = 'bench_orders';

/** Where the engine child connects (the server's test user). */
export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export function targetOf(server: PostgresServer): PgTarget {
  const { host, port, user, password, database } = server;
  return { host, port, user, password, database };
}

/**
 * 16 columns: bigint key, four ints (one smallint), numeric(12,2), double,
 * five texts (one varchar, some null, some non-ASCII), boolean, date, two
 * timestamptz (`updated_at` is the cursor, so the load is the first run of an
 * incremental stream: ordered by (updated_at, id), cursor compared per row),
 * jsonb. Built with generate_series on the server: seeding 1M rows takes
 * seconds.
 */
export async function seedTable(server: PostgresServer, rows: number): Promise<void> {
  const client = await connectTo(server);
  try {
    await client.query(`DROP TABLE IF EXISTS ${BENCH_TABLE}`);
    await client.query(`CREATE TABLE ${BENCH_TABLE} (
      id bigint PRIMARY KEY,
      customer_id integer NOT NULL,
      quantity integer NOT NULL,
      region_id smallint,
      line_count integer,
      amount numeric(12,2) NOT NULL,
      score double precision,
      sku varchar(32) NOT NULL,
      customer_name text NOT NULL,
      email text,
      status text NOT NULL,
      note text,
      is_paid boolean NOT NULL,
      order_date date NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      attrs jsonb
    )`);
    await client.query(
      `INSERT INTO ${BENCH_TABLE}
       SELECT g,
              (g * 7919) % 100000,
              1 + g % 20,
              CASE WHEN g % 17 = 0 THEN NULL ELSE (g % 50)::smallint END,
              g % 9,
              round(((g * 37) % 1000000) / 100.0, 2),
              CASE WHEN g % 11 = 0 THEN NULL ELSE ((g * 13) % 10007) / 97.0 END,
              'SKU-' || lpad(((g * 31) % 99991)::text, 6, '0'),
              (ARRAY['Ana Lima','Bjørn Øst','Chloé Dubois','Dmitri Petrov','Emma Smith','Farah Khan','Gao Wei','Hugo Martín'])[1 + g % 8] || ' ' || (g % 997),
              CASE WHEN g % 13 = 0 THEN NULL ELSE 'user' || (g % 50000) || '@example.com' END,
              (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + g % 5],
              CASE WHEN g % 3 = 0 THEN NULL ELSE 'Leave at the door, ring twice — order ' || md5(g::text) END,
              g % 4 <> 0,
              DATE '2024-01-01' + (g % 700)::int,
              TIMESTAMPTZ '2024-01-01 00:00:00+00' + (g * interval '31 seconds') + ((g % 1000) * interval '1 microsecond'),
              TIMESTAMPTZ '2024-06-01 00:00:00+00' + ((g / 3) * interval '17 seconds') + ((g % 997) * interval '1 microsecond'),
              CASE WHEN g % 7 = 0 THEN NULL ELSE jsonb_build_object('channel', (ARRAY['web','app','store'])[1 + g % 3], 'items', g % 9, 'gift', g % 2 = 0, 'tags', jsonb_build_array('a' || (g % 5), 'b' || (g % 3))) END
         FROM generate_series(1, $1::bigint) AS g`,
      [rows],
    );
    await client.query(`CREATE INDEX ON ${BENCH_TABLE} (updated_at, id)`);
    await client.query(`VACUUM ANALYZE ${BENCH_TABLE}`);
  } finally {
    await client.end();
  }
}

export type PgEngineRun = EngineLoad;

/** One full load of the table through the engine into a fresh local lake, in this process (`columnar`: the connector's fast path). */
export async function postgresEngineRun(
  target: PgTarget,
  rows: number,
  options: { readonly rowGroupRows?: number; readonly rowGroupBytes?: number } = {},
  columnar = true,
): Promise<PgEngineRun> {
  // `columnar: false` reads records (the path every chunk took before the columnar fast path).
  const config = {
    ...target,
    ssl: { mode: 'disable' as const },
    tables: [`public.${BENCH_TABLE}`],
    columnar,
  };
  return timedEngineLoad({
    source: 'pgbench',
    type: 'postgres',
    connector: postgresConnector as never,
    config,
    stream: `public_${BENCH_TABLE}`,
    rows,
    ...options,
  });
}

export interface CopyRun {
  readonly seconds: number;
  /** CPU of psql (the client side of the copy). */
  readonly clientCpuSeconds: number;
}

/**
 * The ceiling: the server emits the table in the engine's order as binary
 * COPY, psql writes it to /dev/null. The shell's `times` reports psql's CPU.
 */
export function copyBinaryRun(target: PgTarget): Promise<CopyRun> {
  const psql = join(findPostgresBin(), 'psql');
  const sql = `COPY (SELECT * FROM ${BENCH_TABLE} ORDER BY updated_at, id) TO STDOUT (FORMAT binary)`;
  const script = `"$0" -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGDATABASE" -c "$1" > /dev/null && times`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', script, psql, sql], {
      env: {
        ...process.env,
        PGHOST: target.host,
        PGPORT: String(target.port),
        PGUSER: target.user,
        PGPASSWORD: target.password,
        PGDATABASE: target.database,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`psql COPY exited with ${code}: ${err}`));
      // `times`: shell user/sys, then children user/sys, as `0m1.234s 0m0.100s`.
      const children = out.trim().split('\n').at(-1) ?? '';
      const parts = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      resolve({ seconds, clientCpuSeconds: parts.reduce((a, b) => a + b, 0) });
    });
  });
}

/** CPU seconds the server's processes have used so far (all backends of the cluster), from /proc. */
export async function serverCpuSeconds(server: PostgresServer): Promise<number> {
  const client = await connectTo(server, 'admin');
  try {
    const { rows } = await client.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    const dir = rows[0]?.dir ?? '';
    return clusterCpu(dir);
  } finally {
    await client.end();
  }
}

async function clusterCpu(dataDir: string): Promise<number> {
  const { readFile, readdir } = await import('node:fs/promises');
  const postmaster = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const ticks = 100;
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      if (pid !== postmaster && ppid !== postmaster) continue;
      // utime, stime, cutime, cstime (fields 14–17 of stat; 12–15 after the command).
      total += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return total / ticks;
}
