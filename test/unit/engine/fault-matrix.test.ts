/**
 * Exactly-once, shown: a sync fails at every step of the commit protocol
 * (an injected throw, and a real SIGKILL of a child process), the source is
 * synced again, and the raw tables must hold exactly what a lake that never
 * failed holds after the same number of committed runs: no gaps, no
 * duplicates, no rows of the failed attempt.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { failAt, KILL_POINTS, FAULT_POINTS as POINTS } from '../../support/fault-points.js';
import { landedSampleRows, openTestLake, type TestLake } from '../../support/lake.js';

const lakes: TestLake[] = [];
async function lake(): Promise<TestLake> {
  const opened = await openTestLake();
  lakes.push(opened);
  return opened;
}
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

/** What a lake that never failed holds after `commits` runs. */
async function reference(commits: number): Promise<string[]> {
  const clean = await lake();
  for (let i = 0; i < commits; i++) await clean.sync();
  return landedSampleRows(clean);
}

async function leftovers(l: TestLake): Promise<string[]> {
  const staged = await l.backend.objects.list('_staging/');
  const pending = await l.backend.objects.list('_manifests/shop/pending/');
  return [...staged, ...pending].map((o) => o.key);
}

describe('exactly-once landing under an injected failure', () => {
  for (const point of POINTS) {
    it(`lands every record once when a sync fails ${point.name} and the next sync runs`, async () => {
      // Prepare
      const faulty = await lake();
      // Act
      await expect(faulty.sync({ onPhase: failAt(point) })).rejects.toThrow(`injected fault ${point.name}`);
      const failedRun = (await faulty.backend.state.listRuns('shop'))[0]!;
      const visibleBeforeRetry = await faulty
        .query(`SELECT count(*) AS n FROM shop.orders WHERE _sluice_run_id = '${failedRun.runId}'`)
        .catch(() => [{ n: 0 }]);
      const retry = await faulty.sync();
      const followUp = await faulty.sync();
      // Assess
      expect(failedRun.status).toBe(point.phase === 'run-recorded' ? 'SUCCEEDED' : 'FAILED');
      if (!point.pastCommitPoint) expect(Number(visibleBeforeRetry[0]!.n)).toBe(0);
      expect(retry.status).toBe('SUCCEEDED');
      expect(followUp.status).toBe('SUCCEEDED');
      expect(await leftovers(faulty)).toEqual([]);
      const committedRuns = point.pastCommitPoint ? 3 : 2;
      expect(await landedSampleRows(faulty)).toEqual(await reference(committedRuns));
      const failedRows = await faulty.query(
        `SELECT count(*) AS n FROM shop.orders WHERE _sluice_run_id = '${failedRun.runId}'`,
      );
      expect(Number(failedRows[0]!.n) > 0).toBe(point.pastCommitPoint);
      const recorded = await faulty.backend.state.getRun('shop', failedRun.runId);
      expect(recorded!.status).toBe(point.pastCommitPoint ? 'SUCCEEDED' : 'FAILED');
    });
  }
});

describe('exactly-once landing when the process is killed', () => {
  for (const point of KILL_POINTS) {
    it(`lands every record once after a SIGKILL ${point.name}`, async () => {
      // Prepare
      const faulty = await lake();
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
      const retry = await faulty.sync();
      // Assess
      expect(child.signal, child.stderr).toBe('SIGKILL');
      expect(child.stdout).toContain(`killing at ${point.phase}`);
      expect(retry.status).toBe('SUCCEEDED');
      expect(retry.recovered?.length).toBe(point.pastCommitPoint ? 1 : 1);
      expect(await leftovers(faulty)).toEqual([]);
      expect(await landedSampleRows(faulty)).toEqual(await reference(point.pastCommitPoint ? 2 : 1));
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
    let first!: Promise<unknown>;
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
    await first;
    const waited = await waiting;
    // Assess
    expect(waited.status).toBe('SUCCEEDED');
    expect(await landedSampleRows(shared)).toEqual(await reference(2));
  });
});
