/**
 * Encoder alternatives measured for ADR 0002, each fed the same N synthetic
 * rows as `npm run bench` (bench/pool.ts, pages of 10,000 row objects) and
 * writing one Parquet file, each in its own child process (its own peak
 * RSS, CPU-seconds of all its threads):
 *
 * - `sluice-writer`: this project's writer (createParquetWriter: hand-built
 *   Arrow, parquet-wasm per row group on the encoder thread, spliced);
 * - `sluice-writer-inline`: the same on one thread (`worker: false`);
 * - `parquet-wasm-stream`: the same conversion to Arrow, then parquet-wasm's
 *   own streaming writer (`transformParquetStream`) instead of the splice;
 * - `hyparquet-writer`: the pure-JS writer's row API (`parquetWriteRows`);
 * - `duckdb-appender-copy`: DuckDB's appender (one call per value), then
 *   `COPY … TO parquet`, one thread.
 *
 *   npx tsx bench/alternatives.ts [--rows 1000000] [--only NAME] [--modules DIR] [--save FILE]
 *
 * hyparquet-writer is not a dependency of the project: install it anywhere
 * outside the repository (`npm install hyparquet-writer` in a temp dir) and
 * pass that directory's node_modules as `--modules`; without it that
 * alternative is skipped. Each line also records the machine and the load
 * average before and after; `--save` appends the lines to a file.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SourceRecord } from '../connectors/sdk/types.js';
import { createParquetWriter, type ParquetColumn } from '../engine/parquet/index.js';
import { peakRssMb } from './peak-rss.js';
import { buildPool, pages } from './pool.js';

const COLUMNS = [
  ['id', 'BIGINT', 'bigint'],
  ['account_id', 'INTEGER', 'int'],
  ['order_number', 'VARCHAR', 'string'],
  ['status', 'VARCHAR', 'string'],
  ['currency', 'VARCHAR', 'string'],
  ['amount', 'DOUBLE', 'double'],
  ['tax', 'DOUBLE', 'double'],
  ['discount', 'DOUBLE', 'double'],
  ['quantity', 'INTEGER', 'int'],
  ['is_gift', 'BOOLEAN', 'boolean'],
  ['customer_email', 'VARCHAR', 'string'],
  ['customer_name', 'VARCHAR', 'string'],
  ['shipping_country', 'VARCHAR', 'string'],
  ['shipping_city', 'VARCHAR', 'string'],
  ['shipping_postcode', 'VARCHAR', 'string'],
  ['coupon_code', 'VARCHAR', 'string'],
  ['created_at', 'VARCHAR', 'timestamp'],
  ['notes', 'VARCHAR', 'string'],
  ['user_agent', 'VARCHAR', 'string'],
] as const;

const PARQUET_COLUMNS: readonly ParquetColumn[] = COLUMNS.map(([name, , type]) => ({ name, type }));
const ALTERNATIVES = [
  'sluice-writer',
  'sluice-writer-inline',
  'parquet-wasm-stream',
  'hyparquet-writer',
  'duckdb-appender-copy',
] as const;
type Alternative = (typeof ALTERNATIVES)[number];
/** Rows per row group where the alternative takes a row count (ours: 65,536 rows ≈ our 16–32 MiB). */
const GROUP_ROWS = 65_536;

interface Args {
  readonly rows: number;
  readonly only: Alternative | undefined;
  readonly child: boolean;
  readonly modules: string | undefined;
  readonly save: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  let rows = 1_000_000;
  let only: Alternative | undefined;
  let child = false;
  let modules: string | undefined;
  let save: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--rows') rows = Number(argv[++i]);
    else if (flag === '--only' || flag === '--child') {
      const name = argv[++i] as Alternative;
      if (!ALTERNATIVES.includes(name)) throw new Error(`${flag} needs one of ${ALTERNATIVES.join(', ')}`);
      only = name;
      child = flag === '--child';
    } else if (flag === '--modules') modules = argv[++i];
    else if (flag === '--save') save = argv[++i];
    else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error('--rows needs a whole number');
  return { rows, only, child, modules, save };
}

/** Writes the rows with this project's writer, a page per `write` as the landing loop does. */
async function sluiceWriter(rows: number, out: string, worker: boolean): Promise<void> {
  const { open } = await import('node:fs/promises');
  const file = await open(out, 'w');
  const writer = createParquetWriter(PARQUET_COLUMNS, async (chunk) => void (await file.write(chunk)), {
    worker,
  });
  try {
    for (const page of pages(buildPool(), rows)) await writer.write(page);
    await writer.finish();
  } finally {
    await writer.close();
    await file.close();
  }
}

/** Our conversion to Arrow, then parquet-wasm's streaming writer over the record batches. */
async function parquetWasmStream(rows: number, out: string): Promise<void> {
  const { RowConverter } = await import('../engine/parquet/convert.js');
  const { ArrowIpcWriter } = await import('../engine/parquet/arrow.js');
  const wasm = await import('parquet-wasm');
  const { createWriteStream } = await import('node:fs');
  const { Writable } = await import('node:stream');
  const converter = new RowConverter(PARQUET_COLUMNS);
  const ipc = new ArrowIpcWriter(PARQUET_COLUMNS);
  const source = pages(buildPool(), rows)[Symbol.iterator]();
  const batches = new ReadableStream({
    pull(controller) {
      const next = source.next();
      if (next.done) return controller.close();
      const table = wasm.Table.fromIPCStream(ipc.write([converter.convert(next.value)]));
      for (const batch of table.recordBatches()) controller.enqueue(batch);
    },
  });
  const properties = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression.SNAPPY)
    .setStatisticsEnabled(wasm.EnabledStatistics.Page)
    .setWriterVersion(wasm.WriterVersion.V1)
    .setMaxRowGroupSize(GROUP_ROWS)
    .build();
  const bytes = await wasm.transformParquetStream(batches, properties);
  await bytes.pipeTo(Writable.toWeb(createWriteStream(out)) as WritableStream<Uint8Array>);
}

/** hyparquet-writer's row API over the same row objects (its own conversion and encoding). */
async function hyparquetWriter(rows: number, out: string, modules: string): Promise<void> {
  // Its Node entry (the package's exports map `.` there), loaded by path from outside the repository.
  const entry = join(modules, 'hyparquet-writer', 'src', 'node.js');
  const { parquetWriteRows, fileWriter } = await import(pathToFileURL(entry).href);
  // Its INT64 takes bigints and its TIMESTAMP Dates: turning our values into those is its conversion.
  function* records(): Generator<SourceRecord> {
    for (const page of pages(buildPool(), rows)) {
      for (const row of page as Record<string, unknown>[]) {
        row.id = BigInt(row.id as number);
        row.created_at = new Date(row.created_at as string);
        yield row;
      }
    }
  }
  const type = {
    bigint: 'INT64',
    int: 'INT32',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    string: 'STRING',
  } as const;
  await parquetWriteRows({
    writer: fileWriter(out),
    rows: records(),
    columns: COLUMNS.map(([name, , t]) => ({ name, type: t === 'timestamp' ? 'TIMESTAMP' : type[t] })),
    rowGroupSize: GROUP_ROWS,
  });
}

/** DuckDB's appender, one call per value, then COPY to Parquet on one thread. */
async function duckdbAppender(rows: number, out: string): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const duck = await DuckDBInstance.create(':memory:');
  const db = await duck.connect();
  await db.run('SET threads = 1');
  await db.run(`CREATE TABLE t (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
  const appender = await db.createAppender('t');
  for (const page of pages(buildPool(), rows)) {
    for (const row of page) {
      for (const [name, type] of COLUMNS) {
        const v = row[name];
        if (v === null || v === undefined) appender.appendNull();
        else if (type === 'BIGINT') appender.appendBigInt(BigInt(v as number));
        else if (type === 'INTEGER') appender.appendInteger(v as number);
        else if (type === 'DOUBLE') appender.appendDouble(v as number);
        else if (type === 'BOOLEAN') appender.appendBoolean(v as boolean);
        else appender.appendVarchar(v as string);
      }
      appender.endRow();
    }
  }
  appender.closeSync();
  await db.run(
    `COPY (SELECT * REPLACE (created_at::TIMESTAMPTZ AS created_at) FROM t) TO '${out}' (FORMAT parquet)`,
  );
  db.closeSync();
  duck.closeSync();
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
const load = (): number[] => os.loadavg().map((l) => round(l, 2));

/** One alternative in this process; prints one JSON line. */
async function runOne(args: Args, alternative: Alternative): Promise<void> {
  const work = await mkdtemp(join(os.tmpdir(), 'sluice-bench-alt-'));
  const out = join(work, 'out.parquet');
  const loadBefore = load();
  try {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    if (alternative === 'sluice-writer') await sluiceWriter(args.rows, out, true);
    else if (alternative === 'sluice-writer-inline') await sluiceWriter(args.rows, out, false);
    else if (alternative === 'parquet-wasm-stream') await parquetWasmStream(args.rows, out);
    else if (alternative === 'hyparquet-writer') await hyparquetWriter(args.rows, out, args.modules ?? '');
    else await duckdbAppender(args.rows, out);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const cpus = os.cpus();
    process.stdout.write(
      `${JSON.stringify({
        alternative,
        rows: args.rows,
        seconds: round(seconds),
        cpuSeconds: round(cpuSeconds),
        cpuMicrosPerRow: round((cpuSeconds / args.rows) * 1e6, 2),
        parquetBytes: (await stat(out)).size,
        peakRssMb: Math.round(peakRssMb()),
        outFile: out,
        date: new Date().toISOString(),
        machine: {
          cores: cpus.length,
          cpu: cpus[0]?.model.trim() ?? 'unknown',
          memoryGb: round(os.totalmem() / 2 ** 30, 1),
          node: process.version,
          platform: `${os.platform()}-${os.arch()}`,
        },
        usableCores: os.availableParallelism(),
        loadavg: { before: loadBefore, after: load() },
      })}\n`,
    );
    // The parent counts the rows of the file before it is removed.
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs each alternative in a child process, checks its file's row count with DuckDB, prints the lines. */
async function runAll(args: Args): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const duck = await DuckDBInstance.create(':memory:');
  const db = await duck.connect();
  const list = args.only ? [args.only] : ALTERNATIVES.filter((a) => a !== 'hyparquet-writer' || args.modules);
  for (const alternative of list) {
    const flags = ['--child', alternative, '--rows', String(args.rows)];
    if (args.modules) flags.push('--modules', args.modules);
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...flags], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(text.trim());
      });
      child.on('close', (code) => reject(new Error(`${alternative} exited with code ${code}: ${text}`)));
    });
    const result = JSON.parse(line) as Record<string, unknown>;
    const counted = (
      await db.runAndReadAll(
        `SELECT count(id) AS n, count(DISTINCT id) AS ids, count(created_at) AS at FROM read_parquet('${String(result.outFile)}')`,
      )
    ).getRows();
    child.stdin.end('done\n');
    await new Promise((resolve) => child.once('close', resolve));
    // Every row, with its key and its timestamp: a writer that dropped values would not pass.
    if (counted[0]?.some((n) => Number(n) !== args.rows))
      throw new Error(`${alternative} wrote ${counted[0]?.join('/')} rows/ids/timestamps`);
    const { outFile: _, ...saved } = result;
    const text = `${JSON.stringify({ ...saved, rowsRead: args.rows })}\n`;
    process.stdout.write(text);
    if (args.save) await appendFile(args.save, text);
  }
  db.closeSync();
  duck.closeSync();
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child && args.only) await runOne(args, args.only);
  else await runAll(args);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
