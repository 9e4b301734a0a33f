/**
 * The compaction job against the local adapters: pushed batches land into
 * a partition's current version, compaction rewrites them into the next
 * one, and readers (the local DuckDB engine, which follows the catalog's
 * partition locations) see every pushed record exactly once — before,
 * during and after, across a crash at every step and a retry. The oracle is
 * the list of records pushed, never the compaction's own bookkeeping.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../adapters/local/query-engine.js';
import { type CliContext, openContext } from '../../../cli/context.js';
import { pushStreams } from '../../../connectors/push/index.js';
import {
  type CompactionJobOptions,
  type CompactionPhase,
  compactSource,
  parquetRowCount,
} from '../../../engine/compaction-job.js';
import { takeLease } from '../../../engine/lease.js';
import type { ObjectStore, SourceDefinition } from '../../../engine/ports.js';
import { landPushBatch, partitionLeaseName } from '../../../engine/push.js';
import type { SyncDeps } from '../../../engine/run.js';

const DAY = '2026-11-20';
const PARTITION = `dt=${DAY}`;
const NOW = new Date('2026-11-27T12:00:00Z');
const SOURCE: SourceDefinition = {
  name: 'hooks',
  type: 'push',
  config: { streams: [{ name: 'clicks' }] },
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
};
const SMALL: CompactionJobOptions = { targetFileBytes: 1_000_000, minFiles: 2, leaseWaitMs: 2_000 };

class Crash extends Error {}

describe('compaction job', () => {
  let home: string;
  let ctx: CliContext;
  let now: Date;
  let deps: SyncDeps;
  let pushed: number[];
  let sequence: number;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-compact-'));
    ctx = await openContext({ home, backend: 'local' });
    await ctx.state.putSource(SOURCE);
    now = NOW;
    deps = { ...ctx, clock: () => now };
    pushed = [];
    sequence = 0;
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** Pushes one batch of `count` records that arrived on `day`; remembers their ids (the oracle). */
  async function push(count: number, day = DAY, extra: Record<string, unknown> = {}, shard = 'shard-1') {
    const records = Array.from({ length: count }, () => {
      sequence++;
      return {
        stream: 'clicks',
        data: { id: sequence, page: `/p${sequence}`, ...extra } as never,
        sequenceNumber: String(sequence).padStart(8, '0'),
        arrivedAt: new Date(`${day}T08:00:00Z`),
      };
    });
    await landPushBatch(deps, {
      source: SOURCE,
      streams: pushStreams(SOURCE.config as never),
      shardId: shard,
      records,
    });
    pushed.push(...records.map((r) => (r.data as { id: number }).id));
  }

  async function idsRead(objects: ObjectStore = ctx.objects): Promise<number[]> {
    const engine = await DuckDbQueryEngine.open({ catalog: ctx.catalog, objects });
    try {
      const result = await engine.query('SELECT id FROM hooks.clicks');
      return result.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    } finally {
      await engine.close();
    }
  }

  const keys = async (prefix: string) => (await ctx.objects.list(prefix)).map((o) => o.key);
  const location = async () =>
    (await ctx.catalog.listPartitions('hooks', 'clicks')).find((p) => p.partition === PARTITION)?.location;

  it('lands pushes into a registered v00000 partition of a table with registered partitions', async () => {
    // Act
    await push(3);

    // Assess
    expect((await ctx.catalog.getTable('hooks', 'clicks'))?.partitioning).toBe('registered');
    expect(await location()).toBe(`raw/hooks/clicks/${PARTITION}/v00000/`);
    expect(await keys(`raw/hooks/clicks/${PARTITION}/v00000/`)).toHaveLength(1);
    expect(await idsRead()).toEqual(pushed);
  });

  it('rewrites small files into the next version, switches, and deletes the old one only after the grace period', async () => {
    // Prepare
    for (let i = 0; i < 6; i++) await push(5);
    const before = await keys(`raw/hooks/clicks/${PARTITION}/v00000/`);

    // Act
    const first = await compactSource(deps, 'hooks', SMALL);

    // Assess
    expect(first.partitions).toMatchObject([
      { partition: PARTITION, outcome: 'COMPACTED', version: 1, filesBefore: 6, filesAfter: 1, rows: 30 },
    ]);
    expect(await location()).toBe(`raw/hooks/clicks/${PARTITION}/v00001/`);
    const after = await keys(`raw/hooks/clicks/${PARTITION}/v00001/`);
    expect(after).toHaveLength(1);
    expect(parquetRowCount((await ctx.objects.get(after[0] as string)) as Uint8Array)).toBe(30);
    expect(await idsRead()).toEqual(pushed);
    // Readers that planned before the switch still find the old files.
    expect(await keys(`raw/hooks/clicks/${PARTITION}/v00000/`)).toEqual(before);

    // Act: a run within the grace period waits; one after it cleans up.
    const waiting = await compactSource(deps, 'hooks', SMALL);
    now = new Date(NOW.getTime() + 3_600_001);
    const later = await compactSource(deps, 'hooks', SMALL);

    // Assess
    expect(waiting.partitions[0]?.outcome).toBe('WAITING');
    expect(later.partitions[0]).toMatchObject({ outcome: 'UNCHANGED', recovered: ['cleaned'] });
    expect(await keys(`raw/hooks/clicks/${PARTITION}/v00000/`)).toEqual([]);
    expect(await keys('_manifests/hooks/compaction/')).toEqual([]);
    expect(await idsRead()).toEqual(pushed);
  });

  it('leaves partitions younger than two days alone', async () => {
    // Prepare
    for (let i = 0; i < 4; i++) await push(2, '2026-11-26');

    // Act
    const result = await compactSource(deps, 'hooks', SMALL);

    // Assess
    expect(result.partitions).toEqual([]);
    expect(await keys('raw/hooks/clicks/dt=2026-11-26/v00001/')).toEqual([]);
  });

  it('rewrites files of two schemas into one file per schema, keeping every row', async () => {
    // Prepare
    for (let i = 0; i < 3; i++) await push(4);
    for (let i = 0; i < 3; i++) await push(4, DAY, { referrer: 'mail' });

    // Act
    const result = await compactSource(deps, 'hooks', SMALL);

    // Assess
    expect(result.partitions[0]).toMatchObject({ outcome: 'COMPACTED', filesBefore: 6, filesAfter: 2 });
    expect(await idsRead()).toEqual(pushed);
    const engine = await ctx.openQueryEngine();
    try {
      const referred = await engine.query(`SELECT count(*) AS n FROM hooks.clicks WHERE referrer = 'mail'`);
      expect(Number(referred.rows[0]?.n)).toBe(12);
    } finally {
      await engine.close();
    }
  });

  const phases: CompactionPhase[] = [
    'staged',
    'manifest-written',
    'published',
    'switched',
    'marked',
    'old-deleted',
  ];

  it.each(phases)('keeps every record exactly once after a crash at %s and a retry', async (crashAt) => {
    // Prepare
    for (let i = 0; i < 5; i++) await push(3);
    let crashed = false;
    const crashing: CompactionJobOptions = {
      ...SMALL,
      graceMs: 0,
      onPhase: (phase) => {
        if (phase === crashAt && !crashed) {
          crashed = true;
          throw new Crash(`crash at ${phase}`);
        }
      },
    };

    // Act: runs until one crashes, a reader, then two more runs (the retry, and the cleanup after the grace period).
    const results = [];
    let between: number[] = [];
    for (let run = 0; run < 2 && !crashed; run++) {
      results.push(await compactSource(deps, 'hooks', crashing));
      now = new Date(now.getTime() + 1);
    }
    between = await idsRead();
    await compactSource(deps, 'hooks', crashing);
    now = new Date(now.getTime() + 1);
    const last = await compactSource(deps, 'hooks', crashing);

    // Assess
    expect(crashed).toBe(true);
    expect(results.at(-1)?.partitions[0]).toMatchObject({ outcome: 'FAILED', error: `crash at ${crashAt}` });
    expect(between).toEqual(pushed);
    expect(await idsRead()).toEqual(pushed);
    expect(last.partitions[0]?.outcome).toBe('UNCHANGED');
    expect(await location()).toBe(`raw/hooks/clicks/${PARTITION}/v00001/`);
    expect(await keys(`raw/hooks/clicks/${PARTITION}/v00000/`)).toEqual([]);
    expect(await keys(`raw/hooks/clicks/${PARTITION}/v00001/`)).toHaveLength(1);
    expect(await keys('_manifests/hooks/compaction/')).toEqual([]);
    expect(await keys('_staging/hooks/')).toEqual([]);
  });

  it('lets a query at every step of a compaction read all old files or all new ones', async () => {
    // Prepare
    for (let i = 0; i < 5; i++) await push(4);
    const seen: { phase: CompactionPhase; ids: number[]; location: string | undefined }[] = [];

    // Act
    await compactSource(deps, 'hooks', {
      ...SMALL,
      onPhase: async (phase) => {
        seen.push({ phase, ids: await idsRead(), location: await location() });
      },
    });

    // Assess
    expect(seen.map((s) => s.phase)).toEqual([
      'staged',
      'manifest-written',
      'published',
      'switched',
      'marked',
    ]);
    for (const step of seen) expect(step.ids, step.phase).toEqual(pushed);
    expect(seen.map((s) => s.location?.slice(-7))).toEqual([
      'v00000/',
      'v00000/',
      'v00000/',
      'v00001/',
      'v00001/',
    ]);
  });

  it('lets a query right after the catalog switch read every record from the new files', async () => {
    // Prepare: a reader runs the moment the switch call returns, before anything else happens.
    for (let i = 0; i < 5; i++) await push(4);
    const afterSwitch: number[][] = [];
    const catalog = new Proxy(ctx.catalog, {
      get(target, name, receiver) {
        if (name !== 'switchPartition') return Reflect.get(target, name, receiver);
        return async (...args: Parameters<typeof target.switchPartition>) => {
          await target.switchPartition(...args);
          afterSwitch.push(await idsRead());
        };
      },
    });

    // Act
    const result = await compactSource({ ...deps, catalog }, 'hooks', SMALL);

    // Assess
    expect(result.partitions[0]?.outcome).toBe('COMPACTED');
    expect(afterSwitch).toEqual([pushed]);
  });

  it('lets a query planned before the switch finish on the old files, kept for the grace period', async () => {
    // Prepare: the reader lists the old version's files, then compaction runs to the end (twice) before it reads them.
    for (let i = 0; i < 5; i++) await push(4);
    let compacted = false;
    const old = `raw/hooks/clicks/${PARTITION}/v00000/`;
    const objects: ObjectStore = new Proxy(ctx.objects, {
      get(target, name, receiver) {
        if (name !== 'list') return Reflect.get(target, name, receiver);
        return async (prefix: string) => {
          const listed = await target.list(prefix);
          if (prefix === old && !compacted) {
            compacted = true;
            await compactSource(deps, 'hooks', SMALL);
            now = new Date(now.getTime() + 60_000);
            await compactSource(deps, 'hooks', SMALL);
          }
          return listed;
        };
      },
    });

    // Act
    const ids = await idsRead(objects);

    // Assess
    expect(compacted).toBe(true);
    expect(await location()).toBe(`raw/hooks/clicks/${PARTITION}/v00001/`);
    expect(ids).toEqual(pushed);
  });

  it('makes a late push into the partition wait for the compaction and land into the new version', async () => {
    // Prepare
    for (let i = 0; i < 4; i++) await push(3);
    let late: Promise<void> | undefined;

    // Act: a redelivered batch of that day arrives while the compaction holds the partition.
    const result = await compactSource(deps, 'hooks', {
      ...SMALL,
      onPhase: async (phase) => {
        if (phase !== 'manifest-written') return;
        late = push(2, DAY, {}, 'shard-2');
        await new Promise((resolve) => setTimeout(resolve, 300));
      },
    });
    await late;

    // Assess
    expect(result.partitions[0]?.outcome).toBe('COMPACTED');
    expect(await idsRead()).toEqual(pushed);
    expect(await keys(`raw/hooks/clicks/${PARTITION}/v00001/`)).toHaveLength(2);
  });

  it('never runs two compactions of one source at once', async () => {
    // Prepare
    for (let i = 0; i < 4; i++) await push(3);

    // Act
    const results = await Promise.all([
      compactSource(deps, 'hooks', { ...SMALL, leaseWaitMs: 0 }),
      compactSource(deps, 'hooks', { ...SMALL, leaseWaitMs: 0 }),
    ]);

    // Assess
    const outcomes = results.flatMap((r) => r.partitions.map((p) => p.outcome)).sort();
    expect(outcomes).toEqual(['BUSY', 'COMPACTED']);
    expect(await idsRead()).toEqual(pushed);
  });

  it('skips a partition whose lease a late push holds, and compacts it next run', async () => {
    // Prepare
    for (let i = 0; i < 4; i++) await push(3);
    const lander = await takeLease(
      ctx.state,
      partitionLeaseName('hooks', PARTITION),
      { owner: 'push/test', ttlMs: 60_000, waitMs: 0, keep: false },
      undefined,
    );

    // Act
    const busy = await compactSource(deps, 'hooks', { ...SMALL, leaseWaitMs: 0 });
    await lander.release();
    const next = await compactSource(deps, 'hooks', { ...SMALL, leaseWaitMs: 0 });

    // Assess
    expect(busy.partitions[0]?.outcome).toBe('BUSY');
    expect(next.partitions[0]?.outcome).toBe('COMPACTED');
    expect(await idsRead()).toEqual(pushed);
  });

  it('refuses a minimum age under two days, naming it', async () => {
    // Act
    const act = compactSource(deps, 'hooks', { minAgeDays: 1 });

    // Assess
    await expect(act).rejects.toThrow(/minAgeDays must be an integer of at least 2/);
  });
});
