/**
 * Two shards of one push source that first see a field with different types
 * each infer their own. The oracle is the query engine, which applies
 * Athena's rule (a column reads only files of its own physical type, or
 * INT32 under BIGINT): every pushed value must be readable from the table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliContext, openContext } from '../../../cli/context.js';
import { pushStreams } from '../../../connectors/push/index.js';
import type { SourceRecord } from '../../../connectors/sdk/types.js';
import { ConflictError } from '../../../engine/errors.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { landPushBatch, type PushOptions, type PushPhase } from '../../../engine/push.js';

const SOURCE: SourceDefinition = {
  name: 'hooks',
  type: 'push',
  config: { streams: [{ name: 'clicks' }], spread: 2 },
  createdAt: '2026-11-28T00:00:00.000Z',
  updatedAt: '2026-11-28T00:00:00.000Z',
};

/** Holds a batch at `phase` until resumed; `reached` settles once it is held there. */
function pauseAt(phase: PushPhase) {
  let resume: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    resume = resolve;
  });
  let arrived: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const onPhase = async (at: PushPhase): Promise<void> => {
    if (at !== phase) return;
    arrived();
    await held;
  };
  return { onPhase, reached, resume: () => resume() };
}

/** A redelivered record keeps its arrival time (and so its batch's run id). */
const ARRIVED = new Date();

describe('schema changes of a push table from two shards', () => {
  let home: string;
  let ctx: CliContext;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-push-schema-'));
    ctx = await openContext({ home, backend: 'local' });
    await ctx.state.putSource(SOURCE);
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const land = (shard: string, id: number, x: unknown, options: PushOptions = {}) =>
    landWith(shard, { id, x }, options);
  const landWith = (shard: string, data: SourceRecord, options: PushOptions = {}) =>
    landPushBatch(
      ctx,
      {
        source: SOURCE,
        streams: pushStreams(SOURCE.config as never),
        shardId: `arn:aws:kinesis:us-east-1:123456789012:stream/ingest/${shard}`,
        records: [{ stream: 'clicks', data, sequenceNumber: '100', arrivedAt: ARRIVED }],
      },
      options,
    );

  it('retries the batch that landed on a schema another shard changed, so every file stays readable', async () => {
    // Prepare: shard 0 infers `x` a double and stops before storing it, while shard 1 lands `x` an int.
    const pause = pauseAt('staged');
    const first = land('shardId-000000000000', 1, 10.5, {
      onPhase: pause.onPhase,
    });
    await pause.reached;
    await land('shardId-000000000001', 2, 10);

    // Act
    pause.resume();
    const conflict = await first.then(
      () => undefined,
      (error: unknown) => error,
    );
    const retried = await land('shardId-000000000000', 1, 10.5);

    // Assess
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as Error).message).toContain('hooks.clicks');
    expect(retried.landed).toBe(1);
    expect(retried.runId).not.toBe(undefined);
    const engine = await ctx.openQueryEngine();
    const { rows } = await engine.query('SELECT id, x, x__double FROM hooks.clicks ORDER BY id');
    expect(rows).toEqual([
      { id: 1, x: null, x__double: 10.5 },
      { id: 2, x: 10, x__double: null },
    ]);
  });

  it('lands at once, keeping the other shard’s columns, when the stored schema reads the batch’s files', async () => {
    // Prepare: shard 0 infers {id, x} and stops before storing it, while shard 1 lands {id, x, y}.
    const pause = pauseAt('staged');
    const first = land('shardId-000000000000', 1, 1, {
      onPhase: pause.onPhase,
    });
    await pause.reached;
    await landWith('shardId-000000000001', { id: 2, x: 2, y: 'b' });

    // Act
    pause.resume();
    const landed = await first;

    // Assess
    expect(landed.landed).toBe(1);
    const engine = await ctx.openQueryEngine();
    const { rows } = await engine.query('SELECT id, x, y FROM hooks.clicks ORDER BY id');
    expect(rows).toEqual([
      { id: 1, x: 1, y: null },
      { id: 2, x: 2, y: 'b' },
    ]);
  });

  it('never puts back an older schema when a batch publishes after another shard evolved the table', async () => {
    // Prepare: shard 0 stores {id, x int, y} and stops at its commit point; shard 1 then widens x to bigint.
    const pause = pauseAt('manifest-written');
    const first = landWith(
      'shardId-000000000000',
      { id: 1, x: 1, y: 'a' },
      {
        onPhase: pause.onPhase,
      },
    );
    await pause.reached;
    await landWith('shardId-000000000001', { id: 2, x: 5_000_000_000 });

    // Act
    pause.resume();
    await first;

    // Assess: x stays bigint (INT32 files read as BIGINT), and every row reads.
    const table = await ctx.catalog.getTable('hooks', 'clicks');
    expect(table?.schemaVersions.at(-1)?.columns.find((c) => c.name === 'x')?.type).toBe('bigint');
    const engine = await ctx.openQueryEngine();
    const { rows } = await engine.query('SELECT id, x, y FROM hooks.clicks ORDER BY id');
    expect(rows).toEqual([
      { id: 1, x: 1, y: 'a' },
      { id: 2, x: 5_000_000_000, y: null },
    ]);
  });

  it('lands the retry of a batch that stopped after its catalog write, before its commit point', async () => {
    // Prepare: the first attempt stores its new column, then fails registering its partition.
    const ensurePartition = ctx.catalog.ensurePartition.bind(ctx.catalog);
    ctx.catalog.ensurePartition = async () => {
      throw new Error('killed after the catalog write');
    };
    const stopped = await land('shardId-000000000000', 1, 10.5).then(
      () => undefined,
      (error: unknown) => error,
    );
    ctx.catalog.ensurePartition = ensurePartition;

    // Act
    const retried = await land('shardId-000000000000', 1, 10.5);

    // Assess
    expect((stopped as Error).message).toBe('killed after the catalog write');
    expect((await ctx.catalog.getTable('hooks', 'clicks'))?.schemaVersions).toHaveLength(1);
    expect(retried.landed).toBe(1);
    const engine = await ctx.openQueryEngine();
    const { rows } = await engine.query('SELECT id, x FROM hooks.clicks');
    expect(rows).toEqual([{ id: 1, x: 10.5 }]);
  });
});
