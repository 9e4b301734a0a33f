/**
 * The local state store across real processes: several `node` children
 * racing on one cursor, and children killed with SIGKILL mid-write.
 */
// @ts-nocheck

import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStateStore } from '../../../../adapters/local/state-store.js';
import { LeaseHeldError, SluiceError } from '../../../../engine/errors.js';
import { spawnFixture, type Worker } from './fixtures/spawn.js';

describe('LocalStateStore across processes', () => {
  let dir: string;
  const workers: Worker[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-state-proc-'));
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited();
    }
    await rm(dir, { recursive: true, force: true });
  });

  const start = (name: string, args: readonly string[]): Worker => {
    const worker = spawnFixture(name, args);
    workers.push(worker);
    return worker;
  };

  it('loses no update when several processes compare-and-set one cursor concurrently', async () => {
    // Prepare
    const processes = 4;
    const commitsEach = 25;

    const go = join(dir, 'go');
    const running = Array.from({ length: processes }, (_, index) =>
      start('cas-worker.ts', [dir, `w${index}`, String(commitsEach), go]),
    );
    await Promise.all(running.map((worker) => worker.waitFor((line) => line === 'ready')));

    // Act: every worker starts at once
    await writeFile(go, '');
    const codes = await Promise.all(running.map((worker) => worker.exited()));

    // Assess
    expect(codes, running.map((worker) => worker.stderr()).join('\n')).toEqual(Array(processes).fill(0));
    const reports = running.map(
      (worker) =>
        JSON.parse(worker.lines.at(-1) ?? '{}') as {
          committed: number[];
          conflicts: number;
          startedAt: number;
          endedAt: number;
        },
    );
    // The race was real: all workers were committing at the same time, and some lost a compare-and-set.
    expect(Math.max(...reports.map((r) => r.startedAt))).toBeLessThan(
      Math.min(...reports.map((r) => r.endedAt)),
    );
    const versions = reports.flatMap((report) => report.committed).sort((a, b) => a - b);
    const total = processes * commitsEach;
    expect(reports.reduce((sum, r) => sum + r.conflicts, 0)).toBeGreaterThan(0);
    // Every successful commit got its own version: no two processes both won the same compare-and-set.
    expect(versions).toEqual(Array.from({ length: total }, (_, index) => index + 1));
    const final = await new LocalStateStore(dir).getCursor('shop', 'orders');
    expect(final.version).toBe(total);
    expect(String(final.cursor?.value)).toMatch(/^w\d:\d+$/);
  });

  it('leaves a readable, writable state when a writer is killed with SIGKILL at any point', async () => {
    // Prepare
    const store = new LocalStateStore(dir);

    for (let attempt = 0; attempt < 5; attempt++) {
      // Act: let a child write for a while, then kill it without warning.
      const worker = start('busy-worker.ts', [dir]);
      await worker.waitFor((line) => line.startsWith('round '));
      await new Promise((resolve) => setTimeout(resolve, 5 + attempt * 17));
      worker.child.kill('SIGKILL');
      await worker.exited();

      // Assess: every entity parses, the lease and the locks of the dead process are free.
      const { version, cursor } = await store.getCursor('shop', 'orders');
      expect(version).toBeGreaterThan(0);
      expect(typeof cursor?.value).toBe('number');
      const runs = await store.listRuns('shop');
      expect(runs.length).toBeGreaterThan(0);
      expect(runs.every((run) => run.source === 'shop' && run.status === 'RUNNING')).toBe(true);
      expect((await store.getSource('shop'))?.type).toBe('sample');
      const lease = await store.acquireLease('shop', `parent-${attempt}`, 10_000);
      expect(lease.owner).toBe(`parent-${attempt}`);
      await store.commitCursor('shop', 'orders', version, { value: -1, keysAtValue: [] });
      expect((await store.getCursor('shop', 'orders')).version).toBe(version + 1);
      await store.releaseLease('shop', `parent-${attempt}`);
    }
    // A killed writer leaves at most dot-prefixed temp files, which listings ignore.
    const runFiles = await readdir(join(dir, 'runs', 'shop'));
    expect(runFiles.filter((name) => !name.startsWith('.')).every((name) => name.endsWith('.json'))).toBe(
      true,
    );
  });

  it('waits for a live lock holder and takes the lock over once the holder is killed', async () => {
    // Prepare
    const impatient = new LocalStateStore(dir, { lock: { timeoutMs: 300 } });
    const holder = start('hold-worker.ts', [dir, 'lock', join(dir, 'locks', 'cursors', 'shop.orders')]);
    await holder.waitFor((line) => line === 'holding');

    // Act
    const whileHeld = impatient.commitCursor('shop', 'orders', 0, { value: 1, keysAtValue: [] });
    await expect(whileHeld).rejects.toThrow(SluiceError);
    await expect(whileHeld).rejects.toThrow(/timed out .* waiting for lock/);
    holder.child.kill('SIGKILL');
    await holder.exited();
    const startedAt = Date.now();
    await impatient.commitCursor('shop', 'orders', 0, { value: 1, keysAtValue: [] });

    // Assess: recovered at once (dead pid), not after the stale timeout.
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect((await impatient.getCursor('shop', 'orders')).version).toBe(1);
  });

  it('frees a lease at once when the process holding it dies', async () => {
    // Prepare
    const store = new LocalStateStore(dir);
    const holder = start('hold-worker.ts', [dir, 'lease', 'shop', 'child-run']);
    await holder.waitFor((line) => line === 'holding');

    // Act
    const whileAlive = store.acquireLease('shop', 'parent-run', 60_000);
    await expect(whileAlive).rejects.toBeInstanceOf(LeaseHeldError);
    await expect(whileAlive).rejects.toThrow(
      /source "shop" is being synced by run child-run \(lease held until 20/,
    );
    holder.child.kill('SIGKILL');
    await holder.exited();
    const lease = await store.acquireLease('shop', 'parent-run', 60_000);

    // Assess
    expect(lease.owner).toBe('parent-run');
    expect((await store.getLease('shop'))?.owner).toBe('parent-run');
  });
});
