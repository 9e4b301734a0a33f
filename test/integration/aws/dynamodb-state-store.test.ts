import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import {
  createStateTable,
  DynamoDbStateStore,
  StateTableSchema,
} from '../../../adapters/aws/dynamodb-state-store.js';
import { ConflictError, LeaseHeldError, ValidationError } from '../../../engine/errors.js';
import type { RunRecord, SourceDefinition } from '../../../engine/ports.js';
import { uniqueName } from './support.js';

const client = new DynamoDBClient(clientConfig(AwsService.dynamodb));
const tableName = uniqueName('sluice-state');

function source(name: string, extra: Partial<SourceDefinition> = {}): SourceDefinition {
  return {
    name,
    type: 'sample',
    config: {
      api_key: { $secret: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:x' },
      nested: { a: [1, 2] },
    },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}

function run(sourceName: string, runId: string, startedAt: string, status: RunRecord['status']): RunRecord {
  return {
    runId,
    source: sourceName,
    status,
    startedAt,
    streams: {
      orders: {
        rows: 3,
        bytes: 100,
        files: 1,
        durationMs: 5,
        skipped: 0,
        schemaChanges: ['added column id (int)'],
        cursorFrom: null,
        cursorTo: '2026-01-01T00:00:00.000Z',
        incremental: false,
      },
    },
  };
}

/** A clock tests move by hand. */
function manualClock(start = 1_800_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** What a promise settled with: its value, or the error it was rejected with (awaited at once, so never unhandled). */
const settled = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (v) => v,
    (e: unknown) => e,
  );

describe('createStateTable', () => {
  beforeAll(async () => {
    await createStateTable({ tableName, client });
  });

  it('creates the table with its three GSIs and TTL, and is a no-op the second time', async () => {
    // Act
    await createStateTable({ tableName, client });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));

    // Assess
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((i) => [
      i.IndexName,
      i.KeySchema?.map((k) => k.AttributeName),
      i.Projection?.ProjectionType,
    ]);
    expect(indexes.sort()).toEqual([
      ['gsi1', ['gsi1pk', 'gsi1sk'], 'INCLUDE'],
      ['gsi2', ['gsi2pk', 'gsi2sk'], 'INCLUDE'],
      ['gsi3', ['runId', 'source'], 'INCLUDE'],
    ]);
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe(StateTableSchema.ttlAttribute);
  });
});

describe('DynamoDbStateStore', () => {
  const store = new DynamoDbStateStore({ tableName, client });

  beforeAll(async () => {
    await createStateTable({ tableName, client });
  });

  describe('sources', () => {
    it('creates, reads and lists sources with their nested config', async () => {
      // Act
      await store.createSource(source('src_a'));
      await store.createSource(
        source('src_b', { schedule: 'rate(1 hour)', slaMinutes: 90, streams: ['orders'] }),
      );

      // Assess
      expect(await store.getSource('src_a')).toEqual(source('src_a'));
      const listed = await store.listSources();
      expect(listed.map((s) => s.name)).toEqual(expect.arrayContaining(['src_a', 'src_b']));
      expect(listed.find((s) => s.name === 'src_b')?.slaMinutes).toBe(90);
      expect(await store.getSource('src_missing')).toBeUndefined();
    });

    it('refuses to create a source that exists, with a ConflictError', async () => {
      // Prepare; a repeat of the very same create (an SDK retry after a lost answer) succeeds
      await store.createSource(source('src_dup'));
      await store.createSource(source('src_dup'));

      // Act
      const again = store.createSource(source('src_dup', { type: 'other' }));

      // Assess
      await expect(again).rejects.toBeInstanceOf(ConflictError);
      await expect(again).rejects.toMatchObject({ statusCode: 409, what: 'source src_dup' });
      expect((await store.getSource('src_dup'))?.type).toBe('sample');
    });

    it('lets exactly one of two concurrent creates of one source win', async () => {
      const results = await Promise.allSettled([
        store.createSource(source('src_race', { type: 'one' })),
        store.createSource(source('src_race', { type: 'two' })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(ConflictError);
    });

    it('updates only over the definition it read, so a deleted source stays deleted', async () => {
      // Prepare
      await store.createSource(source('src_cas'));
      const read = (await store.getSource('src_cas'))!;
      const next = source('src_cas', { schedule: 'rate(1 hour)', updatedAt: '2026-02-01T00:00:00.000Z' });

      // Act
      await store.putSource(next, { updatedAt: read.updatedAt });
      // The SDK's retry of a put whose answer was lost: the condition fails, the definition is there.
      await store.putSource(next, { updatedAt: read.updatedAt });
      const stale = await settled(store.putSource({ ...next, paused: true }, { updatedAt: read.updatedAt }));
      await store.deleteSource('src_cas');
      const afterDelete = await settled(store.putSource(next, { updatedAt: next.updatedAt }));

      // Assess
      expect(stale).toMatchObject({ statusCode: 409, what: 'source src_cas' });
      expect(afterDelete).toBeInstanceOf(ConflictError);
      expect(await store.getSource('src_cas')).toBeUndefined();
    });

    it('updates with putSource and deletes the definition', async () => {
      // Prepare
      await store.putSource(source('src_upd'));

      // Act
      await store.putSource(
        source('src_upd', { schedule: 'cron(0 * * * ? *)', updatedAt: '2026-02-01T00:00:00.000Z' }),
      );
      const updated = await store.getSource('src_upd');
      await store.deleteSource('src_upd');
      await store.deleteSource('src_upd');

      // Assess
      expect(updated?.schedule).toBe('cron(0 * * * ? *)');
      expect(await store.getSource('src_upd')).toBeUndefined();
      expect((await store.listSources()).map((s) => s.name)).not.toContain('src_upd');
    });

    it('rejects names that are not snake_case with a ValidationError', async () => {
      await expect(store.getSource('Bad#Name')).rejects.toBeInstanceOf(ValidationError);
      await expect(store.createSource(source('has space'))).rejects.toMatchObject({ field: 'name' });
    });
  });

  describe('cursors', () => {
    it('starts at version 0 with no cursor', async () => {
      expect(await store.getCursor('cur_src', 'fresh')).toEqual({ cursor: undefined, version: 0 });
    });

    it('commits with compare-and-set on the version', async () => {
      // Act
      await store.commitCursor('cur_src', 'orders', 0, {
        value: '2026-01-01T00:00:00.000Z',
        keysAtValue: ['[1]'],
      });
      await store.commitCursor('cur_src', 'orders', 1, {
        value: '2026-01-02T00:00:00.000Z',
        keysAtValue: [],
      });

      // Assess
      expect(await store.getCursor('cur_src', 'orders')).toEqual({
        cursor: { value: '2026-01-02T00:00:00.000Z', keysAtValue: [] },
        version: 2,
      });
    });

    it('throws ConflictError when the version moved, and keeps the winner', async () => {
      // Prepare
      await store.commitCursor('cur_src', 'stale', 0, { value: 1, keysAtValue: [] });

      // Act (both settle before any assertion, so neither rejection goes unhandled)
      const [stale, ahead] = await Promise.allSettled([
        store.commitCursor('cur_src', 'stale', 0, { value: 99, keysAtValue: [] }),
        store.commitCursor('cur_src', 'stale', 5, { value: 99, keysAtValue: [] }),
      ]);

      // Assess
      expect(stale.status === 'rejected' && stale.reason).toBeInstanceOf(ConflictError);
      expect(ahead.status === 'rejected' && (ahead.reason as Error).message).toMatch(/version 1, not 5/);
      expect(await store.getCursor('cur_src', 'stale')).toEqual({
        cursor: { value: 1, keysAtValue: [] },
        version: 1,
      });
    });

    it('lets exactly one of many concurrent commits from one version win', async () => {
      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.commitCursor('cur_src', 'race', 0, { value: i, keysAtValue: [] }),
        ),
      );

      // Assess
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      expect((await store.getCursor('cur_src', 'race')).version).toBe(1);
    });

    it('resets a stream with an undefined cursor, still advancing the version', async () => {
      // Prepare
      await store.commitCursor('cur_src', 'reset', 0, { value: 10, keysAtValue: ['[10]'] });

      // Act
      await store.commitCursor('cur_src', 'reset', 1, undefined);

      // Assess
      expect(await store.getCursor('cur_src', 'reset')).toEqual({ cursor: undefined, version: 2 });
    });

    it('keeps a keysRef pointing at a manifest', async () => {
      const cursor = { value: 5, keysAtValue: [], keysRef: '_manifests/cur_src/committed/r1.json' };
      await store.commitCursor('cur_src', 'many_keys', 0, cursor);
      expect((await store.getCursor('cur_src', 'many_keys')).cursor).toEqual(cursor);
    });
  });

  describe('runs', () => {
    beforeAll(async () => {
      await store.putRun(run('runs_a', 'r1', '2026-01-01T01:00:00.000Z', 'SUCCEEDED'));
      await store.putRun(run('runs_a', 'r2', '2026-01-01T02:00:00.000Z', 'FAILED'));
      await store.putRun(run('runs_a', 'r3', '2026-01-01T03:00:00.000Z', 'RUNNING'));
      await store.putRun(run('runs_b', 'r4', '2026-01-01T02:30:00.000Z', 'SUCCEEDED'));
    });

    it('gets one run with its per-stream stats', async () => {
      expect(await store.getRun('runs_a', 'r2')).toEqual(
        run('runs_a', 'r2', '2026-01-01T02:00:00.000Z', 'FAILED'),
      );
      expect(await store.getRun('runs_a', 'r404')).toBeUndefined();
    });

    it('lists the runs of one source newest first through GSI1', async () => {
      expect((await store.listRuns('runs_a')).map((r) => r.runId)).toEqual(['r3', 'r2', 'r1']);
      expect((await store.listRuns('runs_a', 2)).map((r) => r.runId)).toEqual(['r3', 'r2']);
      expect(await store.listRuns('runs_none')).toEqual([]);
    });

    it('finds a run by its id alone through GSI3', async () => {
      expect(await store.findRun('r4')).toEqual(run('runs_b', 'r4', '2026-01-01T02:30:00.000Z', 'SUCCEEDED'));
      expect(await store.findRun('r404')).toBeUndefined();
    });

    it('lists the runs after a position, per source and across sources', async () => {
      const after = { startedAt: '2026-01-01T02:30:00.000Z', runId: 'r4' };
      expect((await store.listRuns('runs_a', 10, after)).map((r) => r.runId)).toEqual(['r2', 'r1']);
      const all = (await store.listRuns(undefined, 10, after)).filter((r) => r.source.startsWith('runs_'));
      expect(all.map((r) => r.runId)).toEqual(['r2', 'r1']);
    });

    it('lists runs by status across sources through GSI2', async () => {
      const succeeded = await store.listRunsByStatus('SUCCEEDED');
      expect(succeeded.map((r) => r.runId)).toEqual(['r4', 'r1']);
      expect((await store.listRunsByStatus('RUNNING')).map((r) => r.runId)).toEqual(['r3']);
    });

    it('lists the runs of every source newest first', async () => {
      const all = (await store.listRuns()).filter((r) => r.source === 'runs_a' || r.source === 'runs_b');
      expect(all.map((r) => r.runId)).toEqual(['r3', 'r4', 'r2', 'r1']);
      expect(await store.listRuns(undefined, 1)).toHaveLength(1);
    });

    it('moves a run between status partitions when it finishes', async () => {
      // Prepare
      await store.putRun(run('runs_c', 'r5', '2026-01-02T00:00:00.000Z', 'RUNNING'));

      // Act
      await store.putRun({
        ...run('runs_c', 'r5', '2026-01-02T00:00:00.000Z', 'FAILED'),
        endedAt: '2026-01-02T00:01:00.000Z',
        error: 'boom',
      });

      // Assess
      expect((await store.listRunsByStatus('RUNNING')).map((r) => r.runId)).not.toContain('r5');
      expect((await store.listRunsByStatus('FAILED')).find((r) => r.runId === 'r5')?.error).toBe('boom');
      expect(await store.listRuns('runs_c')).toHaveLength(1);
    });

    it('gives runs a TTL when a retention is configured', async () => {
      // Prepare
      const retaining = new DynamoDbStateStore({ tableName, client, runRetentionDays: 30 });

      // Act
      await retaining.putRun(run('runs_ttl', 'r6', '2026-01-01T00:00:00.000Z', 'SUCCEEDED'));
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: 'SOURCE#runs_ttl' }, sk: { S: 'RUN#r6' } },
        }),
      );

      // Assess
      expect(Number(Item?.ttl?.N)).toBe(Date.parse('2026-01-31T00:00:00.000Z') / 1000);
    });
  });

  describe('leases', () => {
    it('gives the lease to one owner and refuses another with LeaseHeldError naming the holder', async () => {
      // Prepare
      const lease = await store.acquireLease('lease_a', 'run-1', 60_000);

      // Act
      const other = store.acquireLease('lease_a', 'run-2', 60_000);

      // Assess
      await expect(other).rejects.toBeInstanceOf(LeaseHeldError);
      await expect(other).rejects.toMatchObject({
        source: 'lease_a',
        owner: 'run-1',
        expiresAt: lease.expiresAt,
        statusCode: 409,
      });
    });

    it('lets exactly one of several concurrent owners take a free lease', async () => {
      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => store.acquireLease('lease_race', `run-${i}`, 60_000)),
      );

      // Assess
      const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.owner] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ owner: winner });
      expect((await store.getLease('lease_race'))?.owner).toBe(winner);
    });

    it('lets the holder acquire again (a retried acquire) and renew', async () => {
      // Prepare
      const clock = manualClock();
      const timed = new DynamoDbStateStore({ tableName, client, now: clock.now });
      await timed.acquireLease('lease_b', 'run-1', 1000);

      // Act
      clock.advance(500);
      const again = await timed.acquireLease('lease_b', 'run-1', 1000);
      clock.advance(500);
      const renewed = await timed.renewLease('lease_b', 'run-1', 1000);

      // Assess
      expect(again.expiresAt).toBe(clock.now() - 500 + 1000);
      expect(renewed).toEqual({ source: 'lease_b', owner: 'run-1', expiresAt: clock.now() + 1000 });
      await expect(timed.acquireLease('lease_b', 'run-2', 1000)).rejects.toBeInstanceOf(LeaseHeldError);
    });

    it('hands an expired lease to the next owner, and the old holder can no longer renew it', async () => {
      // Prepare
      const clock = manualClock();
      const timed = new DynamoDbStateStore({ tableName, client, now: clock.now });
      await timed.acquireLease('lease_c', 'run-1', 1000);

      // Act
      clock.advance(1000);
      const taken = await timed.acquireLease('lease_c', 'run-2', 1000);
      const renew = timed.renewLease('lease_c', 'run-1', 1000);

      // Assess
      expect(taken.owner).toBe('run-2');
      await expect(renew).rejects.toMatchObject({ name: 'LeaseHeldError', owner: 'run-2' });
    });

    it('takes over a lease that expired in real time', async () => {
      // Prepare
      await store.acquireLease('lease_real', 'run-1', 150);

      // Act
      await new Promise((r) => setTimeout(r, 300));
      const taken = await store.acquireLease('lease_real', 'run-2', 60_000);

      // Assess
      expect(taken.owner).toBe('run-2');
    });

    it('renews an expired lease nobody took over (as the local store does)', async () => {
      // Prepare
      const clock = manualClock();
      const timed = new DynamoDbStateStore({ tableName, client, now: clock.now });
      await timed.acquireLease('lease_d', 'run-1', 1000);

      // Act
      clock.advance(5000);
      const renewed = await timed.renewLease('lease_d', 'run-1', 1000);

      // Assess
      expect(renewed.expiresAt).toBe(clock.now() + 1000);
    });

    it('fails to renew a lease that was released, with no holder named', async () => {
      // Prepare
      await store.acquireLease('lease_e', 'run-1', 60_000);
      await store.releaseLease('lease_e', 'run-1');

      // Act
      const renew = store.renewLease('lease_e', 'run-1', 60_000);

      // Assess
      await expect(renew).rejects.toBeInstanceOf(LeaseHeldError);
      await expect(renew).rejects.toMatchObject({ owner: undefined, expiresAt: undefined });
    });

    it('releases only for the holder', async () => {
      // Prepare
      await store.acquireLease('lease_f', 'run-1', 60_000);

      // Act
      await store.releaseLease('lease_f', 'run-2');
      const stillHeld = await store.getLease('lease_f');
      await store.releaseLease('lease_f', 'run-1');
      await store.releaseLease('lease_f', 'run-1');

      // Assess
      expect(stillHeld?.owner).toBe('run-1');
      expect(await store.getLease('lease_f')).toBeUndefined();
      expect((await store.acquireLease('lease_f', 'run-2', 60_000)).owner).toBe('run-2');
    });

    it('stores a TTL attribute in epoch seconds after the expiry', async () => {
      // Prepare
      const lease = await store.acquireLease('lease_g', 'run-1', 60_000);

      // Act
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: 'SOURCE#lease_g' }, sk: { S: 'LEASE' } },
        }),
      );

      // Assess
      const ttl = Number(Item?.ttl?.N);
      expect(ttl).toBeGreaterThanOrEqual(Math.ceil(lease.expiresAt / 1000));
      expect(ttl).toBeLessThan(Math.ceil(lease.expiresAt / 1000) + 86_400);
    });

    it('rejects a non-positive TTL and an empty owner', async () => {
      await expect(store.acquireLease('lease_h', 'run-1', 0)).rejects.toMatchObject({ field: 'ttlMs' });
      await expect(store.acquireLease('lease_h', '', 1000)).rejects.toMatchObject({ field: 'owner' });
    });
  });
  describe('compare-and-set and lease details', () => {
    const rawItem = async (pk: string, sk: string) =>
      (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } })))
        .Item;

    it('refuses a first commit that expects a version the cursor never had, naming the cursor', async () => {
      // Act
      const error = await store
        .commitCursor('cas_src', 'never', 2, { value: 1, keysAtValue: [] })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({
        message: 'cursor cas_src/never is at version 0, not 2: another run committed first',
        what: 'cursor cas_src/never',
      });
      expect(await store.getCursor('cas_src', 'never')).toEqual({ cursor: undefined, version: 0 });
    });

    it('rejects an expected version that is negative or not an integer, and bad names, naming the field', async () => {
      // Act / Assess
      for (const bad of [-1, 1.5]) {
        await expect(store.commitCursor('cas_src', 'orders', bad, undefined)).rejects.toMatchObject({
          name: 'ValidationError',
          field: 'expectedVersion',
          message: `expectedVersion must be a non-negative integer, got ${bad}`,
        });
      }
      await expect(store.commitCursor('Bad Source', 'orders', 0, undefined)).rejects.toMatchObject({
        field: 'source',
      });
      await expect(store.commitCursor('cas_src', 'Bad Stream', 0, undefined)).rejects.toMatchObject({
        field: 'stream',
      });
      await expect(store.releaseLease('Bad Source', 'run-1')).rejects.toMatchObject({ field: 'source' });
      await expect(store.getLease('Bad Source')).rejects.toMatchObject({ field: 'source' });
      expect((await store.getCursor('cas_src', 'orders')).version).toBe(0);
    });

    it('stores cursor and lease items as the table layout says', async () => {
      // Act
      await store.commitCursor('cas_src', 'layout', 0, { value: 1, keysAtValue: [] });
      await store.acquireLease('cas_src', 'run-1', 60_000);

      // Assess
      expect(await rawItem('SOURCE#cas_src', 'CURSOR#layout')).toMatchObject({
        entity: { S: 'cursor' },
        source: { S: 'cas_src' },
        stream: { S: 'layout' },
        version: { N: '1' },
      });
      expect(await rawItem('SOURCE#cas_src', 'LEASE')).toMatchObject({
        entity: { S: 'lease' },
        source: { S: 'cas_src' },
        owner: { S: 'run-1' },
      });
    });

    it('moves the TTL attribute with the expiry when a lease is renewed', async () => {
      // Prepare
      await store.acquireLease('cas_ttl', 'run-1', 1_000);

      // Act
      const renewed = await store.renewLease('cas_ttl', 'run-1', 2 * 86_400_000);

      // Assess
      const ttl = Number((await rawItem('SOURCE#cas_ttl', 'LEASE'))?.ttl?.N);
      expect(ttl).toBeGreaterThanOrEqual(Math.ceil(renewed.expiresAt / 1000));
      expect(ttl).toBeLessThan(Math.ceil(renewed.expiresAt / 1000) + 86_400);
    });

    it('passes on an error releasing a lease other than losing it', async () => {
      // Prepare: a table that does not exist
      const missing = new DynamoDbStateStore({ tableName: uniqueName('sluice-missing'), client });

      // Act
      const released = missing.releaseLease('cas_src', 'run-1');

      // Assess
      await expect(released).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });
});
