/**
 * The per-stage entry point (`runStage`, what the stages Lambda calls) with
 * the local adapters, driven the way the state machine drives it: each
 * declared stage in order, one attempt per call, retried as its declaration
 * says, a fatal error or the last failed attempt going to
 * `recordStageFailure`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sampleConnector } from '../../../../connectors/sample/index.js';
import { silentLogger } from '../../../../connectors/sdk/logger.js';
import { ValidationError } from '../../../../engine/errors.js';
import type { RunRecord } from '../../../../engine/ports.js';
import { STAGES, type StageDeclaration } from '../../../../engine/stages/declarations.js';
import { QualityFailedError } from '../../../../engine/stages/errors.js';
import {
  isRetryable,
  recordStageFailure,
  runStage,
  type StageDeps,
  type StagePhase,
  type StagePhaseDetail,
} from '../../../../engine/stages/runner.js';
import { expectedCurrent } from '../../../support/current-oracle.js';
import { openTestLake, SAMPLE_CONFIG, sampleSource, type TestLake } from '../../../support/lake.js';

const CONFIG = { ...SAMPLE_CONFIG, rows: 600 };

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
  lake = undefined;
});

function deps(l: TestLake): StageDeps {
  const b = l.backend;
  return {
    objects: b.objects,
    state: b.state,
    catalog: b.catalog,
    logger: silentLogger,
    openQueryEngine: () => b.openQueryEngine(),
  };
}

type OnPhase = (phase: StagePhase, detail: StagePhaseDetail) => void;

/** The state machine's part, without waits: one `runStage` call per attempt, then the catch path. */
async function asStepFunctions(l: TestLake, runId: string, onPhase?: OnPhase): Promise<RunRecord> {
  const streams = await sampleConnector.streams(CONFIG);
  for (const stage of STAGES) {
    for (let attempt = 1; ; attempt++) {
      try {
        await runStage(deps(l), {
          source: sampleSource(),
          streams,
          runId,
          stage: stage.name,
          attempt,
          ...(onPhase ? { onPhase } : {}),
        });
        break;
      } catch (error) {
        if (isRetryable(error) && attempt < stage.retry.maxAttempts) continue;
        return recordStageFailure(deps(l), {
          source: 'shop',
          runId,
          error: (error as Error).message,
          qualityFailed: error instanceof QualityFailedError,
        });
      }
    }
  }
  const run = await l.backend.state.getRun('shop', runId);
  if (!run) throw new Error(`run ${runId} is not recorded`);
  return run;
}

async function currentMatchesRaw(l: TestLake): Promise<void> {
  const engine = await l.backend.openQueryEngine();
  try {
    for (const stream of ['orders', 'customers']) {
      const oracle = await expectedCurrent(l.backend.objects, engine, {
        source: 'shop',
        stream,
        key: 'id',
        cursor: 'updated_at',
      });
      const pick = (r: Record<string, unknown>) => ({
        id: r.id,
        updated_at: r.updated_at,
        status: r.status ?? null,
        run: r._sluice_run_id,
      });
      const { rows } = await engine.query(`SELECT * FROM shop__${stream}__current ORDER BY id`);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.map(pick)).toEqual(
        [...oracle.values()].sort((a, b) => Number(a.id) - Number(b.id)).map(pick),
      );
    }
  } finally {
    await engine.close();
  }
}

/** Two syncs, the stages after each; `onPhase` only for the second run's stages. */
async function twoRuns(onPhase?: OnPhase): Promise<RunRecord> {
  lake = await openTestLake(sampleSource(), undefined, CONFIG);
  const first = await lake.sync();
  expect((await asStepFunctions(lake, first.runId)).status).toBe('SUCCEEDED');
  const second = await lake.sync();
  return asStepFunctions(lake, second.runId, onPhase);
}

describe('runStage (one stage, one attempt)', () => {
  it('runs the list stage by stage and records the run SUCCEEDED after the last', async () => {
    // Act
    const run = await twoRuns();

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.error).toBeUndefined();
    expect(run.stages?.map((s) => [s.name, s.status, s.attempts])).toEqual(
      STAGES.map((s) => [s.name, 'SUCCEEDED', 1]),
    );
    await currentMatchesRaw(lake!);
  });

  it('leaves the same current and records three attempts when the merge fails twice', async () => {
    // Prepare
    let failures = 0;

    // Act
    const run = await twoRuns((phase) => {
      if (phase === 'merge-applied' && failures < 2) {
        failures++;
        throw new Error('injected transient failure');
      }
    });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages?.find((s) => s.name === 'merge')).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
    await currentMatchesRaw(lake!);
  });

  const boundaries: readonly { phase: StagePhase; stage?: string }[] = [
    ...STAGES.flatMap((s: StageDeclaration) => [
      { phase: 'stage-started' as const, stage: s.name },
      { phase: 'stage-succeeded' as const, stage: s.name },
    ]),
    { phase: 'merge-applied' },
    { phase: 'watermark-advanced' },
  ];
  for (const boundary of boundaries) {
    const where = `${boundary.phase}${boundary.stage ? ` of ${boundary.stage}` : ''}`;
    it(`leaves the same current when an attempt dies at ${where} and is retried`, async () => {
      // Prepare
      let fired = false;

      // Act
      const run = await twoRuns((phase, detail) => {
        if (!fired && phase === boundary.phase && (boundary.stage ?? detail.stage) === detail.stage) {
          fired = true;
          throw new Error(`injected crash at ${where}`);
        }
      });

      // Assess
      expect(fired).toBe(true);
      expect(run.status).toBe('SUCCEEDED');
      const retried = run.stages?.find((s) => s.attempts === 2);
      expect(retried?.name).toBe(boundary.stage ?? 'merge');
      await currentMatchesRaw(lake!);
    });
  }

  it('marks the run FAILED naming the stage and its attempts when the retries run out', async () => {
    // Act
    const run = await twoRuns((phase) => {
      if (phase === 'watermark-advanced') throw new Error('engine down');
    });

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('stage merge failed after 3 attempts: engine down');
    expect(run.stages?.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['catalog', 'SUCCEEDED', 1],
      ['quality', 'SUCCEEDED', 1],
      ['merge', 'FAILED', 3],
      ['models', 'SKIPPED', 0],
    ]);
  });

  it('refuses a stage the list does not declare, naming the known ones', async () => {
    // Prepare
    lake = await openTestLake(sampleSource(), undefined, CONFIG);
    const run = await lake.sync();

    // Act
    const attempt = runStage(deps(lake), {
      source: sampleSource(),
      streams: await sampleConnector.streams(CONFIG),
      runId: run.runId,
      stage: 'dedupe',
    });

    // Assess
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow('"dedupe" is not a stage (known: catalog, quality, merge, models)');
  });
});
