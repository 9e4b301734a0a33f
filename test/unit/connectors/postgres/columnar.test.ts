/**
 * The columnar fast path (binary COPY → column batches → Parquet) against a
 * real server: its lake must equal, row for row and value for value, the lake
 * the record path lands, and PostgreSQL's own SELECT (the oracle).
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CopyDecoder, copyOut, decodeOf } from '../../../../connectors/postgres/copy-binary.js';
import { postgresConnector } from '../../../../connectors/postgres/index.js';
import { MAX_TIMESTAMP, MIN_TIMESTAMP } from '../../../../connectors/postgres/mapping.js';
import { batchRecords, isColumnBatch } from '../../../../connectors/sdk/column-batch.js';
import { TransientError } from '../../../../connectors/sdk/errors.js';
import type { Connector, Logger } from '../../../../connectors/sdk/types.js';
import { tableFiles } from '../../../support/athena-read-check.js';
import { openTestLake, type TestLake } from '../../../support/lake.js';
import { connectTo, type PostgresServer, startPostgres } from '../../../support/postgres.js';
import { oracleMicros } from '../../../support/timestamp-oracle.js';

let server: PostgresServer;
const lakes: TestLake[] = [];

/** Every type of the benchmark's workload and more, with NULLs and values at their limits. */
const KINDS = `
  CREATE TABLE kinds (
    id bigint PRIMARY KEY,
    i int, s smallint, big bigint,
    amount numeric(12,2), wide numeric(38,10), whole numeric(18,0),
    score double precision,
    sku varchar(32), code char(5), name text,
    paid boolean,
    day date,
    created_at timestamptz,
    local_at timestamp,
    updated_at timestamptz NOT NULL,
    attrs jsonb, doc json,
    ref uuid,
    tags text[]
  );
  INSERT INTO kinds VALUES
    (1, 2147483647, 32767, 9223372036854775807, 9999999999.99, 9999999999999999999999999999.9999999999, 999999999999999999,
     'NaN', '', 'ab', '', true, '1970-01-01', '1970-01-01 00:00:00+00', '1970-01-01 00:00:00', '2026-01-01 00:00:00+00',
     '{"a": 1, "b": [1, 2], "ü": "ß"}', '{ "spaced" :  true }', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{a,"b c",NULL}'),
    (2, -2147483648, -32768, -9223372036854775808, -9999999999.99, -9999999999999999999999999999.9999999999, -999999999999999999,
     'Infinity', 'Bjørn Øst', 'Zü', 'Zürich 東京 😀', false, '1969-12-31', '1969-12-31 23:59:59.999999+00', '1969-12-31 23:59:59.999999',
     '2026-01-01 00:00:00+00', '"string"', '[]', '00000000-0000-0000-0000-000000000000', '{}'),
    (3, 0, 0, 9007199254740993, 0.01, 0.0000000001, 0, '-Infinity', E'line\\nbreak\\ttab', 'e' || chr(769), E'a''quote\\\\backslash',
     NULL, '2000-02-29', '1970-01-01 00:00:00.000001+00', '2000-01-01 00:00:00', '2026-01-01 00:00:00+00', 'null', 'null',
     'ffffffff-ffff-ffff-ffff-ffffffffffff', '{"x,y"}'),
    (4, NULL, NULL, NULL, -0.01, NULL, NULL, '-0', NULL, NULL, NULL, NULL, 'infinity', '2021-03-28 00:59:59.999999+00', NULL,
     '2026-01-01 00:00:00.5+00', '{"n": 1.0e10, "deep": {"x": [null, true]}}', NULL, NULL, NULL),
    (5, 1, 1, -9007199254740993, 0.00, -0.0000000001, 1, 1e-308, 'x', 'x', 'x', true, '-infinity', '2021-03-28 01:00:00+00',
     '2021-03-28 02:30:00', '2026-01-01 00:00:00.5+00', NULL, NULL, NULL, NULL),
    (6, 2, 2, 2, 12.5, 12.5, 12, 1.7976931348623157e308, 'y', 'y', 'y', false, '4713-01-01 BC', '2021-03-14 02:30:00-05',
     '2021-11-07 01:30:00', '2026-01-02 00:00:00+00', '{}', '{}', NULL, NULL),
    (7, 3, 3, 3, NULL, NULL, NULL, 0.1, 'z', 'z', 'z', NULL, '0001-01-01', '2021-11-07 01:30:00-04', NULL,
     '2026-01-02 00:00:00+00', NULL, NULL, NULL, NULL),
    (8, 4, 4, 4, 1, 1, 1, NULL, 'w', 'w', 'w', true, '9999-12-31', '1999-12-31 23:59:59.999999+00', '1999-12-31 23:59:59.999999',
     '2026-01-02 00:00:00+00', '1', '1', NULL, NULL);
  INSERT INTO kinds
  SELECT g, g * 7, (g % 300)::smallint, g * 1000003, round(((g * 37) % 1000000) / 100.0, 2), g / 7.0, g * 11,
         CASE WHEN g % 11 = 0 THEN NULL ELSE g / 97.0 END,
         'SKU-' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE chr(65 + g % 26) END,
         (ARRAY['Ana Lima','Bjørn Øst','Chloé Dubois','Gao Wei 高'])[1 + g % 4] || ' ' || g,
         CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
         DATE '2024-01-01' + g, TIMESTAMPTZ '2024-03-31 00:30:00+00' + g * interval '7 minutes 1.000001 seconds',
         TIMESTAMP '2024-10-27 00:30:00' + g * interval '13 minutes',
         TIMESTAMPTZ '2026-02-01 00:00:00+00' + (g / 4) * interval '1.000001 second',
         CASE WHEN g % 7 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'name', 'ñ' || g, 'list', jsonb_build_array(g, 'x')) END,
         CASE WHEN g % 6 = 0 THEN NULL ELSE json_build_object('g', g) END,
         md5(g::text)::uuid, ARRAY['t' || g]
    FROM generate_series(9, 300) AS g;`;

beforeAll(async () => {
  server = await startPostgres();
  const db = await connectTo(server);
  try {
    await db.query(KINDS);
    await db.query(
      `CREATE TABLE keyless (a int, b text); INSERT INTO keyless SELECT g % 5, 'row ' || g FROM generate_series(1, 40) AS g`,
    );
  } finally {
    await db.end();
  }
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const lake of lakes.splice(0)) await lake.dispose();
});

function pgConfig(extra: Record<string, unknown>) {
  return {
    host: server.host,
    port: server.port,
    database: server.database,
    user: server.user,
    password: server.password,
    ssl: { mode: 'disable' },
    ...extra,
  };
}

/** Debug lines of a run: says whether chunks went columnar. */
function capture(): { logger: Logger; lines: { message: string; extra?: Record<string, unknown> }[] } {
  const lines: { message: string; extra?: Record<string, unknown> }[] = [];
  const log = (message: string, extra?: Record<string, unknown>) => {
    lines.push({ message, ...(extra ? { extra } : {}) });
  };
  return { logger: { debug: log, info: log, warn: log, error: log }, lines };
}

async function syncedLake(
  extra: Record<string, unknown>,
  options: {
    rowGroupRows?: number;
    sliceRows?: number;
    pii?: Record<string, Record<string, 'hash' | 'redact'>>;
  } = {},
) {
  const config = pgConfig(extra);
  const now = new Date().toISOString();
  const lake = await openTestLake(
    {
      name: 'pg',
      type: 'postgres',
      config,
      createdAt: now,
      updatedAt: now,
      ...(options.pii ? { pii: options.pii } : {}),
    },
    postgresConnector as Connector<never>,
    config,
  );
  lakes.push(lake);
  const { logger, lines } = capture();
  let slices = 0;
  const sync = async () => {
    const run = await lake.sync(
      {
        rowGroupRows: options.rowGroupRows ?? 50,
        ...(options.pii ? { piiSalt: 'salt-for-tests' } : {}),
        ...(options.sliceRows ? { sliceRows: options.sliceRows } : {}),
        onSlice: () => {
          slices++;
        },
      },
      { logger },
    );
    expect(run.status, run.error).toBe('SUCCEEDED');
    return run;
  };
  return { lake, lines, sync, slices: () => slices };
}

/**
 * Every landed row of a table as text, exactly: timestamps as epoch
 * microseconds, dates as epoch days, doubles by their bits, decimals as
 * text. Read straight from the Parquet files with DuckDB.
 */
async function landed(lake: TestLake, stream: string): Promise<string[]> {
  const table = (await lake.backend.catalog.getTable('pg', stream))!;
  const files = await tableFiles(lake.backend.objects, table.location);
  const columns = table.schemaVersions
    .at(-1)!
    .columns.filter((c) => !c.name.startsWith('_sluice_'))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const dir = await mkdtemp(join(tmpdir(), 'sluice-columnar-'));
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const out: string[] = [];
    for (const [k, file] of files.entries()) {
      const path = join(dir, `${k}.parquet`);
      await writeFile(path, file.bytes);
      const present = new Set(
        (await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`))
          .getRowObjects()
          .map((r) => String(r.column_name)),
      );
      const select = columns.map((c) => {
        const q = `"${c.name}"`;
        if (!present.has(c.name)) return `NULL`;
        if (c.type === 'timestamp') return `CAST(epoch_us(${q}) AS VARCHAR)`;
        if (c.type === 'date') return `CAST(${q} - DATE '1970-01-01' AS VARCHAR)`;
        if (c.type === 'double') return `CAST(${q} AS VARCHAR)`;
        return `CAST(${q} AS VARCHAR)`;
      });
      const reader = await db.runAndReadAll(
        `SELECT ${select.map((s, i) => `${s} AS c${i}`).join(', ')} FROM read_parquet('${path}')`,
      );
      for (const row of reader.getRows()) {
        out.push(columns.map((c, i) => `${c.name}=${row[i] === null ? '∅' : String(row[i])}`).join('|'));
      }
    }
    return out.sort();
  } finally {
    db.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The oracle: PostgreSQL renders each value the way `landed` does (clamped to 0001–9999 as the lake is). */
async function fromPostgres(): Promise<string[]> {
  const db = await connectTo(server);
  try {
    const us = (c: string) =>
      `(extract(epoch FROM greatest(least(${c}, '9999-12-31 23:59:59.999999+00'), '0001-01-01 00:00:00+00')) * 1000000)::int8::text`;
    const { rows } = await db.query<Record<string, string | null>>(`
      SELECT id::text AS id, i::text AS i, s::text AS s, big::text AS big, amount::text AS amount, wide::text AS wide,
             whole::text AS whole, score::text AS score, sku, code, name, paid::text AS paid,
             (greatest(least(day, '9999-12-31'), '0001-01-01') - DATE '1970-01-01')::text AS day,
             ${us('created_at')} AS created_at,
             (extract(epoch FROM local_at) * 1000000)::int8::text AS local_at,
             ${us('updated_at')} AS updated_at, attrs::text AS attrs, doc::text AS doc, ref::text AS ref,
             to_json(tags)::text AS tags
        FROM kinds`);
    const order = [
      'id',
      'i',
      's',
      'big',
      'amount',
      'wide',
      'whole',
      'score',
      'sku',
      'code',
      'name',
      'paid',
      'day',
      'created_at',
      'local_at',
      'updated_at',
      'attrs',
      'doc',
      'ref',
      'tags',
    ].sort();
    const score = (text: string): string => {
      // DuckDB prints doubles its own way: compare them as the numbers they are.
      const n = Number(text);
      return Object.is(n, -0)
        ? '-0.0'
        : Number.isNaN(n)
          ? 'nan'
          : n === Infinity
            ? 'inf'
            : n === -Infinity
              ? '-inf'
              : String(n);
    };
    return rows
      .map((r) =>
        order
          .map((name) => {
            const value = r[name];
            if (value === null || value === undefined) return `${name}=∅`;
            if (name === 'paid') return `${name}=${value}`;
            if (name === 'score') return `${name}=${score(value)}`;
            return `${name}=${value}`;
          })
          .join('|'),
      )
      .sort();
  } finally {
    await db.end();
  }
}

/** DuckDB's double text, mapped to the oracle's spelling (shortest round-trip digits). */
function normaliseDoubles(rows: string[]): string[] {
  return rows.map((row) =>
    row.replace(/(^|\|)score=([^|]+)/, (_m, lead: string, text: string) => {
      if (text === '∅' || text === 'nan' || text === 'inf' || text === '-inf' || text === '-0.0')
        return `${lead}score=${text}`;
      return `${lead}score=${String(Number(text))}`;
    }),
  );
}

describe('postgres columnar fast path', () => {
  it('lands every column type exactly as the record path and as PostgreSQL selects it', async () => {
    // Prepare
    const fast = await syncedLake({ tables: ['public.kinds'], chunkSize: 7 });
    const rows = await syncedLake({ tables: ['public.kinds'], chunkSize: 7, columnar: false });
    // Act
    await fast.sync();
    await rows.sync();
    const viaBatches = await landed(fast.lake, 'public_kinds');
    const viaRecords = await landed(rows.lake, 'public_kinds');
    const oracle = await fromPostgres();
    // Assess
    const chunks = fast.lines.filter((l) => l.message === 'postgres chunk read');
    expect(chunks.length).toBeGreaterThan(40);
    expect(chunks.every((l) => l.extra?.columnar === true)).toBe(true);
    expect(rows.lines.some((l) => l.extra?.columnar === true)).toBe(false);
    expect(viaBatches).toHaveLength(300);
    expect(viaBatches).toEqual(viaRecords);
    expect(normaliseDoubles(viaBatches)).toEqual(oracle);
  });

  it('lands the same lake with hashed and redacted pii fields, and on an incremental run with ties at the cursor', async () => {
    // Prepare
    const pii = { public_kinds: { name: 'hash' as const, id: 'hash' as const, attrs: 'redact' as const } };
    const fast = await syncedLake({ tables: ['public.kinds'], chunkSize: 9 }, { pii, rowGroupRows: 20 });
    const rows = await syncedLake(
      { tables: ['public.kinds'], chunkSize: 9, columnar: false },
      { pii, rowGroupRows: 20 },
    );
    await fast.sync();
    await rows.sync();
    const db = await connectTo(server);
    try {
      // Rows at the committed cursor (ties), behind it and past it.
      await db.query(`INSERT INTO kinds (id, name, updated_at, attrs) VALUES
        (1001, 'tie', (SELECT max(updated_at) FROM kinds), '{"t": 1}'),
        (1002, 'old', '2020-01-01 00:00:00+00', NULL),
        (1003, 'new', '2027-01-01 00:00:00+00', '[1]')`);
      await db.query(
        `UPDATE kinds SET updated_at = '2027-01-02 00:00:00+00', name = name || ' v2' WHERE id % 50 = 0`,
      );
      // Act
      await fast.sync();
      await rows.sync();
    } finally {
      await db.query(`DELETE FROM kinds WHERE id > 1000`);
      await db.end();
    }
    const viaBatches = await landed(fast.lake, 'public_kinds');
    const viaRecords = await landed(rows.lake, 'public_kinds');
    // Assess
    expect(fast.lines.some((l) => l.extra?.columnar === true)).toBe(true);
    expect(viaBatches).toEqual(viaRecords);
    expect(viaBatches.filter((r) => /\|attrs=∅\|/.test(r))).toHaveLength(viaBatches.length);
    const cursorFast = await fast.lake.backend.state.getCursor('pg', 'public_kinds');
    const cursorRows = await rows.lake.backend.state.getCursor('pg', 'public_kinds');
    expect(cursorFast.cursor).toEqual(cursorRows.cursor);
  });

  it('lands the same lake in slices of 23 rows, resuming from the batches keyset positions, as in one slice', async () => {
    // Prepare
    const sliced = await syncedLake(
      { tables: ['public.kinds', 'public.keyless'], chunkSize: 7 },
      { sliceRows: 23 },
    );
    const whole = await syncedLake({
      tables: ['public.kinds', 'public.keyless'],
      chunkSize: 7,
      columnar: false,
    });
    // Act
    await sliced.sync();
    await whole.sync();
    // Assess
    expect(sliced.slices()).toBeGreaterThan(10);
    expect(sliced.lines.filter((l) => l.extra?.columnar === true).length).toBeGreaterThan(40);
    for (const stream of ['public_kinds', 'public_keyless']) {
      expect(await landed(sliced.lake, stream)).toEqual(await landed(whole.lake, stream));
    }
  });

  it('reads a keyless table by (tableoid, ctid) in column batches exactly as in records', async () => {
    // Prepare
    const fast = await syncedLake({ tables: ['public.keyless'], chunkSize: 3 });
    const rows = await syncedLake({ tables: ['public.keyless'], chunkSize: 3, columnar: false });
    // Act
    await fast.sync();
    await rows.sync();
    // Assess
    expect(fast.lines.filter((l) => l.extra?.columnar === true).length).toBeGreaterThan(10);
    const viaBatches = await landed(fast.lake, 'public_keyless');
    expect(viaBatches).toHaveLength(40);
    expect(viaBatches).toEqual(await landed(rows.lake, 'public_keyless'));
  });

  it('keeps microseconds exact at the clamped ends of the timestamp range, and reads a NaN chunk as records', async () => {
    // Prepare
    const db = await connectTo(server);
    try {
      await db.query(`CREATE TABLE edges (id int PRIMARY KEY, at timestamptz, amount numeric(6,2));
        INSERT INTO edges VALUES (1, 'infinity', 1), (2, '-infinity', 2), (3, '0044-03-15 12:00:00 BC', 3),
          (4, '12000-01-01 00:00:00+00', 4), (5, '9999-12-31 23:59:59.999999+00', 5), (6, '0001-01-01 00:00:00+00', 6),
          (7, '2024-01-01 00:00:00+00', 'NaN'), (8, NULL, NULL)`);
    } finally {
      await db.end();
    }
    const fast = await syncedLake({ tables: ['public.edges'], chunkSize: 2, defaultCursorColumn: '' });
    // Act
    await fast.sync();
    const rows = await landed(fast.lake, 'public_edges');
    // Assess
    expect(rows).toEqual(
      [
        'amount=1.00|amount__string=∅|at=253402300799999999|id=1',
        'amount=2.00|amount__string=∅|at=-62135596800000000|id=2',
        'amount=3.00|amount__string=∅|at=-62135596800000000|id=3',
        'amount=4.00|amount__string=∅|at=253402300799999999|id=4',
        'amount=5.00|amount__string=∅|at=253402300799999999|id=5',
        'amount=6.00|amount__string=∅|at=-62135596800000000|id=6',
        'amount=∅|amount__string=NaN|at=1704067200000000|id=7',
        'amount=∅|amount__string=∅|at=∅|id=8',
      ].sort(),
    );
    const chunks = fast.lines.filter((l) => l.message === 'postgres chunk read');
    expect(chunks.map((l) => l.extra?.columnar)).toEqual([true, true, true, false, true]);
    expect(
      fast.lines.some(
        (l) => l.message === 'postgres chunk read as records' && /NaN/.test(String(l.extra?.reason)),
      ),
    ).toBe(true);
  });

  it('lands infinity, BC, year 9999 and other far timestamps the same on the record path as on the columnar path', async () => {
    // Prepare
    const db = await connectTo(server);
    try {
      await db.query(`CREATE TABLE far (id int PRIMARY KEY, at timestamptz, local_at timestamp);
        INSERT INTO far VALUES (1, 'infinity', 'infinity'), (2, '-infinity', '-infinity'),
          (3, '0044-03-15 12:00:00+00 BC', '0044-03-15 12:00:00 BC'),
          (4, '9999-12-31 23:59:59.999999+00', '9999-12-31 23:59:59.999999'),
          (5, '9999-06-15 12:34:56.789013+00', '9999-06-15 12:34:56.789013'),
          (6, '0001-01-01 00:00:00.000001+00', '0001-01-01 00:00:00.000001'),
          (7, '2255-06-05 23:47:34.740993+00', '2255-06-05 23:47:34.740993'),
          (8, '2024-03-15 10:22:31.123457+00', '2024-03-15 10:22:31.123457')`);
    } finally {
      await db.end();
    }
    const fast = await syncedLake({ tables: ['public.far'], chunkSize: 3, defaultCursorColumn: '' });
    const rows = await syncedLake({
      tables: ['public.far'],
      chunkSize: 3,
      defaultCursorColumn: '',
      columnar: false,
    });
    // Act
    await fast.sync();
    await rows.sync();
    const viaBatches = await landed(fast.lake, 'public_far');
    const viaRecords = await landed(rows.lake, 'public_far');
    // Assess
    expect(fast.lines.filter((l) => l.extra?.columnar === true)).toHaveLength(3);
    expect(rows.lines.some((l) => l.extra?.columnar === true)).toBe(false);
    const us = (text: string) => String(oracleMicros(text));
    const expected = [
      [1, us(MAX_TIMESTAMP)],
      [2, us(MIN_TIMESTAMP)],
      [3, us(MIN_TIMESTAMP)],
      [4, us(MAX_TIMESTAMP)],
      [5, us('9999-06-15T12:34:56.789013Z')],
      [6, us('0001-01-01T00:00:00.000001Z')],
      [7, us('2255-06-05T23:47:34.740993Z')],
      [8, us('2024-03-15T10:22:31.123457Z')],
    ].map(([id, at]) => `at=${at}|id=${id}|local_at=${at}`);
    expect(viaRecords).toEqual(expected.sort());
    expect(viaBatches).toEqual(viaRecords);
  });

  it('cancels a waiting COPY on abort, and turns a connection killed between COPYs into a TransientError', async () => {
    // Prepare
    const owner = await connectTo(server);
    await owner.query(
      'CREATE TABLE guarded (id int PRIMARY KEY); INSERT INTO guarded SELECT generate_series(1, 100)',
    );
    await owner.end();
    const db = await connectTo(server, 'admin');
    const config = pgConfig({ tables: ['public.guarded'], chunkSize: 10, defaultCursorColumn: '' });
    const [stream] = await postgresConnector.streams(config as never);
    const context = (signal: AbortSignal) => ({
      since: undefined,
      committedCursor: undefined,
      signal,
      logger: capture().logger,
      acceptsColumnBatches: true,
    });
    try {
      await db.query('BEGIN; LOCK TABLE guarded IN ACCESS EXCLUSIVE MODE');
      const controller = new AbortController();
      const started = Date.now();
      // Act
      const blocked = (async () => {
        for await (const _ of stream!.read(context(controller.signal)))
          throw new Error('read through a lock');
      })();
      // Polled from another session: pg_stat_activity is a snapshot per transaction.
      const waiting = async () => {
        const watch = await connectTo(server, 'admin');
        try {
          const { rows } = await watch.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sluice' AND wait_event_type = 'Lock'",
          );
          return rows[0]!.n;
        } finally {
          await watch.end();
        }
      };
      for (let i = 0; i < 100 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      controller.abort();
      const aborted = await blocked.then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      await db.query('ROLLBACK');
      let batches = 0;
      const killed = (async () => {
        for await (const item of stream!.read(context(new AbortController().signal))) {
          if (isColumnBatch(item) && ++batches === 1) {
            await db.query(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sluice' AND pid <> pg_backend_pid()",
            );
          }
        }
      })().then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      const lost = await killed;
      // Assess
      expect(aborted?.name).toBe('AbortError');
      expect(Date.now() - started).toBeLessThan(4_000);
      // The chunk prefetched before the kill may still arrive; none after it.
      expect(batches).toBeGreaterThanOrEqual(1);
      expect(batches).toBeLessThanOrEqual(2);
      expect(lost).toBeInstanceOf(TransientError);
    } finally {
      await db.end();
    }
  });

  it('decodes a COPY stream cut at every byte boundary exactly as in one piece', async () => {
    // Prepare
    const db = await connectTo(server);
    const chunks: Buffer[] = [];
    const { rows: columns } = await db.query<{ name: string; typname: string; mod: string }>(
      `SELECT a.attname AS name, t.typname, format_type(a.atttypid, a.atttypmod) AS mod
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = 'kinds'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
    );
    const selected = columns
      .filter((c) => c.typname !== '_text')
      .map((c) => {
        const type =
          c.typname === 'numeric' ? (c.mod.replace('numeric', 'decimal') as never) : ('string' as never);
        const decode = decodeOf({
          name: c.name,
          castType: c.mod,
          type: { typname: c.typname, category: '', typtype: 'b' },
          mapping: { columnType: type, kind: 'text' },
        })!;
        const lake = {
          int2: 'int',
          int4: 'int',
          int8: 'bigint',
          float8: 'double',
          bool: 'boolean',
          date: 'date',
          timestamp: 'timestamp',
        } as Record<string, string>;
        return { name: c.name, decode, type: (lake[decode] ?? type) as never };
      });
    const list = selected.map((c) => `"${c.name}"`).join(', ');
    try {
      await copyOut(db, `COPY (SELECT ${list} FROM kinds ORDER BY id) TO STDOUT (FORMAT binary)`, (chunk) =>
        chunks.push(Buffer.from(chunk)),
      );
    } finally {
      await db.end();
    }
    const whole = Buffer.concat(chunks);
    const once = new CopyDecoder(selected, 400);
    once.feed(whole);
    const expected = batchRecords(once.finish().batch);
    // Act
    const pieces = new CopyDecoder(selected, 400);
    for (let at = 0; at < whole.length; at += 13)
      pieces.feed(whole.subarray(at, Math.min(at + 13, whole.length)));
    const decoded = pieces.finish();
    // Assess
    expect(expected).toHaveLength(300);
    expect(decoded.fallback).toBeUndefined();
    expect(batchRecords(decoded.batch)).toEqual(expected);
  });
});
