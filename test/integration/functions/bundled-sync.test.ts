/**
 * The sync handler as `cdk deploy` ships it: bundled with the project's
 * esbuild options, copied into an empty directory (no node_modules), run in
 * a fresh Node process against the emulator through a real sample sync. It
 * must load the Parquet worker and parquet-wasm's `.wasm` from beside the
 * bundle and land exactly what the engine lands when run from the sources.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONE_VCPU_MB, parquetFunctionEnvironment } from '../../../infra/parquet-function-environment.js';
import { type BuiltHandler, buildHandler } from '../../support/bundle.js';
import { emulatorEnv, type HandlerRun, runBundledHandler } from '../../support/handler-runner.js';
import { type AwsTestLake, landedSampleRows, openAwsTestLake } from '../aws/lake.js';

/** begin → one slice (the 15-minute budget fits the sample) → finish, as the state machine sends them. */
function syncSteps(source: string, runId: string): Record<string, unknown>[] {
  return [
    { action: 'begin', source, runId },
    { action: 'slice', source, runId, checkpoint: { source, runId, slice: 0, done: false } },
    { action: 'finish', source, runId, checkpoint: { source, runId, slice: 1, done: true } },
  ];
}

/** What the deployed sync function's environment holds for `lake`, with `parquet`'s variables. */
function syncEnv(lake: AwsTestLake, parquet: Record<string, string>): Record<string, string> {
  return {
    ...emulatorEnv(),
    SLUICE_BUCKET: lake.names.bucket,
    SLUICE_TABLE: lake.names.table,
    SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
    SLUICE_LAKE_PREFIX: lake.names.prefix,
    POWERTOOLS_SERVICE_NAME: 'sluice-sync',
    ...parquet,
  };
}

describe('the bundled sync handler', () => {
  let built: BuiltHandler;
  let lake: AwsTestLake;
  let reference: AwsTestLake;
  let run: HandlerRun;

  beforeAll(async () => {
    built = buildHandler('functions/sync/index.ts', { parquet: true });
    [lake, reference] = await Promise.all([openAwsTestLake(), openAwsTestLake()]);
    run = await runBundledHandler(
      built.dir,
      ['bundled-run-1', 'bundled-run-2'].flatMap((runId) => syncSteps('shop', runId)),
      // As deployed above one vCPU; the thread is forced, since a one-core CI machine would pick inline.
      syncEnv(lake, { ...parquetFunctionEnvironment(2 * ONE_VCPU_MB), SLUICE_PARQUET_ENCODER: 'thread' }),
    );
    await reference.sync();
    await reference.sync();
  }, 240_000);

  afterAll(() => built?.remove());

  it('ships only the bundle, the encoder worker and the wasm, without DuckDB or the CLI', () => {
    expect(Object.keys(built.files).sort()).toEqual([
      'index.mjs',
      'parquet-worker.cjs',
      'parquet_wasm_bg.wasm',
    ]);
    const bundle = readFileSync(join(built.dir, 'index.mjs'), 'utf8');
    expect(bundle).not.toMatch(/duckdb/i);
    expect(bundle).not.toContain('commander');
  });

  it('syncs twice in one container, landing Parquet on the encoder thread', () => {
    // Assess
    expect(run.invocations.map((i) => i.ok)).toEqual([true, true, true, true, true, true]);
    expect(run.invocations[1]!.result).toMatchObject({ done: true, checkpoint: { slice: 1, done: true } });
    const first = run.invocations[2]!.result as {
      status: string;
      rows: number;
      files: number;
      done: boolean;
    };
    expect(first).toMatchObject({ status: 'SUCCEEDED', done: true });
    expect(first.rows).toBeGreaterThan(0);
    expect(first.files).toBeGreaterThan(0);
    expect(run.stdout + run.stderr).not.toContain('did not warm up');
    expect(run.invocations[5]!.result).toMatchObject({
      runId: 'bundled-run-2',
      status: 'SUCCEEDED',
      done: true,
    });
  });

  it('lands the same rows as the engine run from its sources', async () => {
    expect(await landedSampleRows(lake)).toEqual(await landedSampleRows(reference));
  });

  it('writes files that start and end with the Parquet magic', async () => {
    const raw = await lake.backend.objects.list('raw/shop/');
    expect(raw.length).toBeGreaterThan(0);
    const bytes = (await lake.backend.objects.get(raw[0]!.key))!;
    const text = new TextDecoder();
    expect(text.decode(bytes.slice(0, 4))).toBe('PAR1');
    expect(text.decode(bytes.slice(-4))).toBe('PAR1');
  });
});

describe('the bundled sync handler as deployed at 1,769 MB (encoding inline, glibc mmap threshold fixed)', () => {
  let built: BuiltHandler;
  let lake: AwsTestLake;
  let reference: AwsTestLake;
  let run: HandlerRun;

  beforeAll(async () => {
    built = buildHandler('functions/sync/index.ts', { parquet: true });
    // Without the worker file a handler that started the thread would log that its encoder did not warm up.
    rmSync(join(built.dir, 'parquet-worker.cjs'));
    [lake, reference] = await Promise.all([openAwsTestLake(), openAwsTestLake()]);
    run = await runBundledHandler(
      built.dir,
      syncSteps('shop', 'inline-run-1'),
      syncEnv(lake, parquetFunctionEnvironment(ONE_VCPU_MB)),
    );
    await reference.sync();
  }, 240_000);

  afterAll(() => built?.remove());

  it('warms parquet-wasm from beside the bundle and lands the rows the engine lands from its sources', async () => {
    expect(run.invocations.map((i) => i.ok)).toEqual([true, true, true]);
    expect(run.invocations[2]!.result).toMatchObject({ status: 'SUCCEEDED', done: true });
    expect(run.stdout + run.stderr).not.toContain('did not warm up');
    expect(await landedSampleRows(lake)).toEqual(await landedSampleRows(reference));
  });
});
