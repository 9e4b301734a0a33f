/**
 * Runs in slices on the local backend: a run forced into tiny slices lands
 * what a one-slice run lands; a failure or a SIGKILL between slices or inside
 * a slice's publish loses at most that slice, a killed or interrupted run is
 * continued by the next sync, and run records count only what was published.
 */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleConnector } from '../../../connectors/sample/index.js';
import type { Connector, Stream } from '../../../connectors/sdk/types.js';
import { ReadOrder, ResumeUnavailableError } from '../../../connectors/sdk/types.js';
import { RunInterruptedError } from '../../../engine/sync.js';
import { failAt } from '../../support/fault-points.js';
import {
  landedSampleRows,
  openTestLake,
  SAMPLE_CONFIG,
  sampleSource,
  type TestLake,
} from '../../support/lake.js';
import { SLICE_FAULT_POINTS, SLICE_ROWS } from '../../support/slice-fault-points.js';

const lakes: TestLake[] = [];
async function lake(connector?: Connector<never>): Promise<TestLake> {
  const opened = await openTestLake(sampleSource(), connector);
  lakes.push(opened);
  return opened;
}
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

const references = new Map<string, Promise<string[]>>();
/**
 * What a lake that never failed holds after `commits` one-slice runs, and
 * then `customersAgain` runs of the customers stream alone (a stream a failed
 * run had completed is a sync ahead of the others).
 */
function reference(commits: number, customersAgain = 0): Promise<string[]> {
  const id = `${commits}+${customersAgain}`;
  let rows = references.get(id);
  if (!rows) {
    rows = (async () => {
      const clean = await openTestLake();
      try {
        for (let i = 0; i < commits; i++) await clean.sync();
        for (let i = 0; i < customersAgain; i++) await clean.sync({ streams: ['customers'] });
        return await landedSampleRows(clean);
      } finally {
        await clean.dispose();
      }
    })();
    references.set(id, rows);
  }
  return rows;
}

async function leftovers(l: TestLake): Promise<string[]> {
  const staged = await l.backend.objects.list('_staging/');
  const pending = await l.backend.objects.list('_manifests/shop/pending/');
  const runs = await l.backend.objects.list('_runs/');
  return [...staged, ...pending, ...runs].map((o) => o.key);
}

/** Each run's recorded rows next to the rows of that run in the lake. */
async function recordedVersusLanded(l: TestLake): Promise<{ recorded: number[]; landed: number[] }> {
  const runs = await l.backend.state.listRuns('shop');
  const landed: number[] = [];
  for (const run of runs) {
    const rows = await l.query(`
      SELECT (SELECT count(*) FROM shop.orders WHERE _sluice_run_id = '${run.runId}')
           + (SELECT count(*) FROM shop.customers WHERE _sluice_run_id = '${run.runId}')
           + (SELECT count(*) FROM shop.events WHERE _sluice_run_id = '${run.runId}') AS n`);
    landed.push(Number(rows[0]!.n));
  }
  const recorded = runs.map((r) => Object.values(r.streams).reduce((sum, s) => sum + s.rows, 0));
  return { recorded, landed };
}

/** The sample connector with its streams' read order replaced, and resumes refused when asked. */
function variant(order: ReadOrder, refuseResume: { remaining: number }): Connector<never> {
  return {
    ...(sampleConnector as Connector<never>),
    streams: async (config: never) =>
      ((await sampleConnector.streams(config)) as Stream[]).map((stream) => ({
        ...stream,
        order,
        read: (ctx) => {
          if (ctx.resumeFrom !== undefined && refuseResume.remaining > 0) {
            refuseResume.remaining--;
            return (async function* () {
              yield* [];
              throw new ResumeUnavailableError('the page token expired');
            })();
          }
          return stream.read(ctx);
        },
      })),
  };
}

describe('a run in tiny slices', () => {
  it('lands a lake identical to one-slice runs, publishing every slice', async () => {
    // Prepare
    const sliced = await lake();
    const slices: number[] = [];
    // Act
    const first = await sliced.sync({ sliceRows: 5, onSlice: (c) => slices.push(c.slice) });
    const second = await sliced.sync({ sliceRows: 5 });
    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(first.slices).toBeGreaterThan(20);
    expect(slices.at(-1)).toBe(first.slices);
    expect(second.status).toBe('SUCCEEDED');
    expect(await landedSampleRows(sliced)).toEqual(await reference(2));
    const { recorded, landed } = await recordedVersusLanded(sliced);
    expect(recorded).toEqual(landed);
    expect(await leftovers(sliced)).toEqual([]);
  });

  it('lands the same lake when streams are unordered and publish only when they complete', async () => {
    // Prepare
    const unordered = await lake(variant(ReadOrder.unordered, { remaining: 0 }));
    let stagedBetweenSlices = 0;
    let publishedBeforeTheEnd = 0;
    // Act
    const run = await unordered.sync({
      sliceRows: SLICE_ROWS,
      onPhase: async (phase) => {
        if (phase !== 'slice-committed') return;
        stagedBetweenSlices = Math.max(
          stagedBetweenSlices,
          (await unordered.backend.objects.list('_staging/')).length,
        );
        const orders = await unordered.backend.objects.list('raw/shop/orders/');
        if (orders.length > 0 && (await unordered.backend.objects.list('raw/shop/events/')).length === 0) {
          publishedBeforeTheEnd = orders.length;
        }
      },
    });
    await unordered.sync({ sliceRows: SLICE_ROWS });
    // Assess
    expect(run.slices).toBeGreaterThan(5);
    expect(stagedBetweenSlices).toBeGreaterThan(0);
    expect(publishedBeforeTheEnd).toBeGreaterThan(0);
    expect(await landedSampleRows(unordered)).toEqual(await reference(2));
    expect(await leftovers(unordered)).toEqual([]);
  });

  for (const order of [ReadOrder.cursorAscending, ReadOrder.unordered]) {
    it(`restarts a ${order} stream that cannot resume and still lands every record once`, async () => {
      // Prepare
      const refusals = { remaining: 2 };
      const refusing = await lake(variant(order, refusals));
      // Act
      await refusing.sync({ sliceRows: SLICE_ROWS });
      await refusing.sync({ sliceRows: SLICE_ROWS });
      // Assess
      expect(refusals.remaining).toBe(0);
      expect(await landedSampleRows(refusing)).toEqual(await reference(2));
      expect(await leftovers(refusing)).toEqual([]);
    });
  }
});

describe('a run in slices that fails', () => {
  for (const point of SLICE_FAULT_POINTS) {
    it(`keeps the published slices and lands every record once when it fails ${point.name}`, async () => {
      // Prepare
      const faulty = await lake();
      // Act
      await expect(
        faulty.sync({ sliceRows: SLICE_ROWS, onPhase: failAt({ ...point, pastCommitPoint: true }) }),
      ).rejects.toThrow(`injected fault ${point.name}`);
      const failed = (await faulty.backend.state.listRuns('shop'))[0]!;
      const retry = await faulty.sync({ sliceRows: SLICE_ROWS });
      // Assess
      expect(failed.status).toBe('FAILED');
      expect(retry.runId).not.toBe(failed.runId);
      expect(retry.status).toBe('SUCCEEDED');
      // The failed run had completed customers and part of orders: the retry lands the rest once.
      expect(await landedSampleRows(faulty)).toEqual(await reference(1, 1));
      const runs = await faulty.backend.state.listRuns('shop');
      expect(runs.map((r) => r.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
      const { recorded, landed } = await recordedVersusLanded(faulty);
      expect(recorded).toEqual(landed);
      expect(landed.at(-1)).toBeGreaterThan(0);
      expect(await leftovers(faulty)).toEqual([]);
    });
  }
});

describe('a run in slices that is killed', () => {
  for (const point of SLICE_FAULT_POINTS) {
    it(`is continued by the next sync and lands every record once after a SIGKILL ${point.name}`, async () => {
      // Prepare
      const faulty = await lake();
      // Act
      const child = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'test/support/slice-sync-child.ts',
          faulty.home,
          point.phase,
          String(point.occurrence),
          String(SLICE_ROWS),
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      const killed = (await faulty.backend.state.listRuns('shop'))[0]!;
      const retry = await faulty.sync({ sliceRows: SLICE_ROWS });
      // Assess
      expect(child.signal, child.stderr).toBe('SIGKILL');
      expect(killed.status).toBe('RUNNING');
      expect(retry.runId).toBe(killed.runId);
      expect(retry.status).toBe('SUCCEEDED');
      expect(retry.slices).toBeGreaterThan(killed.slices ?? 0);
      expect(await landedSampleRows(faulty)).toEqual(await reference(1));
      const { recorded, landed } = await recordedVersusLanded(faulty);
      expect(recorded).toEqual(landed);
      expect(await leftovers(faulty)).toEqual([]);
    });
  }
});

describe('a run in slices that is interrupted', () => {
  it('keeps its finished slices and continues from the next one on the next sync', async () => {
    // Prepare
    const interrupted = await lake();
    const controller = new AbortController();
    let continuedFrom: number | undefined;
    // Act
    const stopped = await interrupted
      .sync({
        sliceRows: SLICE_ROWS,
        signal: controller.signal,
        onPhase: (phase, detail) => {
          if (phase === 'file-written' && detail.slice === 3) controller.abort(new Error('interrupted'));
        },
      })
      .catch((error: unknown) => error);
    const between = await interrupted.backend.state.listRuns('shop');
    const rowsKept = await interrupted.query('SELECT count(*) AS n FROM shop.orders');
    const resumed = await interrupted.sync({
      sliceRows: SLICE_ROWS,
      onSlice: (c) => {
        if (c.continued) continuedFrom = c.slice;
      },
    });
    // Assess
    expect(stopped).toBeInstanceOf(RunInterruptedError);
    expect((stopped as RunInterruptedError).checkpoint.slice).toBe(2);
    expect(between[0]!.status).toBe('RUNNING');
    expect(Number(rowsKept[0]!.n)).toBeGreaterThan(0);
    expect(continuedFrom).toBe(2);
    expect(resumed.runId).toBe(between[0]!.runId);
    expect(await landedSampleRows(interrupted)).toEqual(await reference(1));
    expect(await leftovers(interrupted)).toEqual([]);
  });
});

describe('recovery', () => {
  it('removes partial files a killed writer left in staging', async () => {
    // Prepare
    const l = await lake();
    const dir = join(l.home, 'lake', '_staging', 'shop', '20260101T000000000Z-abcdef', 'orders');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.00000.parquet.4242.0a0b0c0d0e0f.tmp'), 'partial');
    // Act
    const run = await l.sync();
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(await readdir(join(l.home, 'lake', '_staging')).catch(() => [])).toEqual([]);
    expect(SAMPLE_CONFIG.rows).toBeGreaterThan(0);
  });

  it('fails a RUNNING run that left nothing to continue, so no earlier run stays RUNNING', async () => {
    // Prepare
    const l = await lake();
    const orphan = '20260101T000000000Z-000001';
    await l.backend.state.putRun({
      runId: orphan,
      source: 'shop',
      status: 'RUNNING',
      startedAt: '2026-01-01T00:00:00.000Z',
      streams: {},
    });
    // Act
    const run = await l.sync();
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect((await l.backend.state.getRun('shop', orphan))?.status).toBe('FAILED');
    expect(await l.backend.state.listRunsByStatus('RUNNING')).toEqual([]);
  });
});
