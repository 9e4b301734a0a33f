import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
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

/** What a promise settled with: its value, or the error it was rejected with (awaited at once, so never unhandled). */
const settled = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (v) => v,
    (e: unknown) => e,
  );

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
      // Prepare; the very same create again (a retry) succeeds
      await store.createSource(source('shop', { v: 1 }));
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

    it('updates only over the definition it read, so a deleted source stays deleted', async () => {
      // Prepare
      await store.createSource(source('shop', { v: 1 }));
      const read = (await store.getSource('shop'))!;
      const next = { ...source('shop', { v: 2 }), updatedAt: '2026-01-02T00:00:00.000Z' };

      // Act
      await store.putSource(next, { updatedAt: read.updatedAt });
      await store.putSource(next, { updatedAt: read.updatedAt }); // a retry of the same put
      const stale = await settled(
        store.putSource({ ...next, config: { v: 3 } }, { updatedAt: read.updatedAt }),
      );
      await store.deleteSource('shop');
      const afterDelete = await settled(store.putSource(next, { updatedAt: next.updatedAt }));

      // Assess
      expect(stale).toMatchObject({ statusCode: 409, what: 'source shop' });
      expect(afterDelete).toBeInstanceOf(ConflictError);
      expect(await store.getSource('shop')).toBeUndefined();
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

  describe('layout, locks and validation', () => {
    /**
     * Whether `operation` took the lock `locks/<kind>/<key>`: a new claim appears there. Read from
     * the lock's files rather than by timing, so a slow machine cannot make an operation look locked.
     */
    async function takesLock(kind: string, key: string, operation: () => Promise<unknown>): Promise<boolean> {
      const lockDir = join(dir, 'locks', kind, key);
      const topClaim = async (): Promise<string | undefined> =>
        (await readdir(lockDir).catch(() => [] as string[]))
          .filter((name) => name.endsWith('.claim'))
          .sort()
          .at(-1);
      const before = await topClaim();
      await operation().catch(() => undefined);
      return (await topClaim()) !== before;
    }

    it('keeps sources, cursors, runs and leases at their documented paths', async () => {
      // Act
      await store.putSource(source('shop'));
      await store.commitCursor('shop', 'orders', 0, { value: 1, keysAtValue: [] });
      await store.putRun(run('shop', 'run_1', '2026-01-01T00:00:00.000Z'));
      await store.acquireLease('shop', 'run_1', 1_000);

      // Assess
      expect(await readdir(join(dir, 'sources'))).toEqual(['shop.json']);
      expect(await readdir(join(dir, 'cursors', 'shop'))).toEqual(['orders.json']);
      expect((await readdir(join(dir, 'runs', 'shop'))).filter((n) => n.endsWith('.json'))).toHaveLength(1);
      expect(await readdir(join(dir, 'leases'))).toEqual(['shop.json']);
    });

    it('takes the lock of the entity it changes', async () => {
      // Act / Assess
      expect(await takesLock('sources', 'shop', () => store.putSource(source('shop')))).toBe(true);
      expect(await takesLock('sources', 'shop', () => store.createSource(source('shop')))).toBe(true);
      expect(await takesLock('sources', 'shop', () => store.deleteSource('shop'))).toBe(true);
      expect(
        await takesLock('cursors', 'shop.orders', () =>
          store.commitCursor('shop', 'orders', 0, { value: 1, keysAtValue: [] }),
        ),
      ).toBe(true);
      expect(await takesLock('leases', 'shop', () => store.acquireLease('shop', 'run_1', 1_000))).toBe(true);
      expect(await takesLock('leases', 'shop', () => store.renewLease('shop', 'run_1', 1_000))).toBe(true);
      expect(await takesLock('leases', 'shop', () => store.releaseLease('shop', 'run_1'))).toBe(true);
      expect(await takesLock('sources', 'other', () => store.putSource(source('shop')))).toBe(false);
    });

    it('ignores files that are not JSON entities when listing', async () => {
      // Prepare
      await store.putSource(source('shop'));
      await store.putRun(run('shop', 'run_1', '2026-01-01T00:00:00.000Z'));
      await writeFile(join(dir, 'sources', 'notes.txt'), 'not json');
      await writeFile(join(dir, 'runs', 'shop', 'notes.txt'), 'not json');

      // Act / Assess
      expect((await store.listSources()).map((s) => s.name)).toEqual(['shop']);
      expect((await store.listRuns('shop')).map((r) => r.runId)).toEqual(['run_1']);
    });

    it('skips a source whose file is gone by the time it is read', async () => {
      // Prepare: a listed name with nothing behind it, as when deleteSource runs between the
      // directory listing and the read.
      await store.putSource(source('shop'));
      await symlink(join(dir, 'sources', 'deleted_meanwhile.json'), join(dir, 'sources', 'gone.json'));

      // Act
      const sources = await store.listSources();

      // Assess
      expect(sources.map((s) => s.name)).toEqual(['shop']);
    });

    it('orders runs that started at the same instant by run id, newest first', async () => {
      // Prepare
      const at = '2026-01-01T00:00:00.000Z';
      for (const id of ['run_b', 'run_c', 'run_a']) await store.putRun(run('shop', id, at));

      // Act / Assess
      expect((await store.listRuns('shop')).map((r) => r.runId)).toEqual(['run_c', 'run_b', 'run_a']);
    });

    it('orders runs that started at the same instant by run id, not by their file names', async () => {
      // Prepare: 'x/1' > 'x-1', but its file name 'x%2F1.json' sorts before 'x-1.json'
      const at = '2026-01-01T00:00:00.000Z';
      for (const id of ['x-1', 'x/1']) await store.putRun(run('shop', id, at));

      // Act / Assess
      expect((await store.listRuns('shop')).map((r) => r.runId)).toEqual(['x/1', 'x-1']);
    });

    it('finds the newest run when two sources have a run with the same id', async () => {
      // Prepare: the newer one in the source listed last
      await store.putRun(run('crm', 'run_1', '2026-01-01T00:00:00.000Z'));
      await store.putRun(run('shop', 'run_1', '2026-01-02T00:00:00.000Z'));

      // Act
      const found = await store.findRun('run_1');

      // Assess
      expect(found?.source).toBe('shop');
    });

    it('names the source field when a cursor, run, run listing or lease gets a bad source name', async () => {
      // Act / Assess
      const bad = 'Bad Source';
      const calls: Array<() => Promise<unknown>> = [
        () => store.getCursor(bad, 'orders'),
        () => store.commitCursor(bad, 'orders', 0, undefined),
        () => store.putRun(run(bad, 'run_1', '2026-01-01T00:00:00.000Z')),
        () => store.getRun(bad, 'run_1'),
        () => store.listRuns(bad),
        () => store.acquireLease(bad, 'run_1', 1_000),
      ];
      for (const call of calls) {
        await expect(call()).rejects.toMatchObject({ name: 'ValidationError', field: 'source' });
      }
      await expect(store.getCursor('shop', 'Bad Stream')).rejects.toMatchObject({ field: 'stream' });
    });

    it('names the source and the entity in a create conflict, and the cursor in a commit conflict', async () => {
      // Prepare
      await store.createSource(source('shop'));
      await store.commitCursor('shop', 'orders', 0, { value: 1, keysAtValue: [] });

      // Act
      const created = await store.createSource(source('shop', { other: true })).catch((e: unknown) => e);
      const committed = await store
        .commitCursor('shop', 'orders', 0, { value: 2, keysAtValue: [] })
        .catch((e: unknown) => e);

      // Assess
      expect(created).toMatchObject({ message: 'source "shop" already exists', what: 'source shop' });
      expect(committed).toMatchObject({
        message: 'cursor of shop.orders is at version 1, not 0: another run committed first',
        what: 'cursor shop/orders',
      });
    });

    it('rejects an expected version that is negative or not an integer, naming it', async () => {
      // Act / Assess
      for (const bad of [-1, 1.5]) {
        await expect(store.commitCursor('shop', 'orders', bad, undefined)).rejects.toMatchObject({
          name: 'ValidationError',
          field: 'expectedVersion',
          message: `expectedVersion must be a non-negative integer, got ${bad}`,
        });
      }
      expect((await store.getCursor('shop', 'orders')).version).toBe(0);
    });

    it('names the field in validation errors of names, owners and ttls', async () => {
      // Act / Assess
      await expect(store.putSource(source('Bad Name'))).rejects.toMatchObject({ field: 'name' });
      await expect(store.createSource(source('Bad Name'))).rejects.toMatchObject({ field: 'name' });
      await expect(store.deleteSource('Bad Name')).rejects.toMatchObject({ field: 'name' });
      await expect(store.acquireLease('shop', 42 as never, 1_000)).rejects.toMatchObject({
        field: 'owner',
        message: 'lease owner must be a non-empty string',
      });
      await expect(store.renewLease('shop', 'run_1', -5)).rejects.toMatchObject({
        field: 'ttlMs',
        message: 'lease ttlMs must be a positive number, got -5',
      });
    });

    it('frees a lease at the instant it expires', async () => {
      // Prepare
      await store.acquireLease('shop', 'run_1', 1_000);
      clock += 1_000;

      // Act
      const taken = await store.acquireLease('shop', 'run_2', 1_000);

      // Assess
      expect(taken.owner).toBe('run_2');
    });

    it('frees a lease of a dead process on this host, never one of another host', async () => {
      // Prepare: a pid that surely is not alive, and leases that have not expired
      const dead = 2 ** 22 + 12_345;
      const lease = (host: string) => ({
        source: 'shop',
        owner: 'gone',
        expiresAt: clock + 60_000,
        pid: dead,
        host,
        acquiredAt: clock,
      });
      await mkdir(join(dir, 'leases'), { recursive: true });
      await writeFile(join(dir, 'leases', 'shop.json'), JSON.stringify(lease(hostname())));
      await writeFile(
        join(dir, 'leases', 'elsewhere.json'),
        JSON.stringify({ ...lease('another-host'), source: 'elsewhere' }),
      );

      // Act
      const here = await store.acquireLease('shop', 'run_1', 1_000);
      const there = await store.acquireLease('elsewhere', 'run_1', 1_000).catch((e: unknown) => e);

      // Assess
      expect(here.owner).toBe('run_1');
      expect(there).toBeInstanceOf(LeaseHeldError);
      expect((await store.getLease('elsewhere'))?.owner).toBe('gone');
    });
  });
});
