/**
 * Exactly-once on the AWS adapters: a sync fails at every step of the commit
 * protocol (an injected throw, a real SIGKILL of a child process, AWS calls
 * that fail), the source is synced again, and what Athena would see in the
 * raw tables must equal what a lake that never failed holds after the same
 * number of committed runs: no gaps, no duplicates, nothing of a failed
 * attempt that had not reached its commit point. A killed run stays
 * unfinished and the next sync continues it (docs/exactly-once.md).
 */
// @ts-nocheck

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../../engine/commit.js';
import {
  committedManifestKey,
  pendingManifestKey,
  runStatePrefix,
  sliceManifestId,
} from '../../../engine/layout.js';
import { SyncError } from '../../../engine/sync.js';
import { type FaultPoint, failAt, KILL_POINTS, FAULT_POINTS as POINTS } from '../../support/fault-points.js';
import { SAMPLE_STREAMS, SampleOracle } from '../../support/sample-oracle.js';
import {
  type AwsTestLake,
  CHILD_LEASE_TTL_MS,
  landedSampleRows,
  landedSampleVersions,
  openAwsTestLake,
  SAMPLE_CONFIG,
} from './lake.js';
import {
  clientsThrough,
  dynamodbError,
  type FaultProxy,
  type FaultRule,
  s3Error,
  startFaultProxy,
} from './support.js';

const oracle = new SampleOracle(SAMPLE_CONFIG);

/** What a lake that never failed holds after n committed runs, computed once per n. */
const references = new Map<number, Promise<string[]>>();
function reference(commits: number): Promise<string[]> {
  let rows = references.get(commits);
  if (!rows) {
    rows = (async () => {
      const clean = await openAwsTestLake();
      for (let i = 0; i < commits; i++) await clean.sync();
      return landedSampleRows(clean);
    })();
    references.set(commits, rows);
  }
  return rows;
}

/** Rows of one run as Athena sees them (one stream, or all); the tables exist, so the query must not fail. */
async function rowsOfRun(lake: AwsTestLake, runId: string, stream?: string): Promise<number> {
  const counts = (stream ? [stream] : SAMPLE_STREAMS).map(
    (s) => `(SELECT count(*) FROM shop__${s} WHERE _sluice_run_id = '${runId}')`,
  );
  const rows = await lake.athenaRows(`SELECT ${counts.join(' + ')} AS n`);
  return Number(rows[0]!.n);
}

/** A sync without a slice limit is one slice: its manifests are those of slice 1. */
const onlySlice = (runId: string): string => sliceManifestId(runId, 1);

/** Whether the next run must roll the failed one forward (it stopped between its commit point and the commit's end). */
function rollsForward(point: FaultPoint): boolean {
  return point.pastCommitPoint && point.phase !== 'run-recorded';
}

/**
 * The state every committed lake must be in: all runs settled, each committed
 * run's rows equal to the world's epoch it landed, its committed manifest in
 * place with every file it names, the Glue tables there, nothing staged or pending.
 */
async function expectSettled(lake: AwsTestLake, committedInOrder: readonly string[]): Promise<void> {
  expect(await lake.leftovers()).toEqual([]);
  // No run is left unfinished: each one's state is gone with its last step.
  expect((await lake.backend.objects.list(runStatePrefix('shop'))).map((o) => o.key)).toEqual([]);
  const runs = await lake.backend.state.listRuns('shop');
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
      expect(await rowsOfRun(lake, runId, stream), `landed ${runId} ${stream}`).toBe(expected[stream]);
      // Also for a run stopped past its commit point: its run state carries the counts the rolling-forward run records.
      expect(run.streams[stream]?.rows, `recorded ${runId} ${stream}`).toBe(expected[stream]);
    }
    expect(run.slices, `slices of ${runId}`).toBe(1);
    expect(
      (await lake.backend.objects.list(`_manifests/shop/committed/${runId}-`)).map((o) => o.key),
    ).toEqual([committedManifestKey('shop', onlySlice(runId))]);
    const manifest = await readManifest(lake.backend.objects, committedManifestKey('shop', onlySlice(runId)));
    expect(manifest?.runId, `committed manifest of ${runId}`).toBe(runId);
    expect(manifest?.slice, `slice of the committed manifest of ${runId}`).toBe(1);
    for (const stream of manifest!.streams) {
      expect(stream.files.length, `files of ${runId} ${stream.name}`).toBe(run.streams[stream.name]?.files);
      for (const file of stream.files)
        expect(await lake.backend.objects.get(file.final), file.final).toBeDefined();
    }
  }
  expect((await lake.backend.catalog.listTables('shop')).map((t) => t.stream).sort()).toEqual(
    [...SAMPLE_STREAMS].sort(),
  );
}

describe('exactly-once landing on AWS under an injected failure', () => {
  for (const point of POINTS) {
    it(`lands every record once when a sync fails ${point.name} and the next sync runs`, async () => {
      // Prepare: a lake whose tables already exist
      const lake = await openAwsTestLake();
      const first = await lake.sync();

      // Act
      // Smaller row groups: the second sync's epoch is small, and the file points need several files to fail between.
      await expect(lake.sync({ onPhase: failAt(point), rowGroupRows: 50 })).rejects.toThrow(
        `injected fault ${point.name}`,
      );
      const failedRun = (await lake.backend.state.listRuns('shop')).find((r) => r.runId !== first.runId)!;
      const leftAfterFailure = await lake.leftovers();
      const visibleBeforeRetry = await rowsOfRun(lake, failedRun.runId);
      const retry = await lake.sync();
      const followUp = await lake.sync();

      // Assess: how the failed run ended, and how the next run found it.
      // A run that was already recorded SUCCEEDED stays so: what fails after it cannot undo the landing.
      if (point.phase === 'run-recorded') {
        expect(failedRun.status).toBe('SUCCEEDED');
      } else {
        expect(failedRun.status).toBe('FAILED');
        expect(failedRun.error).toContain(`injected fault ${point.name}`);
        expect(failedRun.error?.includes('after its commit point')).toBe(point.pastCommitPoint);
      }
      if (rollsForward(point)) {
        expect(leftAfterFailure).toContain(pendingManifestKey('shop', onlySlice(failedRun.runId)));
        expect(retry.recovered).toEqual([`${failedRun.runId} (rolled forward)`]);
      } else {
        expect(leftAfterFailure).toEqual([]);
        expect(retry.recovered).toBeUndefined();
      }
      if (!point.pastCommitPoint) expect(visibleBeforeRetry).toBe(0);
      expect(retry.status).toBe('SUCCEEDED');
      expect(followUp.status).toBe('SUCCEEDED');
      const recorded = await lake.backend.state.getRun('shop', failedRun.runId);
      expect(recorded!.status).toBe(point.pastCommitPoint ? 'SUCCEEDED' : 'FAILED');
      if (rollsForward(point)) {
        expect(recorded!.error).toBe(
          `its last slice was published by ${retry.runId} after this run stopped past its commit point`,
        );
      }
      expect((await rowsOfRun(lake, failedRun.runId)) > 0).toBe(point.pastCommitPoint);

      // Assess: the landed data, against the world and against a lake that never failed
      const committed = [
        first.runId,
        ...(point.pastCommitPoint ? [failedRun.runId] : []),
        retry.runId,
        followUp.runId,
      ];
      await expectSettled(lake, committed);
      expect(await landedSampleVersions(lake)).toEqual(await oracle.versionsAfter(committed.length));
      expect(await landedSampleRows(lake)).toEqual(await reference(committed.length));
    });
  }
});

describe('exactly-once landing on AWS when the process is killed', () => {
  function runChild(
    lake: AwsTestLake,
    point: FaultPoint,
  ): Promise<{ signal: string | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'test/integration/aws/sync-child.ts',
          lake.names.bucket,
          lake.names.table,
          lake.names.glueDatabase,
          point.phase,
          String(point.occurrence ?? 1),
        ],
        { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (_code, signal) => resolve({ signal, stdout, stderr }));
    });
  }

  for (const point of KILL_POINTS) {
    it(`lands every record once after a SIGKILL ${point.name}, taking over the dead run's lease when it expires`, async () => {
      // Prepare: a lake whose tables already exist
      const lake = await openAwsTestLake();
      const first = await lake.sync();

      // Act
      const child = await runChild(lake, point);
      const killedRunId = /killing at \S+ (\S+)/.exec(child.stdout)?.[1] ?? '';
      const leftAfterKill = await lake.leftovers();
      const visibleBeforeRetry = await rowsOfRun(lake, killedRunId);
      const orphaned = await lake.backend.state.getLease('shop');
      const immediate = await lake.sync().catch((error: unknown) => error);
      const retry = await lake.sync({ leaseWaitMs: CHILD_LEASE_TTL_MS * 3 });

      // Assess
      expect(child.signal, child.stderr).toBe('SIGKILL');
      expect(child.stdout).toContain(`killing at ${point.phase}`);
      expect(orphaned?.owner).toBeDefined();
      expect(immediate).toMatchObject({ name: 'LeaseHeldError', owner: orphaned?.owner });
      expect(retry.status).toBe('SUCCEEDED');
      if (point.pastCommitPoint) {
        expect(leftAfterKill).toContain(pendingManifestKey('shop', onlySlice(killedRunId)));
        expect(retry.runId).not.toBe(killedRunId);
        expect(retry.recovered).toEqual([`${killedRunId} (rolled forward)`]);
      } else {
        // A killed run cleans up nothing and stays unfinished: the next sync rolls its slice back and continues it.
        expect(leftAfterKill).toHaveLength(point.occurrence ?? 1);
        expect(visibleBeforeRetry).toBe(0);
        expect(retry.runId).toBe(killedRunId);
        expect(retry.recovered).toEqual([`${killedRunId} (slice 1 rolled back; continued)`]);
      }
      expect((await lake.backend.state.getRun('shop', killedRunId))?.status).toBe('SUCCEEDED');
      const committed = [first.runId, ...(point.pastCommitPoint ? [killedRunId] : []), retry.runId];
      await expectSettled(lake, committed);
      expect(await landedSampleVersions(lake)).toEqual(await oracle.versionsAfter(committed.length));
      expect(await landedSampleRows(lake)).toEqual(await reference(committed.length));
    });
  }
});

describe('exactly-once landing on AWS when AWS calls fail', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy();
  });

  afterAll(async () => {
    await proxy.close();
  });

  it('rides out throttling and 5xx answers through SDK retries', async () => {
    // Prepare: the first staged upload gets a 503 SlowDown, the first cursor commit is throttled
    const lake = await openAwsTestLake({ clients: clientsThrough(proxy.url) });
    const slowDown: FaultRule = {
      when: (r) =>
        r.method === 'PUT' &&
        r.path.startsWith(`/${lake.names.bucket}/`) &&
        r.path.includes('/_staging/') &&
        !r.headers['x-amz-copy-source'],
      reply: () => s3Error(503, 'SlowDown', 'Please reduce your request rate.'),
      times: 1,
    };
    const throttled: FaultRule = {
      when: (r) =>
        r.target === 'DynamoDB_20120810.PutItem' &&
        r.body.includes('CURSOR#') &&
        r.body.includes(lake.names.table),
      reply: () =>
        dynamodbError(
          400,
          'ProvisionedThroughputExceededException',
          'Rate of requests exceeds the allowed throughput.',
        ),
      times: 1,
    };
    proxy.add(slowDown);
    proxy.add(throttled);

    // Act
    const run = await lake.sync();

    // Assess: both injected errors were sent, and the SDK retried past them
    expect(slowDown.times).toBe(0);
    expect(throttled.times).toBe(0);
    expect(proxy.requests.filter((r) => slowDown.when(r)).length).toBeGreaterThanOrEqual(2);
    expect(proxy.requests.filter((r) => throttled.when(r)).length).toBeGreaterThanOrEqual(2);
    expect(run.status).toBe('SUCCEEDED');
    await expectSettled(lake, [run.runId]);
    expect(await landedSampleVersions(lake)).toEqual(await oracle.versionsAfter(1));
  });

  it('rolls a run forward when S3 fails every copy after its commit point', async () => {
    // Prepare
    const names = (await openAwsTestLake()).names;
    const faulty = await openAwsTestLake({ names, clients: clientsThrough(proxy.url) });
    const healthy = await openAwsTestLake({ names });
    proxy.add({
      when: (r) =>
        r.method === 'PUT' &&
        r.path.startsWith(`/${names.bucket}/`) &&
        Boolean(r.headers['x-amz-copy-source']),
      reply: () => s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'),
      times: 1000,
    });

    // Act
    const failed = (await faulty.sync().then(
      () => undefined,
      (error: unknown) => error,
    )) as SyncError;
    const retry = await healthy.sync();

    // Assess
    expect(failed).toBeInstanceOf(SyncError);
    expect(failed.message).toMatch(/after its commit point/);
    expect(retry.recovered).toEqual([`${failed.run.runId} (rolled forward)`]);
    expect(await healthy.leftovers()).toEqual([]);
    expect(await landedSampleVersions(healthy)).toEqual(await oracle.versionsAfter(2));
    expect(await landedSampleRows(healthy)).toEqual(await reference(2));
  });

  it('loses nothing when DynamoDB rejects the cursor commit for good', async () => {
    // Prepare
    const names = (await openAwsTestLake()).names;
    const faulty = await openAwsTestLake({ names, clients: clientsThrough(proxy.url) });
    const healthy = await openAwsTestLake({ names });
    proxy.add({
      when: (r) =>
        r.target === 'DynamoDB_20120810.PutItem' &&
        r.body.includes('CURSOR#') &&
        r.body.includes(names.table),
      reply: () => dynamodbError(500, 'InternalServerError', 'Internal server error'),
      times: 1000,
    });

    // Act
    const failed = (await faulty.sync().then(
      () => undefined,
      (error: unknown) => error,
    )) as SyncError;
    const retry = await healthy.sync();
    const followUp = await healthy.sync();

    // Assess
    expect(failed).toBeInstanceOf(SyncError);
    expect(failed.message).toMatch(/after its commit point/);
    expect(retry.status).toBe('SUCCEEDED');
    expect(followUp.status).toBe('SUCCEEDED');
    expect(await landedSampleVersions(healthy)).toEqual(await oracle.versionsAfter(3));
    expect(await landedSampleRows(healthy)).toEqual(await reference(3));
  });
});
