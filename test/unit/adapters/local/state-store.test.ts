import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStateStore } from '../../../../adapters/local/state-store.js';
import { ConflictError, LeaseHeldError, ValidationError } from '../../../../engine/errors.js';
import type { RunRecord, SourceDefinition } from '../../../../engine/ports.js';

function source(name: string, config: Record<string, unknown> = {}): SourceDefinition {
  return {
    name,
    type: 'sample',
    config,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

function run(sourceName: string, runId: string, startedAt: string): RunRecord {
  return { runId, source: sourceName, status: 'SUCCEEDED', startedAt, streams: {} };
}

describe('LocalStateStore', () => {
  let dir: string;
  let clock: number;
  let store: LocalStateStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-state-'));
    clock = Date.parse('2026-03-01T12:00:00.000Z');
    store = new LocalStateStore(dir, { now: () => clock });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('sources', () => {
    it('creates, lists, updates and deletes sources', async () => {
      // Act
      await store.createSource(source('shop'));
      await store.createSource(source('crm'));
      await store.putSource(source('shop', { rows: 5 }));

      // Assess
      expect((await store.listSources()).map((s) => s.name)).toEqual(['crm', 'shop']);
      expect((await store.getSource('shop'))?.config).toEqual({ rows: 5 });
      await store.deleteSource('shop');
      expect(await store.getSource('shop')).toBeUndefined();
      await store.deleteSource('shop'); // absent: no-op
    });

    it('throws ConflictError when creating a source that exists', async () => {
      // Prepare
      await store.createSource(source('shop', { v: 1 }));

      // Act
      const create = store.createSource(source('shop', { v: 2 }));

      // Assess
      await expect(create).rejects.toBeInstanceOf(ConflictError);
      await expect(create).rejects.toMatchObject({ statusCode: 409, what: 'source shop' });
      expect((await store.getSource('shop'))?.config).toEqual({ v: 1 });
    });

    it('lets exactly one of many concurrent creates win', async () => {
      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.createSource(source('shop', { i }))),
      );

      // Assess
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(
        results.filter((r) => r.status === 'rejected' && r.reason instanceof ConflictError),
      ).toHaveLength(9);
    });

    it('rejects names that are not snake_case, so nothing escapes the state directory', async () => {
      // Act & Assess
      for (const name of ['../evil', 'Shop', 'a/b', '', '1abc', 'x'.repeat(129)]) {
        await expect(store.createSource(source(name))).rejects.toBeInstanceOf(ValidationError);
      }
      await expect(store.getSource('../../etc/passwd')).rejects.toThrow(/name must be snake_case/);
      await expect(store.getCursor('shop', '../x')).rejects.toMatchObject({
        field: 'stream',
        statusCode: 400,
      });
      expect(await readdir(dir)).not.toContain('evil.json');
    });
  });

  describe('cursors', () => {
    it('starts at version 0 without a cursor', async () => {
      // Act
      const cursor = await store.getCursor('shop', 'orders');

      // Assess
      expect(cursor).toEqual({ cursor: undefined, version: 0 });
    });

    it('increments the version on every commit and resets with undefined', async () => {
      // Act
      await store.commitCursor('shop', 'orders', 0, { value: '2026-01-01T00:00:00Z', keysAtValue: ['[1]'] });
      await store.commitCursor('shop', 'orders', 1, { value: '2026-01-02T00:00:00Z', keysAtValue: [] });
      const second = await store.getCursor('shop', 'orders');
      await store.commitCursor('shop', 'orders', 2, undefined);

      // Assess
      expect(second).toEqual({ cursor: { value: '2026-01-02T00:00:00Z', keysAtValue: [] }, version: 2 });
      expect(await store.getCursor('shop', 'orders')).toEqual({ cursor: undefined, version: 3 });
      expect(await store.getCursor('shop', 'customers')).toEqual({ cursor: undefined, version: 0 });
    });

    it('throws ConflictError when the expected version is stale', async () => {
      // Prepare
      await store.commitCursor('shop', 'orders', 0, { value: 1, keysAtValue: [] });

      // Act
      const stale = store.commitCursor('shop', 'orders', 0, { value: 2, keysAtValue: [] });
      const ahead = store.commitCursor('shop', 'orders', 5, { value: 2, keysAtValue: [] });

      // Assess
      await expect(stale).rejects.toBeInstanceOf(ConflictError);
      await expect(stale).rejects.toThrow('cursor of shop.orders is at version 1, not 0');
      await expect(ahead).rejects.toBeInstanceOf(ConflictError);
      expect(await store.getCursor('shop', 'orders')).toEqual({
        cursor: { value: 1, keysAtValue: [] },
        version: 1,
      });
    });

    it('lets one of several concurrent commits on the same version win', async () => {
      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.commitCursor('shop', 'orders', 0, { value: i, keysAtValue: [] }),
        ),
      );

      // Assess
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await store.getCursor('shop', 'orders')).version).toBe(1);
    });

    it('keeps a keysRef pointer as given', async () => {
      // Act
      await store.commitCursor('shop', 'orders', 0, {
        value: 7,
        keysAtValue: [],
        keysRef: '_manifests/x.json',
      });

      // Assess
      expect((await store.getCursor('shop', 'orders')).cursor).toEqual({
        value: 7,
        keysAtValue: [],
        keysRef: '_manifests/x.json',
      });
    });
  });

  describe('runs', () => {
    it('lists runs newest first by startedAt, per source or across sources, with a limit', async () => {
      // Prepare
      await store.putRun(run('shop', 'b', '2026-01-02T00:00:00.000Z'));
      await store.putRun(run('shop', 'a', '2026-01-03T00:00:00.000Z'));
      await store.putRun(run('crm', 'c', '2026-01-01T00:00:00.000Z'));
      await store.putRun({
        ...run('shop', 'b', '2026-01-02T00:00:00.000Z'),
        status: 'FAILED',
        error: 'boom',
      });

      // Act
      const shop = await store.listRuns('shop');
      const all = await store.listRuns();
      const latest = await store.listRuns(undefined, 2);

      // Assess
      expect(shop.map((r) => r.runId)).toEqual(['a', 'b']);
      expect(shop[1]).toMatchObject({ status: 'FAILED', error: 'boom' });
      expect(all.map((r) => r.runId)).toEqual(['a', 'b', 'c']);
      expect(latest.map((r) => r.runId)).toEqual(['a', 'b']);
      expect(await store.getRun('crm', 'c')).toEqual(run('crm', 'c', '2026-01-01T00:00:00.000Z'));
      expect(await store.getRun('crm', 'missing')).toBeUndefined();
      expect(await store.listRuns('nothing')).toEqual([]);
    });

    it('finds a run by its id alone and lists the runs after a position', async () => {
      // Prepare
      await store.putRun(run('shop', 'a', '2026-01-03T00:00:00.000Z'));
      await store.putRun(run('shop', 'b2', '2026-01-02T00:00:00.000Z'));
      await store.putRun(run('shop', 'b1', '2026-01-02T00:00:00.000Z'));
      await store.putRun(run('crm', 'c', '2026-01-01T00:00:00.000Z'));

      // Act
      const found = await store.findRun('c');
      const missing = await store.findRun('nope');
      const after = await store.listRuns('shop', 10, { startedAt: '2026-01-02T00:00:00.000Z', runId: 'b2' });

      // Assess
      expect(found).toEqual(run('crm', 'c', '2026-01-01T00:00:00.000Z'));
      expect(missing).toBeUndefined();
      expect(after.map((r) => r.runId)).toEqual(['b1']);
    });

    it('stores run ids with slashes or colons safely inside the source directory', async () => {
      // Act
      await store.putRun(run('shop', 'a/../../x', '2026-01-01T00:00:00.000Z'));
      await store.putRun(run('shop', '2026-01-01T00:00:00Z/a', '2026-01-01T00:00:01.000Z'));

      // Assess
      expect((await store.getRun('shop', 'a/../../x'))?.runId).toBe('a/../../x');
      expect((await store.listRuns('shop')).map((r) => r.runId)).toEqual([
        '2026-01-01T00:00:00Z/a',
        'a/../../x',
      ]);
      expect(await readdir(join(dir, 'runs', 'shop'))).toHaveLength(2);
      for (const runId of ['..', '../x', '']) {
        await expect(store.putRun(run('shop', runId, '2026-01-01T00:00:00.000Z'))).rejects.toBeInstanceOf(
          ValidationError,
        );
      }
    });
  });

  describe('leases', () => {
    it('throws LeaseHeldError naming the holder and expiry while another run holds the lease', async () => {
      // Prepare
      await store.acquireLease('shop', 'run-1', 60_000);

      // Act
      const second = store.acquireLease('shop', 'run-2', 60_000);

      // Assess
      await expect(second).rejects.toBeInstanceOf(LeaseHeldError);
      await expect(second).rejects.toThrow(
        'source "shop" is being synced by run run-1 (lease held until 2026-03-01T12:01:00.000Z); wait for it or retry later',
      );
      await expect(second).rejects.toMatchObject({
        source: 'shop',
        owner: 'run-1',
        expiresAt: clock + 60_000,
        statusCode: 409,
      });
    });

    it('lets the holder re-acquire and renew its own lease', async () => {
      // Prepare
      await store.acquireLease('shop', 'run-1', 1_000);

      // Act
      clock += 500;
      const again = await store.acquireLease('shop', 'run-1', 1_000);
      clock += 2_000; // expired, but nobody took it over
      const renewed = await store.renewLease('shop', 'run-1', 1_000);

      // Assess
      expect(again).toEqual({ source: 'shop', owner: 'run-1', expiresAt: clock - 2_000 + 1_000 });
      expect(renewed).toEqual({ source: 'shop', owner: 'run-1', expiresAt: clock + 1_000 });
    });

    it('hands an expired lease to another run, after which the old holder cannot renew it', async () => {
      // Prepare
      await store.acquireLease('shop', 'run-1', 1_000);
      clock += 1_001;

      // Act
      const taken = await store.acquireLease('shop', 'run-2', 1_000);
      const renew = store.renewLease('shop', 'run-1', 1_000);

      // Assess
      expect(taken.owner).toBe('run-2');
      await expect(renew).rejects.toBeInstanceOf(LeaseHeldError);
      await expect(renew).rejects.toMatchObject({ owner: 'run-2' });
    });

    it('releases only for the owner and refuses to renew a released lease', async () => {
      // Prepare
      await store.acquireLease('shop', 'run-1', 60_000);

      // Act
      await store.releaseLease('shop', 'run-2'); // not the owner: no-op
      const stillHeld = await store.getLease('shop');
      await store.releaseLease('shop', 'run-1');
      const renew = store.renewLease('shop', 'run-1', 60_000);

      // Assess
      expect(stillHeld?.owner).toBe('run-1');
      expect(await store.getLease('shop')).toBeUndefined();
      await expect(renew).rejects.toBeInstanceOf(LeaseHeldError);
      await expect(renew).rejects.toThrow('source "shop" is not leased by this run any more');
      expect((await store.acquireLease('shop', 'run-3', 60_000)).owner).toBe('run-3');
    });

    it('lets exactly one of many concurrent acquirers win', async () => {
      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.acquireLease('shop', `run-${i}`, 60_000)),
      );

      // Assess
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('rejects an empty owner or a non-positive ttl', async () => {
      // Act & Assess
      await expect(store.acquireLease('shop', '', 1_000)).rejects.toMatchObject({ field: 'owner' });
      await expect(store.acquireLease('shop', 'run-1', 0)).rejects.toMatchObject({ field: 'ttlMs' });
    });
  });
});
