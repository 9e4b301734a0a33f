/**
 * Per Lambda handler, as `cdk deploy` ships it (test/support/bundle.ts):
 * bundle size, cold import time (a fresh Node process importing index.mjs,
 * median of N) and peak RSS after one real invocation against moto. The
 * sync handler lands the sample source (20,000 orders) in the same process,
 * with the environment SluiceFunction gives a Parquet function of 1,769 MB.
 *
 *   npx tsx bench/handlers.ts [--repeat 5] [--rows 20000] [--no-save]
 *
 * Writes bench/results/<date>-handlers.json.
 */
import { writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ONE_VCPU_MB, parquetFunctionEnvironment } from '../infra/parquet-function-environment.js';
import { type AwsTestLake, openAwsTestLake, sampleSource } from '../test/integration/aws/lake.js';
import { buildHandler } from '../test/support/bundle.js';
import { emulatorEnv, runBundledHandler } from '../test/support/handler-runner.js';
import { startMoto } from './moto.js';
import { nodeMajorSuffix } from './node-major.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '5' },
    rows: { type: 'string', default: '20000' },
    'no-save': { type: 'boolean', default: false },
  },
});
const repeat = Number(values.repeat);
/** What SluiceFunction adds to a Parquet handler at its default memory (one vCPU). */
const PARQUET_ENVIRONMENT = parquetFunctionEnvironment(ONE_VCPU_MB);
const rows = Number(values.rows);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface HandlerFigures {
  readonly entry: string;
  readonly files: Readonly<Record<string, number>>;
  readonly totalBytes: number;
  readonly coldImportMsMedian: number;
  /** The least disturbed run: on a loaded machine the best estimate of the handler's own cost. */
  readonly coldImportMsMin: number;
  readonly coldImportMsAll: number[];
  /** CPU time of the import (user + system): what the import itself costs, whatever the machine's load. */
  readonly coldImportCpuMsMedian: number;
  readonly coldImportCpuMsMin: number;
  /** Every event in one warm process (for sync: begin, slice, finish); `ms` is their sum. */
  readonly invocation: { readonly event: unknown; readonly ms: number; readonly ok: boolean };
  readonly peakRssMb: number;
}

async function measure(
  entry: string,
  parquet: boolean,
  events: (lake: AwsTestLake) => unknown[],
  lake: AwsTestLake,
  env: Record<string, string>,
): Promise<HandlerFigures> {
  const built = buildHandler(entry, { parquet });
  const runEnv = parquet ? { ...env, ...PARQUET_ENVIRONMENT } : env;
  try {
    const imports: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const cold = await runBundledHandler(built.dir, [], runEnv);
      imports.push(cold.importMs);
      cpu.push(cold.importCpuMs);
    }
    const list = events(lake);
    const run = await runBundledHandler(built.dir, list, runEnv);
    return {
      entry,
      files: built.files,
      totalBytes: Object.values(built.files).reduce((a, b) => a + b, 0),
      coldImportMsMedian: Math.round(median(imports)),
      coldImportMsMin: Math.round(Math.min(...imports)),
      coldImportMsAll: imports.map(Math.round),
      coldImportCpuMsMedian: Math.round(median(cpu)),
      coldImportCpuMsMin: Math.round(Math.min(...cpu)),
      invocation: {
        event: list.length === 1 ? list[0] : list,
        ms: Math.round(run.invocations.reduce((sum, i) => sum + i.ms, 0)),
        ok: run.invocations.every((i) => i.ok),
      },
      peakRssMb: Math.round(run.maxRssKb / 1024),
    };
  } finally {
    built.remove();
  }
}

const moto = await startMoto();
try {
  const lake = await openAwsTestLake({ source: sampleSource('shop', { rows, seed: 7, pageSize: 1000 }) });
  const env = {
    ...emulatorEnv(),
    SLUICE_BUCKET: lake.names.bucket,
    SLUICE_TABLE: lake.names.table,
    SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
    SLUICE_LAKE_PREFIX: lake.names.prefix,
    SLUICE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:bench',
    SLUICE_SCHEDULER_GROUP: 'bench',
    SLUICE_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/bench',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
  const apiEvent = {
    version: '2.0',
    rawPath: '/sources/shop',
    headers: {},
    requestContext: { http: { method: 'GET' }, requestId: 'bench' },
    isBase64Encoded: false,
  };
  const handlers = {
    api: await measure('functions/api/index.ts', false, () => [apiEvent], lake, env),
    sync: await measure(
      'functions/sync/index.ts',
      true,
      () => [
        { action: 'begin', source: 'shop', runId: 'bench-run-1' },
        {
          action: 'slice',
          source: 'shop',
          runId: 'bench-run-1',
          checkpoint: { source: 'shop', runId: 'bench-run-1', slice: 0, done: false },
        },
        {
          action: 'finish',
          source: 'shop',
          runId: 'bench-run-1',
          checkpoint: { source: 'shop', runId: 'bench-run-1', slice: 1, done: true },
        },
      ],
      lake,
      env,
    ),
    stages: await measure(
      'functions/stages/index.ts',
      false,
      () => [{ stage: 'catalog', source: 'shop', runId: 'bench-run-1' }],
      lake,
      env,
    ),
  };
  const result = {
    date: new Date().toISOString(),
    machine: {
      platform: platform(),
      arch: arch(),
      cpus: cpus().length,
      node: process.version,
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
    },
    note: 'Shared 2-core dev machine; Lambda on arm64 with 1,769 MB (1 vCPU) differs. Import = fresh process importing index.mjs; wall time (ms) swings with the load average, CPU time (cpuMs) much less.',
    repeat,
    sampleRows: rows,
    // What the handlers bundled with the Parquet encoder (sync) ran with besides the emulator's variables.
    parquetEnvironment: PARQUET_ENVIRONMENT,
    handlers,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!values['no-save']) {
    const path = join(
      import.meta.dirname,
      'results',
      `${result.date.slice(0, 10)}-handlers${nodeMajorSuffix()}.json`,
    );
    writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`wrote ${path}\n`);
  }
} finally {
  moto.kill('SIGTERM');
}
