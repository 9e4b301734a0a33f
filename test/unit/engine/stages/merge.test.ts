import { afterEach, describe, expect, it } from 'vitest';
import { sampleConnector } from '../../../../connectors/sample/index.js';
import { silentLogger } from '../../../../connectors/sdk/logger.js';
import type { RunRecord } from '../../../../engine/ports.js';
import { STAGES, type StageDeclaration } from '../../../../engine/stages/declarations.js';
import { runStages, type StagePhase } from '../../../../engine/stages/runner.js';
import { expectedCurrent } from '../../../support/current-oracle.js';
import { openTestLake, SAMPLE_CONFIG, sampleSource, type TestLake } from '../../../support/lake.js';

const FAST: readonly StageDeclaration[] = STAGES.map((s) => ({
  ...s,
  retry: { ...s.retry, intervalMs: 1, maxDelayMs: 5 },
}));
const ONCE: readonly StageDeclaration[] = FAST.map((s) => ({ ...s, retry: { ...s.retry, maxAttempts: 1 } }));

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
  lake = undefined;
});

/** What runStages needs, from the test lake. */
function stageDeps(l: TestLake) {
  const b = l.backend;
  return {
    objects: b.objects,
    state: b.state,
    catalog: b.catalog,
    logger: silentLogger,
    openQueryEngine: () => b.openQueryEngine(),
  };
}

async function stages(
  l: TestLake,
  list: readonly StageDeclaration[] = FAST,
  onPhase?: (phase: StagePhase, detail: { stage: string; table?: string }) => void,
): Promise<RunRecord> {
  return runStages(stageDeps(l), {
    source: sampleSource(),
    streams: await sampleConnector.streams(SAMPLE_CONFIG),
    stages: list,
    ...(onPhase ? { onPhase } : {}),
  });
}

/** `current` of a stream as rows by id, and the expected rows computed from raw. */
async function compare(l: TestLake, stream: string): Promise<{ actual: unknown[]; expected: unknown[] }> {
  const engine = await l.backend.openQueryEngine();
  try {
    const oracle = await expectedCurrent(l.backend.objects, engine, {
      source: 'shop',
      stream,
      key: 'id',
      cursor: 'updated_at',
    });
    const { rows } = await engine.query(`SELECT * FROM shop__${stream}__current ORDER BY id`);
    const pick = (r: Record<string, unknown>) => ({
      id: r.id,
      updated_at: r.updated_at,
      status: r.status ?? null,
      amount: r.amount ?? null,
      tier: r.tier ?? null,
      run: r._sluice_run_id,
    });
    const expected = [...oracle.values()].sort((a, b) => Number(a.id) - Number(b.id)).map(pick);
    return { actual: rows.map(pick), expected };
  } finally {
    await engine.close();
  }
}

describe('merge into current (DuckDB)', () => {
  it('holds the newest version per key with deletes applied when synced twice', async () => {
    // Prepare
    lake = await openTestLake();
    await lake.sync();
    const first = await stages(lake);
    await lake.sync();

    // Act
    const second = await stages(lake);

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    expect(second.stages?.map((s) => [s.name, s.status])).toEqual([
      ['catalog', 'SUCCEEDED'],
      ['quality', 'SUCCEEDED'],
      ['merge', 'SUCCEEDED'],
      ['models', 'SUCCEEDED'],
    ]);
    for (const stream of ['orders', 'customers']) {
      const { actual, expected } = await compare(lake, stream);
      expect(actual.length).toBeGreaterThan(0);
      expect(actual).toEqual(expected);
    }
    const deleted = await lake.query(
      `SELECT count(*) AS n FROM shop.orders WHERE _sluice_deleted AND id IN (SELECT id FROM shop__orders__current)`,
    );
    expect(deleted[0]!.n).toBe(0);
    const tombstones = await lake.query(`SELECT count(*) AS n FROM shop.orders WHERE _sluice_deleted`);
    expect(Number(tombstones[0]!.n)).toBeGreaterThan(0);
  });

  it('never promotes the rows of a run whose error quality check failed, also not with a later run', async () => {
    // Prepare: the first sync fails an `error` check; the second passes (its source declares none).
    const strict = {
      ...sampleSource(),
      quality: { orders: [{ type: 'accepted_values', column: 'status', values: ['nope'] }] },
    } as unknown as ReturnType<typeof sampleSource>;
    lake = await openTestLake(strict);
    const deps = stageDeps(lake);
    const streams = await sampleConnector.streams(SAMPLE_CONFIG);
    const first = await lake.sync();
    const failed = await runStages(deps, { source: strict, streams, stages: FAST, runId: first.runId });
    const second = await lake.sync();

    // Act
    const passed = await runStages(deps, {
      source: sampleSource(),
      streams,
      stages: FAST,
      runId: second.runId,
    });

    // Assess
    expect(failed.status).toBe('QUALITY_FAILED');
    expect(passed.status).toBe('SUCCEEDED');
    const rows = await lake.query(
      `SELECT _sluice_run_id AS run, count(*) AS n FROM shop__orders__current GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => r.run)).toEqual([second.runId]);
  });

  it('leaves the files of a sync that started after the run to that run’s own stages', async () => {
    // Prepare: a second sync lands before the first run's stages merge (the lease is free between them).
    lake = await openTestLake();
    const deps = stageDeps(lake);
    const streams = await sampleConnector.streams(SAMPLE_CONFIG);
    const first = await lake.sync();
    const second = await lake.sync();

    // Act
    await runStages(deps, { source: sampleSource(), streams, stages: FAST, runId: first.runId });
    const afterFirst = await lake.query('SELECT DISTINCT _sluice_run_id AS run FROM shop__orders__current');
    await runStages(deps, { source: sampleSource(), streams, stages: FAST, runId: second.runId });
    const afterSecond = await lake.query(
      'SELECT DISTINCT _sluice_run_id AS run FROM shop__orders__current ORDER BY 1',
    );

    // Assess
    expect(afterFirst.map((r) => r.run)).toEqual([first.runId]);
    expect(afterSecond.map((r) => r.run)).toEqual([first.runId, second.runId]);
  });

  it('reads only the files committed since the last merge', async () => {
    // Prepare
    lake = await openTestLake();
    await lake.sync();
    await stages(lake);
    await lake.sync();

    // Act
    const second = await stages(lake);
    const again = await stages(lake);

    // Assess
    const merged = second.stages?.find((s) => s.name === 'merge')?.detail ?? [];
    const files = (await lake.backend.objects.list('_manifests/shop/committed/')).length;
    expect(files).toBe(2);
    expect(merged.some((d) => d.startsWith('shop__orders__current:'))).toBe(true);
    expect(again.stages?.find((s) => s.name === 'merge')?.detail).toBeUndefined();
  });

  const boundaries: readonly { phase: StagePhase; stage?: string }[] = [
    { phase: 'stage-started', stage: 'merge' },
    { phase: 'merge-applied' },
    { phase: 'watermark-advanced' },
    { phase: 'stage-succeeded', stage: 'merge' },
  ];
  for (const boundary of boundaries) {
    it(`leaves the same current when the merge dies at ${boundary.phase} and runs again`, async () => {
      // Prepare
      lake = await openTestLake();
      await lake.sync();
      await stages(lake);
      await lake.sync();
      let fired = false;

      // Act
      const failed = await stages(lake, ONCE, (phase, detail) => {
        if (
          !fired &&
          phase === boundary.phase &&
          (boundary.stage === undefined || detail.stage === boundary.stage)
        ) {
          fired = true;
          throw new Error(`injected crash at ${phase}`);
        }
      });
      const rerun = await stages(lake);

      // Assess
      expect(fired).toBe(true);
      expect(failed.status).toBe('FAILED');
      expect(failed.error).toContain(`injected crash at ${boundary.phase}`);
      expect(rerun.status).toBe('SUCCEEDED');
      for (const stream of ['orders', 'customers']) {
        const { actual, expected } = await compare(lake, stream);
        expect(actual).toEqual(expected);
      }
    });
  }

  it('succeeds with the same current when the merge fails twice and is retried', async () => {
    // Prepare
    lake = await openTestLake();
    await lake.sync();
    await lake.sync();
    let failures = 0;

    // Act
    const run = await stages(lake, FAST, (phase) => {
      if (phase === 'merge-applied' && failures < 2) {
        failures++;
        throw new Error('injected transient failure');
      }
    });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages?.find((s) => s.name === 'merge')?.attempts).toBe(3);
    for (const stream of ['orders', 'customers']) {
      const { actual, expected } = await compare(lake, stream);
      expect(actual).toEqual(expected);
    }
  });

  it('marks the run FAILED naming the stage when the retries run out', async () => {
    // Prepare
    lake = await openTestLake();
    await lake.sync();

    // Act
    const run = await stages(lake, FAST, (phase) => {
      if (phase === 'merge-applied') throw new Error('engine down');
    });

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('stage merge failed after 3 attempts: engine down');
    const stored = await lake.backend.state.getRun('shop', run.runId);
    expect(stored?.status).toBe('FAILED');
  });
});
