/**
 * Landing throughput benchmark: N rows through the engine (runSync with the
 * local backend) into a local lake, against DuckDB's native
 * `COPY (SELECT * FROM read_json(...)) TO '….parquet'` on one thread over the
 * same rows. Prints one JSON line and saves it under bench/results/.
 *
 *   npm run bench -- [--only engine|postgres|rest] [--rows 1000000] [--repeat 3] [--rows-10m 10000000 [--repeat-10m 1] | --skip-10m]
 *                    [--slice-seconds 10] [--pg-rows 1000000] [--pg-record-path] [--rest-rows 200000] [--files-rows 200000]
 *                    [--runtime bundle|tsx] [--row-group-bytes N] [--function-env] [--function-memory MB] [--label NAME] [--no-save]
 *
 * `--only postgres` runs the PostgreSQL workload of bench/postgres.ts instead:
 * a seeded table loaded through the engine, beside binary COPY as the ceiling.
 * `--pg-record-path` also runs the same load with the connector's columnar
 * fast path off (`columnar: false`), alternating with the other runs.
 * `--only rest` runs the REST workload of bench/rest.ts: a local API's
 * records through the `rest` connector.
 * `--only files` runs the files workload of bench/files.ts: the same rows
 * as CSV, JSON Lines and Parquet objects in a private moto_server bucket
 * through the `s3-files` connector, each beside DuckDB reading the file.
 * `--label NAME` puts NAME into the result file's name (so a variant run
 * never overwrites another result). `--function-env` runs the children with
 * the environment a deployed Parquet function of one vCPU per usable core
 * gets (infra/parquet-function-environment.ts), or of `--function-memory MB`
 * (which implies it: under a CPU quota the usable cores overstate the
 * function); its files are labelled `function-env`.
 *
 * Engine children run as one esbuild bundle without tsx (`--runtime bundle`,
 * the default: how a Lambda or the built CLI runs the engine, with the
 * encoder worker as its own file), or under tsx like the sources
 * (`--runtime tsx`, which adds tsx's loader threads to CPU time and RSS).
 *
 * Each repeat also runs the engine in slices of `--slice-seconds` (0 skips
 * it), reported as `slicedRowsPerSec` beside the one-slice `rowsPerSec`.
 *
 * Engine runs happen in child processes (one per run) so each peak RSS is
 * the engine's alone; DuckDB runs in this process. Runs alternate
 * (DuckDB, engine, DuckDB, …) so background load hits both alike.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ALLOCATOR_RESTART_VARIABLE,
  allocatorRestart,
  currentHost,
  restartWithAllocatorSetting,
  startsDebugger,
} from '../cli/allocator-restart.js';
import { MMAP_THRESHOLD_VARIABLE } from '../engine/parquet/mmap-threshold.js';
import { ONE_VCPU_MB, parquetFunctionEnvironment } from '../infra/parquet-function-environment.js';
import { startPostgres } from '../test/support/postgres.js';
import { benchConnector } from './connector.js';
import {
  duckdbCopy,
  FILE_FORMATS,
  type FileFormat,
  type FilesEngineRun,
  filesEngineRun,
  prepareFiles,
} from './files.js';
import { timedEngineLoad } from './local-load.js';
import { startMoto } from './moto.js';
import { nodeMajorSuffix } from './node-major.js';
import { buildPool, pages } from './pool.js';
import {
  type CopyRun,
  copyBinaryRun,
  type PgEngineRun,
  type PgTarget,
  postgresEngineRun,
  seedTable,
  serverCpuSeconds,
  targetOf,
} from './postgres.js';
import { type RestEngineRun, restEngineRun, startRestApi } from './rest.js';

const Workload = { engine: 'engine', postgres: 'postgres', rest: 'rest', files: 'files' } as const;
type Workload = (typeof Workload)[keyof typeof Workload];

interface Args {
  readonly rows: number;
  /** Which workloads run (`--only engine|postgres`); both by default. */
  readonly only: readonly Workload[];
  /** Rows of the seeded PostgreSQL table. */
  readonly pgRows: number;
  /** Records the local REST API serves. */
  readonly restRows: number;
  /** Rows in each file of the files workload. */
  readonly filesRows: number;
  /** How engine children run: `bundle` (no tsx, as shipped) or `tsx`. */
  readonly runtime: Runtime;
  /** A child process: `engine` or `postgres` (with `--target` JSON). */
  readonly childKind: Workload | undefined;
  readonly target: string | undefined;
  /** The engine's `rowGroupBytes` (0: its default). */
  readonly rowGroupBytes: number;
  /** Slice length of the sliced engine run, in seconds (0: skip it). */
  readonly sliceSeconds: number;
  readonly repeat: number;
  readonly rows10m: number;
  /** Runs of the big load (its peak RSS varies from run to run with V8's old-space growth). */
  readonly repeat10m: number;
  readonly child: boolean;
  /** A child lands its rows a second time and reports that run as `warm`. */
  readonly warm: boolean;
  readonly save: boolean;
  /** PostgreSQL: also run the record path (`columnar: false`) in the same run. */
  readonly pgRecordPath: boolean;
  /** A child's connector setting (`--pg-columnar 0|1`). */
  readonly pgColumnar: boolean;
  /** Added to the result file's name. */
  readonly label: string;
  /** Children get a deployed Parquet function's environment (`--function-env`). */
  readonly functionEnv: boolean;
  /** That function's memory (`--function-memory`; 0: 1,769 MB per usable core). */
  readonly functionMemory: number;
}

interface EngineRun {
  readonly seconds: number;
  /** CPU time of the run (every thread of the process, user + system). */
  readonly cpuSeconds: number;
  readonly rows: number;
  readonly bytes: number;
  readonly files: number;
  readonly maxRssMb: number;
  readonly slices: number;
  /** The same load again in the same process (`--warm`): encoder thread, WASM and JIT already warm. */
  readonly warm?: { readonly seconds: number; readonly cpuSeconds: number };
}

const DEFAULTS = {
  rows: 1_000_000,
  repeat: 3,
  rows10m: 10_000_000,
  repeat10m: 1,
  sliceSeconds: 10,
  pgRows: 1_000_000,
  restRows: 200_000,
  filesRows: 200_000,
} as const;

const Runtime = { bundle: 'bundle', tsx: 'tsx' } as const;
type Runtime = (typeof Runtime)[keyof typeof Runtime];
const WORKLOADS: readonly string[] = Object.values(Workload);

function parseArgs(argv: readonly string[]): Args {
  const args: { -readonly [K in keyof Args]: Args[K] } = {
    ...DEFAULTS,
    only: [Workload.engine, Workload.postgres, Workload.rest, Workload.files],
    runtime: Runtime.bundle,
    childKind: undefined,
    target: undefined,
    rowGroupBytes: 0,
    child: false,
    warm: false,
    save: true,
    pgRecordPath: false,
    pgColumnar: true,
    label: '',
    functionEnv: false,
    functionMemory: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const number = (): number => {
      const value = Number(argv[++i]?.replaceAll('_', ''));
      if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${flag} needs a whole number`);
      return value;
    };
    if (flag === '--rows') args.rows = number();
    else if (flag === '--repeat') args.repeat = Math.max(1, number());
    else if (flag === '--rows-10m') args.rows10m = number();
    else if (flag === '--skip-10m') args.rows10m = 0;
    else if (flag === '--repeat-10m') args.repeat10m = Math.max(1, number());
    else if (flag === '--slice-seconds') args.sliceSeconds = number();
    else if (flag === '--pg-rows') args.pgRows = number();
    else if (flag === '--rest-rows') args.restRows = number();
    else if (flag === '--files-rows') args.filesRows = number();
    else if (flag === '--runtime') {
      const value = argv[++i];
      if (value !== Runtime.bundle && value !== Runtime.tsx) throw new Error('--runtime needs bundle or tsx');
      args.runtime = value;
    } else if (flag === '--row-group-bytes') args.rowGroupBytes = number();
    else if (flag === '--only') {
      const value = argv[++i] ?? '';
      if (!WORKLOADS.includes(value)) throw new Error('--only needs engine, postgres, rest or files');
      args.only = [value as Workload];
    } else if (flag === '--child') {
      const value = argv[++i] ?? '';
      if (!WORKLOADS.includes(value)) throw new Error('--child needs a workload');
      args.child = true;
      args.childKind = value as Workload;
    } else if (flag === '--target') args.target = argv[++i];
    else if (flag === '--warm') args.warm = true;
    else if (flag === '--no-save') args.save = false;
    else if (flag === '--pg-record-path') args.pgRecordPath = true;
    else if (flag === '--pg-columnar') args.pgColumnar = argv[++i] !== '0';
    else if (flag === '--function-env') args.functionEnv = true;
    else if (flag === '--function-memory') {
      args.functionMemory = number();
      args.functionEnv = true;
    } else if (flag === '--label') {
      const value = argv[++i] ?? '';
      if (!/^[a-z0-9-]+$/.test(value)) throw new Error('--label needs lowercase letters, digits and dashes');
      args.label = value;
    } else throw new Error(`unknown option ${flag}; see bench/README.md`);
  }
  return args;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** One sync of `rows` rows through the engine into a fresh local lake, in this process (in slices if asked). */
/** `--row-group-bytes`, passed on to every child (0: the engine's default). */
let rowGroupBytes = 0;
const rowGroupOptions = (): { rowGroupBytes?: number } => (rowGroupBytes > 0 ? { rowGroupBytes } : {});

function engineRun(rows: number, sliceSeconds = 0): Promise<EngineRun> {
  return timedEngineLoad({
    source: 'bench',
    type: 'bench',
    connector: benchConnector as never,
    config: { rows },
    stream: 'orders',
    rows,
    ...(sliceSeconds > 0 ? { sliceSeconds } : {}),
    ...rowGroupOptions(),
  });
}

/** Runs `engineRun` in a child process and returns what it reports (`warm`: and a second run in it). */
function engineRunInChild(rows: number, sliceSeconds = 0, warm = false): Promise<EngineRun> {
  return runChild<EngineRun>([
    '--child',
    'engine',
    '--rows',
    String(rows),
    '--slice-seconds',
    String(sliceSeconds),
    ...(warm ? ['--warm'] : []),
  ]);
}

/** Runs `postgresEngineRun` in a child process. */
function postgresRunInChild(target: PgTarget, rows: number, columnar = true): Promise<PgEngineRun> {
  return runChild<PgEngineRun>([
    '--child',
    'postgres',
    '--rows',
    String(rows),
    '--target',
    JSON.stringify(target),
    '--pg-columnar',
    columnar ? '1' : '0',
  ]);
}

/** Runs `restEngineRun` in a child process. */
function restRunInChild(url: string, rows: number): Promise<RestEngineRun> {
  return runChild<RestEngineRun>(['--child', 'rest', '--rows', String(rows), '--target', url]);
}

/** Runs `filesEngineRun` in a child process (moto's address reaches it through AWS_ENDPOINT_URL). */
function filesRunInChild(format: FileFormat, rows: number): Promise<FilesEngineRun> {
  return runChild<FilesEngineRun>(['--child', 'files', '--rows', String(rows), '--target', format]);
}

/** The command line that starts a child: this script under tsx, or its bundle. */
let childCommand: readonly string[] = [...process.execArgv, fileURLToPath(import.meta.url)];

/**
 * Bundles this script (engine, local backend, connectors) into one ESM file
 * and the Parquet encoder worker beside it, as infra/bundling.ts does for a
 * Lambda; DuckDB (native) and parquet-wasm (reads its .wasm from its own
 * directory) stay external, found in node_modules above the bundle.
 */
async function bundleChild(): Promise<readonly string[]> {
  const { build } = await import('esbuild');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = join(root, 'node_modules', '.cache', 'sluice-bench');
  const banner = [
    "import { createRequire as __benchCreateRequire } from 'node:module';",
    'const require = __benchCreateRequire(import.meta.url);',
  ].join(' ');
  const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' } as const;
  await build({
    ...common,
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile: join(out, 'run.mjs'),
    format: 'esm',
    banner: { js: banner },
    define: { 'process.env.SLUICE_PARQUET_WORKER_FILE': JSON.stringify('parquet-worker.cjs') },
    external: ['@duckdb/node-api', 'parquet-wasm', 'pg-native', 'esbuild', 'tsx'],
  });
  await build({
    ...common,
    entryPoints: [join(root, 'engine', 'parquet', 'worker.ts')],
    outfile: join(out, 'parquet-worker.cjs'),
    format: 'cjs',
    external: ['parquet-wasm'],
  });
  return [join(out, 'run.mjs')];
}

function runChild<T>(flags: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const all = [...flags, '--row-group-bytes', String(rowGroupBytes)];
    const nodeFlags = benchNodeFlags();
    const child = spawn(process.execPath, [...nodeFlags, ...childCommand, ...all], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...childEnv },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`engine run exited with code ${code}: ${out}`));
      let result: T;
      try {
        result = JSON.parse(line) as T;
      } catch {
        return reject(new Error(`engine run printed no result: ${out}`));
      }
      try {
        checkThreshold((result as { mmapThreshold?: unknown }).mmapThreshold);
        resolve(result);
      } catch (error) {
        reject(error);
      }
    });
  });
}

async function writeNdjson(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  for (const page of pages(buildPool(), rows)) {
    let text = '';
    for (const row of page) text += `${JSON.stringify(row)}\n`;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

/** Cores this process may run on (fewer than `machine().cores` under `taskset`). */
function usableCores(): number {
  return os.availableParallelism();
}

async function save(
  name: string,
  result: { readonly date: string; readonly machine: ReturnType<typeof machine> },
) {
  const m = result.machine;
  const pinned = usableCores() < m.cores ? `-pinned${usableCores()}` : '';
  const kind = `${m.platform}-${m.cores}cpu-${Math.round(m.memoryGb)}gb${pinned}${nodeMajorSuffix()}`;
  const prefix = name === '' ? '' : `${name}-`;
  const file = join(
    dirname(fileURLToPath(import.meta.url)),
    'results',
    `${result.date.slice(0, 10)}-${prefix}${kind}.json`,
  );
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  // A child lands data as `sluice sync` does, so it restarts as the CLI does (cli/allocator-restart.ts).
  if (parsed.child) restartWithAllocatorSetting();
  rowGroupBytes = parsed.rowGroupBytes;
  const labelled = parsed.functionEnv && !parsed.label.includes('function-env');
  const label = parsed.label === '' ? 'function-env' : `${parsed.label}-function-env`;
  const args = labelled ? { ...parsed, label } : parsed;
  // As deployed (glibc reads it at a child's start); by default one vCPU of memory per core this process may use.
  const memory = args.functionMemory > 0 ? args.functionMemory : usableCores() * ONE_VCPU_MB;
  if (args.functionEnv) childEnv = parquetFunctionEnvironment(memory);
  if (args.child && args.childKind === Workload.postgres) {
    const target = JSON.parse(args.target ?? '{}') as PgTarget;
    process.stdout.write(
      `${JSON.stringify(await postgresEngineRun(target, args.rows, rowGroupOptions(), args.pgColumnar))}\n`,
    );
    return;
  }
  if (args.child && args.childKind === Workload.files) {
    const format = args.target as FileFormat;
    if (!FILE_FORMATS.includes(format)) throw new Error(`--target needs one of ${FILE_FORMATS.join(', ')}`);
    process.stdout.write(`${JSON.stringify(await filesEngineRun(format, args.rows, rowGroupOptions()))}\n`);
    return;
  }
  if (args.child && args.childKind === Workload.rest) {
    process.stdout.write(
      `${JSON.stringify(await restEngineRun(args.target ?? '', args.rows, rowGroupOptions()))}\n`,
    );
    return;
  }
  if (args.child) {
    const cold = await engineRun(args.rows, args.sliceSeconds);
    // The cold run's peak RSS stands; a warm Lambda container pays no thread start, WASM tier-up or JIT warm-up.
    const again = args.warm ? await engineRun(args.rows, args.sliceSeconds) : undefined;
    const run: EngineRun =
      again === undefined
        ? cold
        : { ...cold, warm: { seconds: again.seconds, cpuSeconds: again.cpuSeconds } };
    process.stdout.write(`${JSON.stringify(run)}\n`);
    return;
  }
  if (args.runtime === Runtime.bundle) childCommand = await bundleChild();
  runtime = args.runtime;
  if (args.only.includes(Workload.engine)) {
    const result = await engineWorkload(args);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (args.save) await save(args.label, result);
  }
  if (args.only.includes(Workload.postgres)) {
    const result = await postgresWorkload(args);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (args.save) await save(args.label === '' ? 'postgres' : `postgres-${args.label}`, result);
  }
  if (args.only.includes(Workload.rest)) {
    const result = await restWorkload(args);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (args.save) await save(args.label === '' ? 'rest' : `${args.label}-rest`, result);
  }
  if (args.only.includes(Workload.files)) {
    const result = await filesWorkload(args);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (args.save) await save(args.label === '' ? 'files' : `${args.label}-files`, result);
  }
}

/** Wall and CPU seconds (this process, all threads) of one awaited piece of work: a DuckDB run. */
async function timed(work: () => Promise<unknown>): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** How the children of this run ran (recorded in every result line). */
let runtime: Runtime = Runtime.tsx;

/** Variables added to every child's environment (`--function-env`). */
let childEnv: Record<string, string> = {};

/** What in the children's environment changes how the engine runs: added by `--function-env` or inherited. */
function childSettings(): Record<string, string> | null {
  const inherited = Object.entries(process.env).filter(
    ([name]) =>
      name.startsWith('MALLOC_') ||
      name === 'GLIBC_TUNABLES' ||
      name === 'SLUICE_PARQUET_ENCODER' ||
      name === 'SLUICE_PARQUET_TEXT' ||
      name === ALLOCATOR_RESTART_VARIABLE,
  );
  const settings = { ...Object.fromEntries(inherited), ...childEnv } as Record<string, string>;
  return Object.keys(settings).length > 0 ? settings : null;
}

/** Node flags added to every child: e.g. SLUICE_BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof', where a child's CPU goes. */
function benchNodeFlags(): string[] {
  return (process.env.SLUICE_BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
}

/**
 * allocatorRestart as a child decides it: this process's Node, the child's environment (all of it
 * there from its start), the Node flags it is started with, no IPC channel (see runChild).
 */
function childRestartDecision() {
  const env = { ...process.env, ...childEnv };
  const flags = [...benchNodeFlags(), ...childCommand, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  return allocatorRestart(env, {
    ...currentHost(),
    mainThread: true,
    ipc: false,
    debugging: startsDebugger(flags),
    startedWith: (name) => env[name] !== undefined,
  });
}

/**
 * Whether each child restarts itself with glibc's setting, and if not, why: predicted here (the
 * children run this process's Node) and checked against what each child reports (`checkThreshold`).
 */
function childRestart(): string {
  const decision = childRestartDecision();
  return decision.restart
    ? `restarts with ${MMAP_THRESHOLD_VARIABLE}=${decision.env[MMAP_THRESHOLD_VARIABLE]}`
    : `no: ${decision.reason}`;
}

/** The threshold a child should have run with; a child that reports another fails the benchmark. */
function checkThreshold(reported: unknown): void {
  if (reported === undefined) return; // a child workload without timedEngineLoad (none today)
  const env = { ...process.env, ...childEnv };
  const decision = childRestartDecision();
  const expected = decision.restart
    ? decision.env[MMAP_THRESHOLD_VARIABLE]
    : (env[MMAP_THRESHOLD_VARIABLE] ?? null);
  if (reported !== expected) {
    throw new Error(
      `an engine child ran with ${MMAP_THRESHOLD_VARIABLE}=${String(reported)}, not ${String(expected)} as "${childRestart()}" says`,
    );
  }
}

/** What every result line records about the run: settings, when, where, and the load before and after. */
function runContext(loadBefore: readonly number[]) {
  return {
    rowGroupBytes: rowGroupBytes > 0 ? rowGroupBytes : null,
    runtime,
    functionEnv: childSettings(),
    allocatorRestart: childRestart(),
    date: new Date().toISOString(),
    machine: machine(),
    usableCores: usableCores(),
    loadavg: { before: loadBefore, after: os.loadavg().map((l) => round(l, 2)) },
  };
}

/**
 * The files workload: a private moto_server holding the rows as CSV, JSON
 * Lines and Parquet; per format, alternating runs of DuckDB reading the local
 * file into Parquet (one thread, in this process) and of the engine's full
 * load of the object (a child).
 */
async function filesWorkload(args: Args) {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const work = await mkdtemp(join(os.tmpdir(), 'sluice-bench-files-'));
  const moto = await startMoto();
  try {
    const fixture = await prepareFiles(args.filesRows, work);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const duck = await DuckDBInstance.create(':memory:');
    const db = await duck.connect();
    await db.run('SET threads = 1');
    const formats: Record<string, unknown> = {};
    try {
      for (const format of FILE_FORMATS) {
        const duckSeconds: number[] = [];
        const duckCpu: number[] = [];
        const ours: FilesEngineRun[] = [];
        for (let i = 0; i < args.repeat; i++) {
          const duckRun = await timed(() =>
            db.run(duckdbCopy(format, fixture.paths[format], join(work, `duckdb-${format}.parquet`))),
          );
          duckSeconds.push(duckRun.seconds);
          duckCpu.push(duckRun.cpuSeconds);
          ours.push(await filesRunInChild(format, args.filesRows));
        }
        const seconds = median(ours.map((r) => r.seconds));
        const cpuSeconds = median(ours.map((r) => r.cpuSeconds));
        const duckdbCpuSeconds = median(duckCpu);
        formats[format] = {
          fileBytes: fixture.bytes[format],
          seconds: round(seconds),
          rowsPerSec: Math.round(args.filesRows / seconds),
          inputMbPerSec: round(fixture.bytes[format] / 2 ** 20 / seconds, 1),
          cpuSeconds: round(cpuSeconds),
          cpuMicrosPerRow: round((cpuSeconds / args.filesRows) * 1e6, 2),
          duckdbRowsPerSec: Math.round(args.filesRows / median(duckSeconds)),
          duckdbCpuSeconds: round(duckdbCpuSeconds),
          cpuRatio: round(duckdbCpuSeconds / cpuSeconds),
          peakRssMb: Math.round(Math.max(...ours.map((r) => r.maxRssMb))),
          rssRuns: ours.map((r) => Math.round(r.maxRssMb)),
          runs: ours.map((r) => round(r.seconds)),
          cpuRuns: ours.map((r) => round(r.cpuSeconds)),
          parquetBytes: ours[0]!.bytes,
        };
      }
    } finally {
      db.closeSync();
      duck.closeSync();
    }
    return { workload: 'files', rows: args.filesRows, formats, ...runContext(loadBefore) };
  } finally {
    moto.kill('SIGTERM');
    await rm(work, { recursive: true, force: true });
  }
}

/** The REST workload: a local API in this process, the engine's full loads of it in children. */
async function restWorkload(args: Args) {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const api = await startRestApi(args.restRows);
  try {
    const ours: RestEngineRun[] = [];
    for (let i = 0; i < args.repeat; i++) ours.push(await restRunInChild(api.url, args.restRows));
    const seconds = median(ours.map((r) => r.seconds));
    const cpuSeconds = median(ours.map((r) => r.cpuSeconds));
    return {
      workload: 'rest',
      rows: args.restRows,
      pageSize: 1000,
      apiJsonBytes: api.bytes,
      seconds: round(seconds),
      rowsPerSec: Math.round(args.restRows / seconds),
      cpuSeconds: round(cpuSeconds),
      cpuMicrosPerRow: round((cpuSeconds / args.restRows) * 1e6, 2),
      peakRssMb: Math.round(Math.max(...ours.map((r) => r.maxRssMb))),
      rssRuns: ours.map((r) => Math.round(r.maxRssMb)),
      runs: ours.map((r) => round(r.seconds)),
      cpuRuns: ours.map((r) => round(r.cpuSeconds)),
      parquetBytes: ours[0]!.bytes,
      parquetFiles: ours[0]!.files,
      ...runContext(loadBefore),
    };
  } finally {
    await api.close();
  }
}

/**
 * The PostgreSQL workload: a private server, a seeded table, then alternating
 * runs of the ceiling (binary COPY to /dev/null) and of the engine's full load.
 */
async function postgresWorkload(args: Args) {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const server = await startPostgres();
  try {
    const seedStarted = performance.now();
    await seedTable(server, args.pgRows);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const target = targetOf(server);
    const copies: CopyRun[] = [];
    const copyServerCpu: number[] = [];
    const ours: PgEngineRun[] = [];
    const oursServerCpu: number[] = [];
    const records: PgEngineRun[] = [];
    for (let i = 0; i < args.repeat; i++) {
      let before = await serverCpuSeconds(server);
      copies.push(await copyBinaryRun(target));
      copyServerCpu.push((await serverCpuSeconds(server)) - before);
      before = await serverCpuSeconds(server);
      ours.push(await postgresRunInChild(target, args.pgRows));
      oursServerCpu.push((await serverCpuSeconds(server)) - before);
      if (args.pgRecordPath) records.push(await postgresRunInChild(target, args.pgRows, false));
    }
    const recordSeconds = records.length > 0 ? median(records.map((r) => r.seconds)) : undefined;
    const recordCpu = records.length > 0 ? median(records.map((r) => r.cpuSeconds)) : undefined;
    const seconds = median(ours.map((r) => r.seconds));
    const copySeconds = median(copies.map((r) => r.seconds));
    const cpuSeconds = median(ours.map((r) => r.cpuSeconds));
    return {
      workload: 'postgres',
      rows: args.pgRows,
      columns: 16,
      seconds: round(seconds),
      rowsPerSec: Math.round(args.pgRows / seconds),
      cpuSeconds: round(cpuSeconds),
      cpuMicrosPerRow: round((cpuSeconds / args.pgRows) * 1e6, 2),
      cpuRowsPerSec: Math.round(args.pgRows / cpuSeconds),
      serverCpuSeconds: round(median(oursServerCpu)),
      peakRssMb: Math.round(Math.max(...ours.map((r) => r.maxRssMb))),
      copyBinarySeconds: round(copySeconds),
      copyBinaryRowsPerSec: Math.round(args.pgRows / copySeconds),
      copyBinaryClientCpuSeconds: round(median(copies.map((r) => r.clientCpuSeconds))),
      copyBinaryServerCpuSeconds: round(median(copyServerCpu)),
      ratioToCopy: round(copySeconds / seconds),
      // The same load with the columnar fast path off (`--pg-record-path`), in the same run.
      recordPath:
        recordSeconds === undefined || recordCpu === undefined
          ? null
          : {
              seconds: round(recordSeconds),
              rowsPerSec: Math.round(args.pgRows / recordSeconds),
              cpuSeconds: round(recordCpu),
              cpuRowsPerSec: Math.round(args.pgRows / recordCpu),
              peakRssMb: Math.round(Math.max(...records.map((r) => r.maxRssMb))),
              runs: records.map((r) => round(r.seconds)),
              cpuRuns: records.map((r) => round(r.cpuSeconds)),
            },
      runs: ours.map((r) => round(r.seconds)),
      cpuRuns: ours.map((r) => round(r.cpuSeconds)),
      rssRuns: ours.map((r) => Math.round(r.maxRssMb)),
      copyRuns: copies.map((r) => round(r.seconds)),
      parquetBytes: ours[0]!.bytes,
      parquetFiles: ours[0]!.files,
      seedSeconds: round(seedSeconds),
      ...runContext(loadBefore),
    };
  } finally {
    await server.stop();
  }
}

/** The synthetic workload: the engine against DuckDB's `read_json` → Parquet on one thread. */
async function engineWorkload(args: Args) {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const work = await mkdtemp(join(os.tmpdir(), 'sluice-bench-duckdb-'));
  try {
    const ndjson = join(work, 'rows.ndjson');
    await writeNdjson(ndjson, args.rows);
    // Imported here: a child process (the engine alone) must not load DuckDB's native library.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const duck = await DuckDBInstance.create(':memory:');
    const db = await duck.connect();
    await db.run('SET threads = 1');
    const duckParquet = join(work, 'duckdb.parquet');
    const duckSeconds: number[] = [];
    const duckCpuSeconds: number[] = [];
    const ours: EngineRun[] = [];
    const sliced: EngineRun[] = [];
    for (let i = 0; i < args.repeat; i++) {
      const duckRun = await timed(() =>
        db.run(`COPY (SELECT * FROM read_json('${ndjson}')) TO '${duckParquet}' (FORMAT parquet)`),
      );
      duckSeconds.push(duckRun.seconds);
      duckCpuSeconds.push(duckRun.cpuSeconds);
      ours.push(await engineRunInChild(args.rows, 0, true));
      if (args.sliceSeconds > 0) sliced.push(await engineRunInChild(args.rows, args.sliceSeconds));
    }
    const landed = (
      await db.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${duckParquet}')`)
    ).getRows();
    if (Number(landed[0]?.[0]) !== args.rows) throw new Error('DuckDB landed a different number of rows');
    const duckdbParquetBytes = (await stat(duckParquet)).size;
    db.closeSync();
    duck.closeSync();

    const bigs: EngineRun[] = [];
    for (let i = 0; args.rows10m > 0 && i < args.repeat10m; i++)
      bigs.push(await engineRunInChild(args.rows10m));
    // Medians over --repeat-10m runs; rss10MRuns shows the spread (peak RSS varies with V8's old-space growth).
    const big =
      bigs.length === 0
        ? undefined
        : {
            maxRssMb: median(bigs.map((r) => r.maxRssMb)),
            seconds: median(bigs.map((r) => r.seconds)),
            cpuSeconds: median(bigs.map((r) => r.cpuSeconds)),
          };
    const seconds = median(ours.map((r) => r.seconds));
    const rowsPerSec = args.rows / seconds;
    const duckdbRowsPerSec = args.rows / median(duckSeconds);
    const peakRssMb = Math.max(...ours.map((r) => r.maxRssMb));
    const cpuSeconds = median(ours.map((r) => r.cpuSeconds));
    const duckdbCpuSeconds = median(duckCpuSeconds);
    const warm = ours.map((r) => r.warm!);
    const warmSeconds = median(warm.map((w) => w.seconds));
    const warmCpuSeconds = median(warm.map((w) => w.cpuSeconds));
    return {
      workload: 'engine',
      rows: args.rows,
      seconds: round(seconds),
      rowsPerSec: Math.round(rowsPerSec),
      duckdbRowsPerSec: Math.round(duckdbRowsPerSec),
      ratio: round(rowsPerSec / duckdbRowsPerSec),
      // CPU efficiency against DuckDB: its CPU-s over ours (goal ≥ 0.5, i.e. at most 2× its CPU per row).
      cpuRatio: round(duckdbCpuSeconds / cpuSeconds),
      peakRssMb: Math.round(peakRssMb),
      rssRuns: ours.map((r) => Math.round(r.maxRssMb)),
      peakRssMb10M: big === undefined ? null : Math.round(big.maxRssMb),
      // The goal is on the peak: the highest of the big runs beside their median.
      maxPeakRssMb10M: bigs.length === 0 ? null : Math.round(Math.max(...bigs.map((r) => r.maxRssMb))),
      rss10MRatio: big === undefined ? null : round(big.maxRssMb / peakRssMb),
      rowsPerSec10M: big === undefined ? null : Math.round(args.rows10m / big.seconds),
      cpuSeconds10M: big === undefined ? null : round(big.cpuSeconds),
      rows10M: big === undefined ? null : args.rows10m,
      rss10MRuns: bigs.map((r) => Math.round(r.maxRssMb)),
      cpuSeconds10MRuns: bigs.map((r) => round(r.cpuSeconds)),
      // The same run in slices of --slice-seconds (goal: within 5% of the one-slice rows/s).
      sliceSeconds: args.sliceSeconds > 0 ? args.sliceSeconds : null,
      slicedRowsPerSec:
        sliced.length > 0 ? Math.round(args.rows / median(sliced.map((r) => r.seconds))) : null,
      slicedRatio: sliced.length > 0 ? round(seconds / median(sliced.map((r) => r.seconds))) : null,
      slicedSlices: sliced.length > 0 ? median(sliced.map((r) => r.slices)) : null,
      slicedRuns: sliced.map((r) => round(r.seconds)),
      cpuSeconds: round(cpuSeconds),
      duckdbCpuSeconds: round(duckdbCpuSeconds),
      cpuMicrosPerRow: round((cpuSeconds / args.rows) * 1e6, 2),
      duckdbCpuMicrosPerRow: round((duckdbCpuSeconds / args.rows) * 1e6, 2),
      // The second load in each child (as a warm Lambda container): per-row cost without start-up.
      warmRowsPerSec: Math.round(args.rows / warmSeconds),
      warmCpuSeconds: round(warmCpuSeconds),
      warmCpuRatio: round(duckdbCpuSeconds / warmCpuSeconds),
      warmCpuRuns: warm.map((w) => round(w.cpuSeconds)),
      runs: ours.map((r) => round(r.seconds)),
      cpuRuns: ours.map((r) => round(r.cpuSeconds)),
      duckdbRuns: duckSeconds.map((s) => round(s)),
      parquetBytes: ours[0]!.bytes,
      parquetFiles: ours[0]!.files,
      duckdbParquetBytes,
      ...runContext(loadBefore),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
