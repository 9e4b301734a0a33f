/**
 * Exactly-once, shown: a sync fails at every step of the commit protocol
 * (an injected throw, and a real SIGKILL of a child process), the source is
 * synced again, and the raw tables must hold exactly what the sample world
 * says N committed syncs land (test/support/sample-oracle.ts, which is not
 * the engine), and what a lake that never failed holds: no gaps, no
 * duplicates, no rows of the failed attempt. Every point also shows how it
 * ended: rolled back by the failed run itself, rolled forward by the next
 * run, or (a killed run, which stays unfinished) its slice rolled back and the
 * run continued by the next sync; the run records with their counts, nothing
 * left in staging or in _runs/, and the committed slice manifest and catalog
 * file list of every committed run (a sync without a slice limit is one slice).
 *
 * The failing sync is the lake's second, so its tables exist and the
 * "nothing visible before the retry" query must succeed.
 */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { readManifest } from '../../../engine/commit.js';
import {
  committedManifestKey,
  pendingManifestKey,
  runStatePrefix,
  sliceManifestId,
  stagingPrefix,
} from '../../../engine/layout.js';
import type { RunRecord } from '../../../engine/ports.js';
import { type FaultPoint, failAt, KILL_POINTS, FAULT_POINTS as POINTS } from '../../support/fault-points.js';
import {
  landedSampleRows,
  landedSampleVersions,
  openTestLake,
  SAMPLE_CONFIG,
  type TestLake,
} from '../../support/lake.js';
import { SAMPLE_STREAMS, SampleOracle } from '../../support/sample-oracle.js';

const oracle = new SampleOracle(SAMPLE_CONFIG);

const lakes: TestLake[] = [];
async function lake(): Promise<TestLake> {
  const opened = await openTestLake();
  lakes.push(opened);
  return opened;
}
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

/** What a lake that never failed holds after `commits` runs, computed once per count. */
const references = new Map<number, Promise<string[]>>();
function reference(commits: number): Promise<string[]> {
  let rows = references.get(commits);
  if (!rows) {
    rows = (async () => {
      const clean = await openTestLake();
      try {
        for (let i = 0; i < commits; i++) await clean.sync();
        return await landedSampleRows(clean);
      } finally {
        await clean.dispose();
      }
    })();
    references.set(commits, rows);
  }
  return rows;
}

async function keys(l: TestLake, prefix: string): Promise<string[]> {
  return (await l.backend.objects.list(prefix)).map((o) => o.key);
}

/** Rows of one run in the raw tables (of one stream, or all); the tables exist, so the query must not fail. */
async function rowsOfRun(l: TestLake, runId: string, stream?: string): Promise<number> {
  const counts = (stream ? [stream] : SAMPLE_STREAMS).map(
    (s) => `(SELECT count(*) FROM shop.${s} WHERE _sluice_run_id = '${runId}')`,
  );
  const rows = await l.query(`SELECT ${counts.join(' + ')} AS n`);
  return Number(rows[0]!.n);
}

/** A sync without a slice limit is one slice: its manifests are those of slice 1. */
const onlySlice = (runId: string): string => sliceManifestId(runId, 1);

/** Whether the next run must roll the failed one forward (it stopped between its commit point and the commit's end). */
function rollsForward(point: FaultPoint): boolean {
  return point.pastCommitPoint && point.phase !== 'run-recorded';
}

/**
 * The state every committed lake must be in: all runs settled, the rows
 * of the committed runs equal to the world's epochs in order, each
 * committed run's manifest under committed/ with its files in the
 * catalog and in raw/, and nothing staged or pending.
 */
async function expectSettled(l: TestLake, committedInOrder: readonly string[]): Promise<void> {
  expect(await keys(l, '_staging/')).toEqual([]);
  expect(await keys(l, '_manifests/shop/pending/')).toEqual([]);
  // No run is left unfinished: each one's state is gone with its last step.
  expect(await keys(l, runStatePrefix('shop'))).toEqual([]);
  const runs = await l.backend.state.listRuns('shop');
  expect(runs.every((r) => r.status === 'SUCCEEDED' || r.status === 'FAILED')).toBe(true);
  expect(
    runs
      .filter((r) => r.status === 'SUCCEEDED')
      .map((r) => r.runId)
      .sort(),
  ).toEqual([...committedInOrder].sort());
  for (const [epoch, runId] of committedInOrder.entries()) {
    const run = runs.find((r) => r.runId === runId)!;
    const expected = await oracle.rowsOfEpoch(epoch);
    for (const stream of SAMPLE_STREAMS) {
      expect(await rowsOfRun(l, runId, stream), `landed ${runId} ${stream}`).toBe(expected[stream]);
      // Also for a run stopped past its commit point: its run state carries the counts the rolling-forward run records.
      expect(run.streams[stream]?.rows, `recorded ${runId} ${stream}`).toBe(expected[stream]);
    }
    expect(run.slices, `slices of ${runId}`).toBe(1);
    expect(await keys(l, `_manifests/shop/committed/${runId}-`)).toEqual([
      committedManifestKey('shop', onlySlice(runId)),
    ]);
    const manifest = await readManifest(l.backend.objects, committedManifestKey('shop', onlySlice(runId)));
    expect(manifest?.runId, `committed manifest of ${runId}`).toBe(runId);
    expect(manifest?.slice, `slice of the committed manifest of ${runId}`).toBe(1);
    for (const stream of manifest!.streams) {
      const finals = stream.files.map((f) => f.final).sort();
      expect(finals.length).toBe(run.streams[stream.name]?.files);
      const listed = (await l.backend.catalog.listFiles('shop', stream.name)).find((f) => f.runId === runId);
      expect(listed?.keys, `catalog files of ${runId} ${stream.name}`).toEqual(finals);
      for (const key of finals) expect(await l.backend.objects.get(key), key).toBeDefined();
    }
  }
  expect((await l.backend.catalog.listTables('shop')).map((t) => t.stream).sort()).toEqual(
    [...SAMPLE_STREAMS].sort(),
  );
}

describe('the sample oracle against a lake that never fails', () => {
  it('lands every change of the world exactly once, dropping the ties re-read at the committed cursor', async () => {
    // Prepare
    const clean = await lake();

    // Act
    const runs = [await clean.sync(), await clean.sync(), await clean.sync()];

    // Assess: each later sync re-reads the last pair at its cursor and must skip it, not land it again
    for (const run of runs.slice(1)) {
      for (const stream of SAMPLE_STREAMS) expect(run.streams[stream]?.skipped).toBeGreaterThan(0);
    }
    await expectSettled(
      clean,
      runs.map((r) => r.runId),
    );
    expect(await landedSampleVersions(clean)).toEqual(await oracle.versionsAfter(3));
  });
});

describe('exactly-once landing under an injected failure', () => {
  for (const point of POINTS) {
    it(`lands every record once when a sync fails ${point.name} and the next sync runs`, async () => {
      // Prepare: a lake whose tables already exist
      const faulty = await lake();
      const first = await faulty.sync();

      // Act
      // Smaller row groups: the second sync's epoch is small, and the file points need several files to fail between.
      await expect(faulty.sync({ onPhase: failAt(point), rowGroupRows: 50 })).rejects.toThrow(
        `injected fault ${point.name}`,
      );
      const failedRun = (await faulty.backend.state.listRuns('shop')).find((r) => r.runId !== first.runId)!;
      const stagedAfterFailure = await keys(faulty, '_staging/');
      const pendingAfterFailure = await keys(faulty, '_manifests/shop/pending/');
      const visibleBeforeRetry = await rowsOfRun(faulty, failedRun.runId);
      const retry = await faulty.sync();
      const followUp = await faulty.sync();

      // Assess: how the failed run ended, and how the next run found it
      if (point.phase === 'run-recorded') {
        expect(failedRun.status).toBe('SUCCEEDED');
        expect(failedRun.error).toBeUndefined();
      } else {
        expect(failedRun.status).toBe('FAILED');
        expect(failedRun.error).toContain(`injected fault ${point.name}`);
        expect(failedRun.error?.includes('after its commit point')).toBe(point.pastCommitPoint);
      }
      if (rollsForward(point)) {
        expect(pendingAfterFailure).toEqual([pendingManifestKey('shop', onlySlice(failedRun.runId))]);
        expect(retry.recovered).toEqual([`${failedRun.runId} (rolled forward)`]);
      } else {
        // Before its commit point the failed run removed its own staged files; after a recorded run there is nothing.
        expect(stagedAfterFailure).toEqual([]);
        expect(pendingAfterFailure).toEqual([]);
        expect(retry.recovered).toBeUndefined();
      }
      if (!point.pastCommitPoint) expect(visibleBeforeRetry).toBe(0);
      expect(retry.status).toBe('SUCCEEDED');
      expect(followUp.status).toBe('SUCCEEDED');
      const recorded = (await faulty.backend.state.getRun('shop', failedRun.runId)) as RunRecord;
      expect(recorded.status).toBe(point.pastCommitPoint ? 'SUCCEEDED' : 'FAILED');
      if (rollsForward(point)) {
        expect(recorded.error).toBe(
          `its last slice was published by ${retry.runId} after this run stopped past its commit point`,
        );
      }
      expect((await rowsOfRun(faulty, failedRun.runId)) > 0).toBe(point.pastCommitPoint);

      // Assess: the landed data, against the world and against a lake that never failed
      const committed = [
        first.runId,
        ...(point.pastCommitPoint ? [failedRun.runId] : []),
        retry.runId,
        followUp.runId,
      ];
      await expectSettled(faulty, committed);
      expect(await landedSampleVersions(faulty)).toEqual(await oracle.versionsAfter(committed.length));
      expect(await landedSampleRows(faulty)).toEqual(await reference(committed.length));
    });
  }
});

describe('exactly-once landing when the process is killed', () => {
  for (const point of KILL_POINTS) {
    it(`lands every record once after a SIGKILL ${point.name}`, async () => {
      // Prepare: a lake whose tables already exist
      const faulty = await lake();
      const first = await faulty.sync();

      // Act
      const child = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'test/support/sync-child.ts',
          faulty.home,
          point.phase,
          String(point.occurrence ?? 1),
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      const killedRunId = /killing at \S+ (\S+)/.exec(child.stdout)?.[1] ?? '';
      const stagedAfterKill = await keys(faulty, stagingPrefix('shop', killedRunId));
      const pendingAfterKill = await keys(faulty, '_manifests/shop/pending/');
      const visibleBeforeRetry = await rowsOfRun(faulty, killedRunId);
      const retry = await faulty.sync();

      // Assess
      expect(child.signal, child.stderr).toBe('SIGKILL');
      expect(child.stdout).toContain(`killing at ${point.phase}`);
      expect(retry.status).toBe('SUCCEEDED');
      if (point.pastCommitPoint) {
        expect(pendingAfterKill).toEqual([pendingManifestKey('shop', onlySlice(killedRunId))]);
        expect(retry.runId).not.toBe(killedRunId);
        expect(retry.recovered).toEqual([`${killedRunId} (rolled forward)`]);
      } else {
        // A killed run cleans up nothing and stays unfinished: the next sync rolls its slice back and continues it.
        expect(stagedAfterKill.length).toBe(point.occurrence);
        expect(pendingAfterKill).toEqual([]);
        expect(visibleBeforeRetry).toBe(0);
        expect(retry.runId).toBe(killedRunId);
        expect(retry.recovered).toEqual([`${killedRunId} (slice 1 rolled back; continued)`]);
      }
      const recorded = await faulty.backend.state.getRun('shop', killedRunId);
      expect(recorded?.status).toBe('SUCCEEDED');
      if (point.pastCommitPoint) {
        expect(recorded?.error).toBe(
          `its last slice was published by ${retry.runId} after this run stopped past its commit point`,
        );
      }
      const committed = [first.runId, ...(point.pastCommitPoint ? [killedRunId] : []), retry.runId];
      await expectSettled(faulty, committed);
      expect(await landedSampleVersions(faulty)).toEqual(await oracle.versionsAfter(committed.length));
      expect(await landedSampleRows(faulty)).toEqual(await reference(committed.length));
    });
  }
});

describe('two syncs of one source at once', () => {
  it('fails the second with a clear message while the first holds the lease, and lands once', async () => {
    // Prepare
    const shared = await lake();
    let release: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first!: Promise<RunRecord>;
    const started = new Promise<void>((resolve) => {
      first = shared.sync({
        onPhase: async (phase) => {
          if (phase === 'recovered') {
            resolve();
            await holding;
          }
        },
      });
    });
    await started;
    // Act
    const second = shared.sync();
    await expect(second).rejects.toThrow(/source "shop" is being synced by run \S+ \(lease held until/);
    const waiting = shared.sync({ leaseWaitMs: 30_000 });
    release();
    const firstRun = await first;
    const waited = await waiting;
    // Assess
    expect(waited.status).toBe('SUCCEEDED');
    await expectSettled(shared, [firstRun.runId, waited.runId]);
    expect(await landedSampleVersions(shared)).toEqual(await oracle.versionsAfter(2));
    expect(await landedSampleRows(shared)).toEqual(await reference(2));
  });
});
