/**
 * A cursor-ascending stream that yields checkpoints, run in tiny slices: the
 * engine advances its cursor every slice and still passes the last
 * checkpoint as `resumeFrom`, so a connector's per-run state (s3-files'
 * `maxFilesPerRun`, a REST page walk, a PostgreSQL keyset) carries across
 * slices; a slice asked to stop ends at the checkpoint that follows the
 * records it landed; and a stream inside its lag window stops only where a
 * re-read is exact. Each lake is compared with a one-slice run's.
 */
// @ts-nocheck

import { afterEach, describe, expect, it } from 'vitest';
import type { Connector, SourceRecord, StreamItem, StreamPosition } from '../../../connectors/sdk/types.js';
import { checkpoint } from '../../../connectors/sdk/types.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

interface PagesConfig {
  /** Records per page. */
  readonly pageSize: number;
  /** A checkpoint after every this many pages; 0: none at all. */
  readonly checkpointEvery: number;
  /** Also a checkpoint when the read starts (as the sample connector yields). */
  readonly startCheckpoint?: boolean;
  /** Pages a run reads at most, counted across its slices through the position (like `maxFilesPerRun`). */
  readonly maxPagesPerRun?: number;
  readonly lag?: number;
}

/** The window the walk started with (so page numbers keep their rows), the next page, pages read this run. */
interface PagesPosition extends StreamPosition {
  readonly since: number;
  readonly page: number;
  readonly pages: number;
}

/** An API of items `{id, n}` in ascending `n` (pairs share a value); `reads` logs every read's `resumeFrom`. */
class PagedWorld {
  public items: SourceRecord[] = [];
  public readonly reads: (PagesPosition | undefined)[] = [];

  public add(count: number): void {
    const first = this.items.length + 1;
    for (let id = first; id < first + count; id++) this.items.push({ id, n: Math.ceil(id / 2) });
  }

  public connector(): Connector<PagesConfig> {
    return {
      type: 'paged',
      description: 'Pages of ascending items with sparse checkpoints.',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: (config) => [
        {
          name: 'items',
          primaryKey: ['id'],
          writeDisposition: 'append',
          order: 'cursor-ascending',
          incremental: { cursorField: 'n', initialValue: 0, ...(config.lag ? { lag: config.lag } : {}) },
          read: (ctx) => this.read(config, ctx.since as number, ctx.resumeFrom as PagesPosition | undefined),
        },
      ],
    };
  }

  private async *read(
    config: PagesConfig,
    since: number,
    resumeFrom: PagesPosition | undefined,
  ): AsyncGenerator<StreamItem> {
    this.reads.push(resumeFrom);
    const window = resumeFrom?.since ?? since;
    const wanted = this.items.filter((item) => (item.n as number) >= window);
    let page = resumeFrom?.page ?? 0;
    let pages = resumeFrom?.pages ?? 0;
    if (config.startCheckpoint) yield checkpoint({ since: window, page, pages });
    while (page * config.pageSize < wanted.length) {
      if (config.maxPagesPerRun !== undefined && pages >= config.maxPagesPerRun) return;
      yield wanted.slice(page * config.pageSize, (page + 1) * config.pageSize);
      page++;
      pages++;
      if (config.checkpointEvery > 0 && pages % config.checkpointEvery === 0) {
        yield checkpoint({ since: window, page, pages });
      }
    }
  }
}

const lakes: TestLake[] = [];
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

async function lakeOf(world: PagedWorld, config: PagesConfig): Promise<TestLake> {
  const now = new Date().toISOString();
  const source: SourceDefinition = {
    name: 'paged',
    type: 'paged',
    config: {},
    createdAt: now,
    updatedAt: now,
  };
  const lake = await openTestLake(source, world.connector() as Connector<never>, config);
  lakes.push(lake);
  return lake;
}

/** Every landed row as `id|n`, with repeats, sorted. */
async function landed(lake: TestLake): Promise<string[]> {
  const rows = await lake.query('SELECT id, n FROM paged.items');
  return rows.map((r) => `${r.id}|${r.n}`).sort();
}

describe('a cursor-ascending stream with checkpoints in tiny slices', () => {
  it('ends each slice at the checkpoint after its records and resumes there, so a per-run page limit holds', async () => {
    // Prepare: a checkpoint after every page and none before the first, as rest, postgres and s3-files do.
    const config = { pageSize: 3, checkpointEvery: 1, maxPagesPerRun: 6 };
    const oneWorld = new PagedWorld();
    oneWorld.add(40);
    const slicedWorld = new PagedWorld();
    slicedWorld.add(40);
    const one = await lakeOf(oneWorld, config);
    const sliced = await lakeOf(slicedWorld, config);

    // Act: two runs each, the second after 10 more items
    await one.sync();
    const first = await sliced.sync({ sliceRows: 2 });
    oneWorld.add(10);
    slicedWorld.add(10);
    await one.sync();
    const second = await sliced.sync({ sliceRows: 2 });

    // Assess: 6 pages per run in both lakes (18, then 16 past the committed pair); one page per
    // slice (a 7th finds the limit reached; the second run's first slice takes two pages, its
    // first holding one new row), each later read resuming right after the last, nothing re-read
    expect(first.slices).toBe(7);
    expect(first.streams.items?.skipped).toBe(0);
    expect(second.slices).toBe(6);
    expect(second.streams.items?.rows).toBe(16);
    expect(await landed(one)).toHaveLength(34);
    expect(await landed(sliced)).toEqual(await landed(one));
    expect(slicedWorld.reads.map((r) => r?.pages ?? 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 0, 2, 3, 4, 5, 6]);
  });

  it('resumes from a checkpoint behind the advanced cursor and skips what it reads again', async () => {
    // Prepare: checkpoints every 2 pages, so a slice of 2 rows stops after records no checkpoint covers.
    const config = { pageSize: 3, checkpointEvery: 2, startCheckpoint: true, maxPagesPerRun: 6 };
    const oneWorld = new PagedWorld();
    oneWorld.add(40);
    const slicedWorld = new PagedWorld();
    slicedWorld.add(40);
    const one = await lakeOf(oneWorld, config);
    const sliced = await lakeOf(slicedWorld, config);

    // Act
    await one.sync();
    const run = await sliced.sync({ sliceRows: 2 });

    // Assess: slices of one page each; every read after the first resumed from a position
    expect(run.slices).toBeGreaterThan(5);
    expect(run.streams.items?.rows).toBe(18);
    expect(run.streams.items?.skipped).toBeGreaterThan(0);
    expect(slicedWorld.reads.slice(1).every((r) => r !== undefined)).toBe(true);
    expect(await landed(sliced)).toEqual(await landed(one));
  });
});

describe('a cursor-ascending stream inside its lag window in tiny slices', () => {
  it('lands the lag window once per run, as a one-slice run does', async () => {
    // Prepare: no checkpoints at all; the second run re-reads 6 cursor values before the committed one.
    const config = { pageSize: 3, checkpointEvery: 0, lag: 6 };
    const oneWorld = new PagedWorld();
    oneWorld.add(30);
    const slicedWorld = new PagedWorld();
    slicedWorld.add(30);
    const one = await lakeOf(oneWorld, config);
    const sliced = await lakeOf(slicedWorld, config);
    await one.sync();
    await sliced.sync();
    oneWorld.add(9);
    slicedWorld.add(9);

    // Act
    await one.sync();
    const run = await sliced.sync({ sliceRows: 2 });

    // Assess: the window (n 9..14; the committed pair at 15 is skipped) lands again once, in both lakes
    expect(run.slices).toBeGreaterThan(2);
    const rows = await landed(sliced);
    expect(rows).toEqual(await landed(one));
    expect(rows).toHaveLength(30 + 12 + 9);
  });
});
