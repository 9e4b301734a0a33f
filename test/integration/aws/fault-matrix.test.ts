/**
 * Exactly-once on the AWS adapters: a sync fails at every step of the commit
 * protocol (an injected throw, a real SIGKILL of a child process, AWS calls
 * that fail), the source is synced again, and what Athena would see in the
 * raw tables must equal what a lake that never failed holds after the same
 * number of committed runs: no gaps, no duplicates, nothing of a failed
 * attempt that had not reached its commit point.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../../engine/sync.js';
import { type FaultPoint, failAt, KILL_POINTS, FAULT_POINTS as POINTS } from '../../support/fault-points.js';
import { type AwsTestLake, CHILD_LEASE_TTL_MS, landedSampleRows, openAwsTestLake } from './lake.js';
import { clientsThrough, dynamodbError, type FaultProxy, s3Error, startFaultProxy } from './support.js';

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

async function rowsOfRun(lake: AwsTestLake, runId: string): Promise<number> {
  const rows = await lake.athenaRows(`
    SELECT (SELECT count(*) FROM shop__orders WHERE _sluice_run_id = '${runId}')
         + (SELECT count(*) FROM shop__customers WHERE _sluice_run_id = '${runId}')
         + (SELECT count(*) FROM shop__events WHERE _sluice_run_id = '${runId}') AS n`);
  return Number(rows[0]!.n);
}

describe('exactly-once landing on AWS under an injected failure', () => {
  for (const point of POINTS) {
    it(`lands every record once when a sync fails ${point.name} and the next sync runs`, async () => {
      // Prepare
      const lake = await openAwsTestLake();

      // Act
      await expect(lake.sync({ onPhase: failAt(point) })).rejects.toThrow(`injected fault ${point.name}`);
      const failedRun = (await lake.backend.state.listRuns('shop'))[0]!;
      const visibleBeforeRetry = await rowsOfRun(lake, failedRun.runId).catch(() => 0);
      const retry = await lake.sync();
      const followUp = await lake.sync();

      // Assess
      // A run that was already recorded SUCCEEDED stays so: what fails after it cannot undo the landing.
      expect(failedRun.status).toBe(point.phase === 'run-recorded' ? 'SUCCEEDED' : 'FAILED');
      if (!point.pastCommitPoint) expect(visibleBeforeRetry).toBe(0);
      expect(retry.status).toBe('SUCCEEDED');
      expect(followUp.status).toBe('SUCCEEDED');
      expect(await lake.leftovers()).toEqual([]);
      expect(await landedSampleRows(lake)).toEqual(await reference(point.pastCommitPoint ? 3 : 2));
      expect((await rowsOfRun(lake, failedRun.runId)) > 0).toBe(point.pastCommitPoint);
      const recorded = await lake.backend.state.getRun('shop', failedRun.runId);
      expect(recorded!.status).toBe(point.pastCommitPoint ? 'SUCCEEDED' : 'FAILED');
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
      // Prepare
      const lake = await openAwsTestLake();

      // Act
      const child = await runChild(lake, point);
      const orphaned = await lake.backend.state.getLease('shop');
      const immediate = await lake.sync().catch((error: unknown) => error);
      const retry = await lake.sync({ leaseWaitMs: CHILD_LEASE_TTL_MS * 3 });

      // Assess
      expect(child.signal, child.stderr).toBe('SIGKILL');
      expect(child.stdout).toContain(`killing at ${point.phase}`);
      expect(orphaned?.owner).toBeDefined();
      expect(immediate).toMatchObject({ name: 'LeaseHeldError', owner: orphaned?.owner });
      expect(retry.status).toBe('SUCCEEDED');
      expect(retry.recovered).toHaveLength(1);
      expect(await lake.leftovers()).toEqual([]);
      expect(await landedSampleRows(lake)).toEqual(await reference(point.pastCommitPoint ? 2 : 1));
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
    proxy.add({
      when: (r) => r.method === 'PUT' && r.path.includes('/_staging/') && !r.headers['x-amz-copy-source'],
      reply: () => s3Error(503, 'SlowDown', 'Please reduce your request rate.'),
      times: 1,
    });
    proxy.add({
      when: (r) => r.target === 'DynamoDB_20120810.PutItem' && r.body.includes('CURSOR#'),
      reply: () =>
        dynamodbError(
          400,
          'ProvisionedThroughputExceededException',
          'Rate of requests exceeds the allowed throughput.',
        ),
      times: 1,
    });

    // Act
    const run = await lake.sync();

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(await landedSampleRows(lake)).toEqual(await reference(1));
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
    expect(await landedSampleRows(healthy)).toEqual(await reference(3));
  });
});
