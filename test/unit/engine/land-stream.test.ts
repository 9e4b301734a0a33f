/**
 * Landing one stream (engine/land-stream.ts) through whole syncs on the local
 * backend, read back with DuckDB: column batches at and past the committed
 * cursor, the cursor state's size limit, lag windows, schema versions, run
 * statistics, progress, and write batches landed without the schema step.
 * They pin down what mutation testing found
 * unchecked (bench/results/2026-11-27-mutation-land-stream.md).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ColumnBatch, columnBatch } from '../../../connectors/sdk/column-batch.js';
import type { ColumnType, Connector, SourceRecord, Stream } from '../../../connectors/sdk/types.js';
import { checkpoint, ReadOrder } from '../../../connectors/sdk/types.js';
import {
  estimateRecordBytes,
  INLINE_KEYS_LIMIT,
  MAX_CURSOR_STATE_BYTES,
} from '../../../engine/land-stream.js';
import { committedManifestKey, sliceManifestId, tableLocation } from '../../../engine/layout.js';
import { hashValue } from '../../../engine/masking.js';
import { RowConverter } from '../../../engine/parquet/convert.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import type { SyncProgress } from '../../../engine/sync.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

const lakes: TestLake[] = [];
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

const SOURCE = 'src';

async function lakeOf(...streams: Stream[]): Promise<TestLake> {
  return lakeWith({}, ...streams);
}

/** A lake whose source definition has `extra` (e.g. `pii`) and offers `streams`. */
async function lakeWith(extra: Partial<SourceDefinition>, ...streams: Stream[]): Promise<TestLake> {
  const now = new Date().toISOString();
  const definition: SourceDefinition = {
    name: SOURCE,
    type: 'listed',
    config: {},
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
  const connector = {
    type: 'listed',
    description: 'streams written in the test',
    configSchema: { type: 'object', properties: {} },
    check: async () => ({ ok: true }),
    streams: () => streams,
  } as unknown as Connector<never>;
  const lake = await openTestLake(definition, connector, {});
  lakes.push(lake);
  return lake;
}

/** `records` as one column batch of the given columns. */
function batchOf(
  columns: Readonly<Record<string, ColumnType>>,
  records: readonly SourceRecord[],
): ColumnBatch {
  const list = Object.entries(columns).map(([name, type]) => ({ name, type }));
  const group = new RowConverter(list).convert(records);
  return columnBatch(
    records.length,
    list.map((c, j) => ({ name: c.name, type: c.type, data: group.columns[j]! })),
  );
}

/** How many times each id landed in `src.<stream>`, as `id×count`, by id. */
async function landedIds(lake: TestLake, stream = 'items'): Promise<string[]> {
  const rows = await lake.query(
    `SELECT CAST(id AS BIGINT) AS id, count(*) AS c FROM ${SOURCE}.${stream} GROUP BY id ORDER BY id`,
  );
  return rows.map((r) => `${r.id}×${r.c}`);
}

const once = (...ids: number[]): string[] => ids.map((id) => `${id}×1`);

/** The `items` stream most tests land (key `id`, append), with `n` as its cursor when `cursor`. */
function items(
  options: { readonly cursor?: boolean; readonly columns?: Stream['columns'] },
  read: Stream['read'],
): Stream {
  return {
    name: 'items',
    primaryKey: ['id'],
    writeDisposition: 'append',
    ...(options.cursor ? { incremental: { cursorField: 'n', initialValue: 0 } } : {}),
    ...(options.columns ? { columns: options.columns } : {}),
    read,
  };
}

/** Items `{id, n}` read in ascending `n` as one column batch per value of `n` (pairs share a value). */
class BatchWorld {
  public items: SourceRecord[] = [];
  /** What each read was told about column batches. */
  public readonly accepts: unknown[] = [];

  public add(...items: [id: number, n: number][]): void {
    for (const [id, n] of items) this.items.push({ id, n });
  }

  public stream(order: ReadOrder = ReadOrder.cursorAscending): Stream {
    const columns = { id: 'bigint', n: 'int' } as const;
    const world = this;
    return {
      name: 'items',
      primaryKey: ['id'],
      writeDisposition: 'append',
      order,
      incremental: { cursorField: 'n', initialValue: 0 },
      columns,
      async *read(ctx) {
        world.accepts.push(ctx.acceptsColumnBatches);
        const wanted = world.items
          .filter((item) => (item.n as number) >= (ctx.since as number))
          .sort((a, b) => (a.n as number) - (b.n as number));
        for (const n of new Set(wanted.map((item) => item.n as number)))
          yield batchOf(
            columns,
            wanted.filter((item) => item.n === n),
          );
      },
    };
  }
}

describe('column batches of an incremental stream', () => {
  it('lands every row once when batches re-send rows at the committed cursor, and moves the cursor past them', async () => {
    // Prepare: (1,1) (2,1) (3,2) (4,2) (5,3) (6,3)
    const world = new BatchWorld();
    world.add([1, 1], [2, 1], [3, 2], [4, 2], [5, 3], [6, 3]);
    const lake = await lakeOf(world.stream());

    // Act: the first run lands batches; the second re-reads n = 3 (two landed, one new) and n = 4.
    const first = await lake.sync();
    world.add([9, 3], [7, 4], [8, 4]);
    const second = await lake.sync();
    const third = await lake.sync();
    const { cursor } = await lake.backend.state.getCursor(SOURCE, 'items');

    // Assess
    expect(first.streams.items).toMatchObject({ rows: 6, skipped: 0, cursorTo: 3 });
    expect(second.streams.items).toMatchObject({ rows: 3, skipped: 2, cursorFrom: 3, cursorTo: 4 });
    expect(third.streams.items).toMatchObject({ rows: 0, skipped: 2, cursorTo: 4 });
    expect(await landedIds(lake)).toEqual(once(1, 2, 3, 4, 5, 6, 7, 8, 9));
    expect(cursor?.value).toBe(4);
    expect(cursor?.keysAtValue).toHaveLength(2);
    expect(world.accepts).toEqual([true, true, true]);
  });
});

/** One record whose string cursor `k` is `length` characters long. */
function longCursorStream(length: number): Stream {
  return {
    name: 'items',
    primaryKey: ['id'],
    writeDisposition: 'append',
    incremental: { cursorField: 'k', initialValue: '' },
    async *read() {
      yield { id: 1, k: 'k'.repeat(length) };
    },
  };
}

describe('the cursor state size limit', () => {
  it('accepts a cursor state of exactly the limit and refuses one byte more before anything is published', async () => {
    // Prepare: measure what a cursor of 100 characters takes, then size the value to the limit.
    const probe = await lakeOf(longCursorStream(100));
    await probe.sync();
    const { cursor } = await probe.backend.state.getCursor(SOURCE, 'items');
    const fits = 100 + MAX_CURSOR_STATE_BYTES - new TextEncoder().encode(JSON.stringify(cursor)).byteLength;
    const atLimit = await lakeOf(longCursorStream(fits));
    const over = await lakeOf(longCursorStream(fits + 1));

    // Act
    const accepted = await atLimit.sync();
    const refused = over.sync();

    // Assess
    expect(accepted.status).toBe('SUCCEEDED');
    await expect(refused).rejects.toThrow(
      `the cursor of src.items would take ${MAX_CURSOR_STATE_BYTES + 1} bytes of state (at most ${MAX_CURSOR_STATE_BYTES}): ` +
        'its value is too long; use a shorter cursor field',
    );
    await expect(refused).rejects.toMatchObject({ cause: { field: 'incremental.cursorField' } });
    expect(await over.backend.objects.list('raw/')).toEqual([]);
    expect((await over.backend.state.getCursor(SOURCE, 'items')).version).toBe(0);
  });
});

/** Six rows of a keyless stream without a cursor, a checkpoint after each, row `id` with `10 × id` characters of text; rows 5 and 6 each read after `delayMs`. */
function checkpointedStream(delayMs = 0): Stream {
  return {
    name: 'items',
    primaryKey: [],
    writeDisposition: 'append',
    async *read(ctx) {
      for (let id = Number(ctx.resumeFrom?.id ?? 0) + 1; id <= 6; id++) {
        if (delayMs > 0 && id > 4) await new Promise((resolve) => setTimeout(resolve, delayMs));
        yield { id, text: 't'.repeat(id * 10) };
        yield checkpoint({ id });
      }
    },
  };
}

describe('run statistics and progress of a stream landed over several slices', () => {
  it('counts every row, byte and file once across slices, in the run record and in progress', async () => {
    // Prepare: rows 5 and 6 take 150 ms each, so the last slice takes longer than the first.
    const lake = await lakeOf(checkpointedStream(150));
    const seen: SyncProgress[] = [];

    // Act: four rows in the first slice, staged; the second lands two and completes the stream.
    const run = await lake.sync({ sliceRows: 4, progressIntervalMs: 0, onProgress: (p) => seen.push(p) });
    const table = await lake.backend.catalog.getTable(SOURCE, 'items');

    // Assess
    const files = (await lake.backend.objects.list(`raw/${SOURCE}/items/`)).filter((f) =>
      f.key.endsWith('.parquet'),
    );
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    expect(await landedIds(lake)).toEqual(once(1, 2, 3, 4, 5, 6));
    expect(run.streams.items).toMatchObject({ rows: 6, skipped: 0, files: files.length, bytes });
    // Both slices' time: at least the two waits (a timer may fire a millisecond early), well under a minute.
    expect(run.streams.items!.durationMs).toBeGreaterThanOrEqual(300 - 2);
    expect(run.streams.items!.durationMs).toBeLessThan(60_000);
    const rows = seen.filter((p) => p.stream === 'items').map((p) => `${p.slice}:${p.rows}:${p.sliceRows}`);
    expect([...new Set(rows)]).toEqual(['1:1:1', '1:2:2', '1:3:3', '1:4:4', '2:5:1', '2:6:2']);
    expect(seen.at(-1)).toMatchObject({ stream: 'items', rows: 6, bytes, done: true });
    expect(seen.filter((p) => p.done)).toHaveLength(1);
    // No cursor for a stream without one, no tombstone column for a keyless one.
    expect((await lake.backend.state.getCursor(SOURCE, 'items')).version).toBe(0);
    expect(run.streams.items).toMatchObject({ cursorFrom: null, cursorTo: null });
    expect(table!.schemaVersions.at(-1)!.columns.map((c) => c.name)).toEqual([
      'id',
      'text',
      '_sluice_run_id',
      '_sluice_extracted_at',
      '_sluice_source',
    ]);
  });

  it('reports progress between pages only once its interval has passed', async () => {
    // Prepare
    const lake = await lakeOf(checkpointedStream());
    const seen: SyncProgress[] = [];

    // Act
    await lake.sync({ progressIntervalMs: 60_000, onProgress: (p) => seen.push(p) });

    // Assess: a fast run reports only its end.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ stream: 'items', rows: 6, done: true });
  });
});

describe('the record size estimate that sizes write batches', () => {
  it('counts text as its length plus 4, scalars, nulls and dates as 8, nested values by their JSON-ish size', () => {
    expect(estimateRecordBytes({})).toBe(0);
    expect(estimateRecordBytes({ s: 'abcd', e: '' })).toBe(8 + 4);
    expect(estimateRecordBytes({ n: 1, b: true, z: null, d: new Date(0), u: undefined })).toBe(40);
    // {k: 'xy'}: braces 2 + key 1 + 4 + text 2 + 2
    expect(estimateRecordBytes({ o: { k: 'xy' } })).toBe(11);
    // ['xy', 3, null]: brackets 2 + (2 + 2 + 1) + (8 + 1) + (8 + 1)
    expect(estimateRecordBytes({ a: ['xy', 3, null] })).toBe(25);
    expect(estimateRecordBytes({ a: [], o: {} })).toBe(4);
  });

  it('counts nesting deeper than five levels as 8 bytes', () => {
    // Levels 0–4 cost 2 + key 1 + 4 each; the object at level 5 counts 8.
    const deep = { a: { b: { c: { d: { e: { f: 'long text never measured' } } } } } };
    expect(estimateRecordBytes({ deep })).toBe(5 * 7 + 8);
    // Arrays: levels 0–4 cost 2 + 1 each around their item; the array at level 5 counts 8.
    expect(estimateRecordBytes({ list: [[[[[['long text never measured']]]]]] })).toBe(5 * 3 + 8);
  });
});

/** Items `{id, n}` of an unordered stream with a cursor on `n` and a lag of 2; `since` logs each read's window. */
class LagWorld {
  public items: SourceRecord[] = [];
  public readonly since: unknown[] = [];

  public stream(): Stream {
    const world = this;
    return {
      name: 'items',
      primaryKey: ['id'],
      writeDisposition: 'append',
      incremental: { cursorField: 'n', initialValue: 0, lag: 2 },
      async *read(ctx) {
        world.since.push(ctx.since);
        yield world.items.filter((item) => (item.n as number) >= (ctx.since as number));
      },
    };
  }
}

describe('a lag window', () => {
  it('re-reads the window behind the committed cursor and lands late arrivals and re-sent rows in it again', async () => {
    // Prepare
    const world = new LagWorld();
    world.items.push({ id: 1, n: 1 }, { id: 2, n: 2 }, { id: 3, n: 3 });
    const lake = await lakeOf(world.stream());
    await lake.sync();
    world.items.push({ id: 4, n: 2 }, { id: 5, n: 4 });

    // Act
    const second = await lake.sync();

    // Assess: the window starts 2 below the cursor; only the tie at the cursor itself is skipped.
    expect(world.since).toEqual([0, 1]);
    expect(second.streams.items).toMatchObject({ rows: 4, skipped: 1, cursorFrom: 3, cursorTo: 4 });
    expect(await landedIds(lake)).toEqual(['1×2', '2×2', '3×1', '4×1', '5×1']);
  });
});

/** A cursor-ascending stream of `records` (cursor `n`), a checkpoint after each. */
function ascendingStream(records: () => readonly SourceRecord[]): Stream {
  return {
    name: 'items',
    primaryKey: ['id'],
    writeDisposition: 'append',
    order: ReadOrder.cursorAscending,
    incremental: { cursorField: 'n', initialValue: 0 },
    async *read(ctx) {
      for (const record of records()) {
        if ((record.n as number) < (ctx.since as number)) continue;
        yield record;
        yield checkpoint({ n: record.n as number });
      }
    },
  };
}

describe('schema versions', () => {
  it('records one version per run, even when its slices change the schema, and the next for the next run', async () => {
    // Prepare: the second record brings a column; the third run's brings another.
    const records: SourceRecord[] = [
      { id: 1, n: 1 },
      { id: 2, n: 2, extra: 'x' },
    ];
    const lake = await lakeOf(ascendingStream(() => records));

    // Act: one row per slice, each slice publishing.
    const first = await lake.sync({ sliceRows: 1 });
    records.push({ id: 3, n: 3, more: 1.5 });
    const second = await lake.sync({ sliceRows: 1 });
    const table = await lake.backend.catalog.getTable(SOURCE, 'items');

    // Assess
    const versions = table!.schemaVersions;
    expect(versions.map((v) => [v.version, v.runId, v.changes])).toEqual([
      [1, first.runId, ['created table with 3 columns', 'added column extra (string)']],
      [2, second.runId, ['added column more (double)']],
    ]);
    const meta = ['_sluice_deleted', '_sluice_run_id', '_sluice_extracted_at', '_sluice_source'];
    expect(versions[0]!.columns.map((c) => c.name)).toEqual(['id', 'n', 'extra', ...meta]);
    expect(versions[1]!.columns.map((c) => `${c.name}:${c.type}`).slice(0, 4)).toEqual([
      'id:int',
      'n:int',
      'extra:string',
      'more:double',
    ]);
    expect(versions.every((v) => v.names === undefined)).toBe(true);
    expect(first.streams.items?.schemaChanges).toEqual(versions[0]!.changes);
    expect(second.streams.items?.schemaChanges).toEqual(versions[1]!.changes);
    expect(await landedIds(lake)).toEqual(once(1, 2, 3));
  });
});

describe('cursor and tie keys over several slices', () => {
  it('publishes, when an unordered stream completes, the highest cursor of all its slices with every tie there', async () => {
    // Prepare: the highest value comes first, then an older row; a checkpoint after each row.
    const records: SourceRecord[] = [
      { id: 1, n: 5 },
      { id: 2, n: 5 },
      { id: 3, n: 1 },
    ];
    const stream = items({ cursor: true }, async function* (ctx) {
      for (let i = Number(ctx.resumeFrom?.i ?? 0); i < records.length; i++) {
        yield records[i]!;
        yield checkpoint({ i: i + 1 });
      }
    });
    const lake = await lakeOf(stream);

    // Act: one row per slice, staged until the stream completes; then a run that re-reads everything
    // and lands one new row in its first slice (its three skips staged with it).
    const first = await lake.sync({ sliceRows: 1 });
    const { cursor } = await lake.backend.state.getCursor(SOURCE, 'items');
    records.push({ id: 4, n: 6 });
    const second = await lake.sync({ sliceRows: 1 });

    // Assess
    expect(first.streams.items).toMatchObject({ rows: 3, cursorTo: 5 });
    expect(cursor?.value).toBe(5);
    expect(cursor?.keysAtValue).toHaveLength(2);
    expect(second.streams.items).toMatchObject({ rows: 1, skipped: 3, cursorFrom: 5, cursorTo: 6 });
    expect(await landedIds(lake)).toEqual(once(1, 2, 3, 4));
  });

  it('lands 2,000 rows at one cursor value sent as column batches once, and skips them all when sent again', async () => {
    // Prepare: more rows at the highest value than are kept as records (1,024).
    const world = new BatchWorld();
    for (let id = 1; id <= 2000; id++) world.add([id, id <= 10 ? 1 : 2]);
    const lake = await lakeOf(world.stream());

    // Act
    const first = await lake.sync();
    const second = await lake.sync();
    world.add([2001, 2]);
    const third = await lake.sync();
    const { cursor } = await lake.backend.state.getCursor(SOURCE, 'items');

    // Assess
    expect(first.streams.items).toMatchObject({ rows: 2000, cursorTo: 2 });
    expect(second.streams.items).toMatchObject({ rows: 0, skipped: 1990 });
    expect(third.streams.items).toMatchObject({ rows: 1, skipped: 1990 });
    const counts = await lake.query(`SELECT count(*) AS c, count(DISTINCT id) AS d FROM ${SOURCE}.items`);
    expect(counts).toEqual([{ c: 2001, d: 2001 }]);
    expect(cursor?.keysRef).toBeDefined();
  });
});

describe('column batches that cannot land as they are', () => {
  it('masks pii columns of a batch: a redacted one lands null, a hashed one as the hash text', async () => {
    // Prepare: one stream redacts `email`, the other hashes `secret`.
    const stream = (
      name: string,
      columns: Readonly<Record<string, ColumnType>>,
      rows: SourceRecord[],
    ): Stream => ({
      name,
      primaryKey: ['id'],
      writeDisposition: 'append',
      incremental: { cursorField: 'n', initialValue: 0 },
      columns,
      async *read() {
        yield batchOf(columns, rows);
      },
    });
    const people = stream('people', { id: 'bigint', n: 'int', email: 'string' }, [
      { id: 1, n: 1, email: 'a@example.org' },
      { id: 2, n: 2, email: 'b@example.org' },
    ]);
    const codes = stream('codes', { id: 'bigint', n: 'int', secret: 'int' }, [
      { id: 1, n: 1, secret: 41 },
      { id: 2, n: 2, secret: 42 },
    ]);
    const pii = { people: { email: 'redact' }, codes: { secret: 'hash' } } as const;
    const lake = await lakeWith({ pii }, people, codes);

    // Act
    const run = await lake.sync({ piiSalt: 'salt' });

    // Assess
    expect(run.streams.people).toMatchObject({ rows: 2, cursorTo: 2 });
    expect(run.streams.codes).toMatchObject({ rows: 2, cursorTo: 2 });
    const sql = (table: string, column: string) =>
      `SELECT CAST(id AS BIGINT) AS id, ${column} AS v FROM ${SOURCE}.${table} ORDER BY id`;
    expect(await lake.query(sql('people', 'email'))).toEqual([
      { id: 1, v: null },
      { id: 2, v: null },
    ]);
    expect(await lake.query(sql('codes', 'secret'))).toEqual([
      { id: 1, v: hashValue(41, 'salt') },
      { id: 2, v: hashValue(42, 'salt') },
    ]);
  });

  it('lands a batch with a column the stream does not declare through its records, adding the column', async () => {
    // Prepare: `note` is not declared; the second batch has it.
    const declared = { id: 'bigint', n: 'int' } as const;
    const stream = items({ cursor: true, columns: declared }, async function* () {
      yield batchOf(declared, [{ id: 1, n: 1 }]);
      yield batchOf({ ...declared, note: 'string' }, [{ id: 2, n: 2, note: 'hello' }]);
    });
    const lake = await lakeOf(stream);

    // Act
    const run = await lake.sync();

    // Assess
    expect(run.streams.items).toMatchObject({
      rows: 2,
      cursorTo: 2,
      schemaChanges: ['created table with 3 columns', 'added column note (string)'],
    });
    const rows = await lake.query(`SELECT CAST(id AS BIGINT) AS id, note FROM ${SOURCE}.items ORDER BY id`);
    expect(rows).toEqual([
      { id: 1, note: null },
      { id: 2, note: 'hello' },
    ]);
  });
});

describe('the committed cursor', () => {
  it(`keeps up to ${INLINE_KEYS_LIMIT} tie keys in the state item and more in the slice manifest it names`, async () => {
    // Prepare: 500 and 501 rows at the highest value.
    const at = (count: number): BatchWorld => {
      const world = new BatchWorld();
      for (let id = 1; id <= count; id++) world.add([id, 1]);
      return world;
    };
    const inline = await lakeOf(at(INLINE_KEYS_LIMIT).stream());
    const referenced = await lakeOf(at(INLINE_KEYS_LIMIT + 1).stream());

    // Act
    await inline.sync();
    const run = await referenced.sync();
    const small = await inline.backend.state.getCursor(SOURCE, 'items');
    const large = await referenced.backend.state.getCursor(SOURCE, 'items');
    const again = await referenced.sync();

    // Assess
    expect(small.cursor?.keysAtValue).toHaveLength(INLINE_KEYS_LIMIT);
    expect(small.cursor?.keysRef).toBeUndefined();
    expect(large.cursor).toEqual({
      value: 1,
      keysAtValue: [],
      keysRef: committedManifestKey(SOURCE, sliceManifestId(run.runId, 1)),
    });
    expect(again.streams.items).toMatchObject({ rows: 0, skipped: INLINE_KEYS_LIMIT + 1 });
  });

  it('stays at its version when a run lands nothing new, and grows its tie keys when one lands a row at its value', async () => {
    // Prepare
    const world = new BatchWorld();
    world.add([1, 1], [2, 2]);
    const lake = await lakeOf(world.stream(ReadOrder.unordered));
    await lake.sync();
    const before = await lake.backend.state.getCursor(SOURCE, 'items');

    // Act
    const idle = await lake.sync();
    const unchanged = await lake.backend.state.getCursor(SOURCE, 'items');
    world.add([3, 2]);
    const tie = await lake.sync();
    const grown = await lake.backend.state.getCursor(SOURCE, 'items');

    // Assess
    expect(idle.streams.items).toMatchObject({ rows: 0, skipped: 1, cursorTo: 2, schemaChanges: [] });
    expect(unchanged).toEqual(before);
    expect(tie.streams.items?.schemaChanges).toEqual([]);
    world.add([4, 3]);
    const past = await lake.sync();
    expect(past.streams.items).toMatchObject({ rows: 1, schemaChanges: [] });
    const table = await lake.backend.catalog.getTable(SOURCE, 'items');
    expect(table!.schemaVersions.map((v) => v.version)).toEqual([1]);
    expect(tie.streams.items).toMatchObject({ rows: 1, skipped: 1, cursorTo: 2 });
    expect(grown.version).toBe(before.version + 1);
    expect(grown.cursor?.value).toBe(2);
    expect(grown.cursor?.keysAtValue).toHaveLength(2);
    expect(grown.cursor?.keysAtValue).toEqual(expect.arrayContaining([...before.cursor!.keysAtValue]));
    expect(await landedIds(lake)).toEqual(once(1, 2, 3, 4));
  });

  it('defines the table with its location, primary key, write disposition and first schema version', async () => {
    // Prepare
    const world = new BatchWorld();
    world.add([1, 1]);
    const lake = await lakeOf(world.stream());

    // Act
    await lake.sync();
    const table = await lake.backend.catalog.getTable(SOURCE, 'items');

    // Assess
    expect(table).toMatchObject({
      source: SOURCE,
      stream: 'items',
      location: tableLocation(SOURCE, 'items'),
      primaryKey: ['id'],
      writeDisposition: 'append',
    });
    expect(table!.schemaVersions).toMatchObject([{ version: 1, changes: ['created table with 3 columns'] }]);
  });
});

describe('what lands with each row', () => {
  it('stamps rows landed as records and as column batches with the run, the source and the extraction time', async () => {
    // Prepare: a batch, then records (its `note` column is not declared).
    const declared = { id: 'bigint', n: 'int' } as const;
    const stream = items({ cursor: true, columns: declared }, async function* () {
      yield batchOf(declared, [{ id: 1, n: 1 }]);
      yield [{ id: 2, n: 2, note: 'x' }];
    });
    const lake = await lakeOf(stream);
    const before = Date.now();

    // Act
    const run = await lake.sync();

    // Assess
    const rows = await lake.query(
      `SELECT CAST(id AS BIGINT) AS id, _sluice_run_id AS r, _sluice_source AS s, epoch_ms(_sluice_extracted_at) AS t
         FROM ${SOURCE}.items ORDER BY id`,
    );
    expect(rows.map((r) => [r.id, r.r, r.s])).toEqual([
      [1, run.runId, SOURCE],
      [2, run.runId, SOURCE],
    ]);
    for (const r of rows) expect(Number(r.t)).toBeGreaterThanOrEqual(before - 1);
  });

  it("refuses a record without its cursor field, naming the stream, the record's key and the field, and lands nothing", async () => {
    // Prepare
    const stream = items({ cursor: true }, async function* () {
      // Enough rows before the bad one for a file to be written first.
      yield Array.from({ length: 600 }, (_, i) => ({ id: i + 1, n: 1 }));
      yield [{ id: 2n ** 62n }];
    });
    const lake = await lakeOf(stream);

    // Act
    const run = lake.sync();

    // Assess
    await expect(run).rejects.toThrow(
      `stream "items" yielded a record (primary key id=${2n ** 62n}) without a value in its cursor field "n"`,
    );
    await expect(run).rejects.toThrow('onMissingCursor "land"');
    await expect(run).rejects.toMatchObject({ cause: { field: 'n' } });
    expect(await lake.backend.objects.list('raw/')).toEqual([]);
    expect(await lake.backend.objects.list(`_staging/`)).toEqual([]);
  });

  it('fails a stream that lands records without a cursor when a cursor value is of a type it cannot read', async () => {
    // Prepare: onMissingCursor "land" covers a missing value, not an object where a cursor should be.
    const stream = items({ cursor: true }, async function* () {
      yield [
        { id: 1, n: 1 },
        { id: 2, n: { at: 2 } },
      ];
    });
    const lake = await lakeOf({
      ...stream,
      incremental: { ...stream.incremental!, onMissingCursor: 'land' },
    });

    // Act
    const run = lake.sync();

    // Assess
    await expect(run).rejects.toThrow('cursor field "n" has a object value');
  });

  it('takes the last total a connector reports, rounded, and ignores totals that are not counts', async () => {
    // Prepare
    const stream = items({}, async function* (ctx) {
      ctx.reportTotal?.(2.6);
      ctx.reportTotal?.(-1);
      ctx.reportTotal?.(Number.NaN);
      ctx.reportTotal?.(Number.POSITIVE_INFINITY);
      yield [{ id: 1 }, { id: 2 }, { id: 3 }];
    });
    const empty: Stream = {
      name: 'empty',
      primaryKey: [],
      writeDisposition: 'append',
      columns: { id: 'int' },
      async *read(ctx) {
        ctx.reportTotal?.(0);
        yield* [];
      },
    };
    const lake = await lakeOf(stream, empty);
    const seen: SyncProgress[] = [];

    // Act
    await lake.sync({ onProgress: (p) => seen.push(p) });

    // Assess
    expect(seen.filter((p) => p.stream === 'items').at(-1)).toMatchObject({
      rows: 3,
      done: true,
      totalRows: 3,
    });
    expect(seen.filter((p) => p.stream === 'empty').at(-1)).toMatchObject({
      rows: 0,
      done: true,
      totalRows: 0,
    });
  });
});

describe('schema versions of a stream staged over several slices', () => {
  it('records one version with every change of the run and the field names it renamed', async () => {
    // Prepare: an unordered stream (files staged until it completes); row 2 brings `Extra Field`.
    const records: SourceRecord[] = [{ id: 1 }, { id: 2, 'Extra Field': 'x' }, { id: 3 }];
    const stream = items({}, async function* (ctx) {
      for (let i = Number(ctx.resumeFrom?.i ?? 0); i < records.length; i++) {
        yield records[i]!;
        yield checkpoint({ i: i + 1 });
      }
    });
    const lake = await lakeOf(stream);

    // Act
    const run = await lake.sync({ sliceRows: 1 });
    const table = await lake.backend.catalog.getTable(SOURCE, 'items');

    // Assess
    const changes = [
      'created table with 2 columns',
      'field "Extra Field" lands in column extra_field',
      'added column extra_field (string)',
    ];
    expect(table!.schemaVersions).toMatchObject([
      { version: 1, runId: run.runId, changes, names: { 'Extra Field': 'extra_field' } },
    ]);
    expect(table!.schemaVersions[0]!.columns.map((c) => c.name).slice(0, 2)).toEqual(['id', 'extra_field']);
    expect(run.streams.items?.schemaChanges).toEqual(changes);
    const rows = await lake.query(`SELECT id, extra_field FROM ${SOURCE}.items ORDER BY id`);
    expect(rows.map((r) => [Number(r.id), r.extra_field])).toEqual([
      [1, null],
      [2, 'x'],
      [3, null],
    ]);
  });
});

describe('tie keys at the committed cursor value', () => {
  /** A keyless stream of `records()` with a cursor on `ts`. */
  const keyless = (records: () => SourceRecord[]): Stream => ({
    name: 'items',
    primaryKey: [],
    writeDisposition: 'append',
    incremental: { cursorField: 'ts', initialValue: 0 },
    async *read() {
      yield records();
    },
  });

  it('counts identical keyless records: as many land as the source has more of them than landed', async () => {
    // Prepare: one record, then the source holds it twice, then three times.
    const same = { ts: 1, v: 'a' };
    let copies = 1;
    const lake = await lakeOf(keyless(() => Array.from({ length: copies }, () => ({ ...same }))));

    // Act
    const first = await lake.sync();
    copies = 2;
    const second = await lake.sync();
    copies = 4;
    const third = await lake.sync();

    // Assess
    expect(first.streams.items).toMatchObject({ rows: 1, skipped: 0 });
    expect(second.streams.items).toMatchObject({ rows: 1, skipped: 1 });
    expect(third.streams.items).toMatchObject({ rows: 2, skipped: 2 });
    expect(await lake.query(`SELECT count(*) AS c FROM ${SOURCE}.items`)).toEqual([{ c: 4 }]);
  });

  it('lands an update of a row landed at the committed value once its cursor moves past it', async () => {
    // Prepare: id 2 lands at n = 2 (the committed value), then is updated to n = 3.
    const rows: SourceRecord[] = [
      { id: 1, n: 1, v: 'a' },
      { id: 2, n: 2, v: 'b' },
    ];
    const stream = items({ cursor: true }, async function* (ctx) {
      yield rows.filter((r) => (r.n as number) >= (ctx.since as number));
    });
    const lake = await lakeOf(stream);
    await lake.sync();
    rows[1] = { id: 2, n: 3, v: 'b2' };

    // Act
    const run = await lake.sync();

    // Assess
    expect(run.streams.items).toMatchObject({ rows: 1, skipped: 0, cursorTo: 3 });
    const landed = await lake.query(`SELECT CAST(id AS BIGINT) AS id, n, v FROM ${SOURCE}.items ORDER BY n`);
    expect(landed.map((r) => `${r.id}:${r.n}:${r.v}`)).toEqual(['1:1:a', '2:2:b', '2:3:b2']);
  });
});

describe('streams that land nothing', () => {
  it('leave no table, file or cursor, whether they yield nothing or an empty column batch', async () => {
    // Prepare
    const none: Stream = {
      name: 'none',
      primaryKey: [],
      writeDisposition: 'append',
      columns: { id: 'int' },
      async *read() {
        yield [];
      },
    };
    const blank: Stream = {
      name: 'blank',
      primaryKey: [],
      writeDisposition: 'append',
      columns: { id: 'int' },
      async *read() {
        yield batchOf({ id: 'int' }, []);
      },
    };
    const lake = await lakeOf(none, blank);

    // Act
    const run = await lake.sync();

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.streams.none).toMatchObject({ rows: 0, files: 0, bytes: 0, schemaChanges: [] });
    expect(run.streams.blank).toMatchObject({ rows: 0, files: 0, bytes: 0, schemaChanges: [] });
    expect(await lake.backend.catalog.getTable(SOURCE, 'none')).toBeUndefined();
    expect(await lake.backend.catalog.getTable(SOURCE, 'blank')).toBeUndefined();
    expect(await lake.backend.objects.list('raw/')).toEqual([]);
    expect((await lake.backend.state.getCursor(SOURCE, 'none')).version).toBe(0);
  });
});

describe('column batches whose columns land elsewhere', () => {
  it('lands a batch column that is renamed or typed unlike its declaration through records', async () => {
    // Prepare: `Full Name` lands in full_name; `score` is declared double but comes as int.
    const declared = { id: 'bigint', n: 'int', 'Full Name': 'string', score: 'double' } as const;
    const sent = { id: 'bigint', n: 'int', 'Full Name': 'string' } as const;
    const stream = items({ cursor: true, columns: declared }, async function* () {
      yield batchOf(sent, [{ id: 1, n: 1, 'Full Name': 'Ada' }]);
      yield batchOf({ id: 'bigint', n: 'int', score: 'int' }, [{ id: 2, n: 2, score: 7 }]);
    });
    const lake = await lakeOf(stream);

    // Act
    const run = await lake.sync();

    // Assess
    expect(run.streams.items).toMatchObject({ rows: 2, cursorTo: 2 });
    const rows = await lake.query(
      `SELECT CAST(id AS BIGINT) AS id, full_name, score, typeof(score) AS t FROM ${SOURCE}.items ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, full_name: 'Ada', score: null, t: 'DOUBLE' },
      { id: 2, full_name: null, score: 7, t: 'DOUBLE' },
    ]);
  });

  it('lands a batch whose cursor values pass 2^53 exactly when the stream declares a number cursor', async () => {
    // Prepare: bigint cursors beyond 2^53; 2^53 + 3 and 2^53 + 4 would be one number if rounded.
    const big = 2n ** 53n;
    const columns = { id: 'bigint', seq: 'bigint' } as const;
    let rows: SourceRecord[] = [
      { id: 0, seq: 5n },
      { id: 1, seq: big + 3n },
      { id: 2, seq: big + 4n },
    ];
    const stream: Stream = {
      name: 'items',
      primaryKey: ['id'],
      writeDisposition: 'append',
      incremental: { cursorField: 'seq', initialValue: 0, cursorType: 'number' },
      columns,
      async *read() {
        yield batchOf(columns, rows);
      },
    };
    const lake = await lakeOf(stream);

    // Act
    const first = await lake.sync();
    const committed = (await lake.backend.state.getCursor(SOURCE, 'items')).cursor;
    rows = [...rows, { id: 3, seq: big + 6n }];
    const second = await lake.sync();

    // Assess: the cursor is the exact highest value, with its one tie key; nothing lands twice.
    expect(first.streams.items?.rows).toBe(3);
    expect(committed).toMatchObject({ value: '9007199254740996' });
    expect(committed?.keysAtValue).toHaveLength(1);
    expect(second.streams.items).toMatchObject({ rows: 1, skipped: 3, cursorTo: '9007199254740998' });
    expect(await landedIds(lake)).toEqual(once(0, 1, 2, 3));
  });

  it('refuses a bigint cursor beyond 2^53 of a stream that does not declare a number cursor, saying so', async () => {
    // Prepare
    const columns = { id: 'bigint', seq: 'bigint' } as const;
    const stream: Stream = {
      name: 'items',
      primaryKey: ['id'],
      writeDisposition: 'append',
      incremental: { cursorField: 'seq', initialValue: 0 },
      columns,
      async *read() {
        yield batchOf(columns, [{ id: 1, seq: 2n ** 53n + 3n }]);
      },
    };
    const lake = await lakeOf(stream);

    // Act
    const run = lake.sync();

    // Assess
    await expect(run).rejects.toThrow('declare the stream\'s incremental.cursorType "number"');
    expect(await lake.backend.objects.list('raw/')).toEqual([]);
  });
});

describe('slices of a cursor-ascending stream without checkpoints', () => {
  /** Items `{id, n}` in ascending `n`, one page per record and no checkpoint; `lag` optional. */
  const pages = (items: SourceRecord[], lag?: number): Stream => ({
    name: 'items',
    primaryKey: ['id'],
    writeDisposition: 'append',
    order: ReadOrder.cursorAscending,
    incremental: { cursorField: 'n', initialValue: 0, ...(lag === undefined ? {} : { lag }) },
    async *read(ctx) {
      for (const item of items) if ((item.n as number) >= (ctx.since as number)) yield [item];
    },
  });
  const items = (): SourceRecord[] => [1, 2, 3, 4].map((id) => ({ id, n: id }));

  for (const lag of [undefined, 2]) {
    it(`ends slices between pages at the budget and lands every row once${lag ? ' (with a lag, first run)' : ''}`, async () => {
      // Prepare
      const lake = await lakeOf(pages(items(), lag));
      const slices: number[] = [];

      // Act: one row per slice.
      const run = await lake.sync({ sliceRows: 1, onSlice: (c) => slices.push(c.slice) });

      // Assess: every slice publishes its row and advances the cursor.
      expect(run.streams.items).toMatchObject({ rows: 4, cursorTo: 4 });
      expect(Math.max(...slices)).toBeGreaterThanOrEqual(4);
      expect(await landedIds(lake)).toEqual(once(1, 2, 3, 4));
    });
  }
});

describe('a full-refresh stream that declares cursor-ascending order', () => {
  it('keeps its files staged until it completes, like any stream without a cursor', async () => {
    // Prepare: while reading slice 2, the test looks at what is published.
    let publishedDuringRun: string[] | undefined;
    let lake: TestLake | undefined;
    const stream: Stream = {
      name: 'items',
      primaryKey: [],
      writeDisposition: 'append',
      order: ReadOrder.cursorAscending,
      async *read(ctx) {
        const from = Number(ctx.resumeFrom?.id ?? 0);
        if (from > 0) publishedDuringRun = (await lake!.backend.objects.list('raw/')).map((o) => o.key);
        for (let id = from + 1; id <= 3; id++) {
          yield { id };
          yield checkpoint({ id });
        }
      },
    };
    lake = await lakeOf(stream);

    // Act
    const run = await lake.sync({ sliceRows: 1 });

    // Assess
    expect(publishedDuringRun).toEqual([]);
    expect(run.streams.items?.rows).toBe(3);
    expect(await landedIds(lake)).toEqual(once(1, 2, 3));
  });
});

describe('ties across column batches', () => {
  it('keeps the tie keys of every batch that reaches the highest value, and none of lower batches', async () => {
    // Prepare: the highest value 2 comes in two batches, then a batch of a lower value.
    const columns = { id: 'bigint', n: 'int' } as const;
    const stream = items({ cursor: true, columns }, async function* () {
      yield batchOf(columns, [
        { id: 1, n: 1 },
        { id: 2, n: 2 },
      ]);
      yield batchOf(columns, [{ id: 3, n: 2 }]);
      yield batchOf(columns, [{ id: 4, n: 1 }]);
    });
    const lake = await lakeOf(stream);

    // Act: the second run is sent everything again.
    const first = await lake.sync();
    const { cursor } = await lake.backend.state.getCursor(SOURCE, 'items');
    const second = await lake.sync();

    // Assess
    expect(first.streams.items).toMatchObject({ rows: 4, cursorTo: 2 });
    expect(cursor?.keysAtValue).toHaveLength(2);
    expect(second.streams.items).toMatchObject({ rows: 0, skipped: 4 });
    expect(await landedIds(lake)).toEqual(once(1, 2, 3, 4));
  });
});

describe('a lag window read over several slices', () => {
  it('lands late arrivals of the window that come after the first slice ended', async () => {
    // Prepare: cursor-ascending with a lag of 2; the first run commits n = 3.
    const records: SourceRecord[] = [
      { id: 1, n: 1 },
      { id: 2, n: 2 },
      { id: 3, n: 3 },
    ];
    const stream: Stream = {
      name: 'items',
      primaryKey: ['id'],
      writeDisposition: 'append',
      order: ReadOrder.cursorAscending,
      incremental: { cursorField: 'n', initialValue: 0, lag: 2 },
      async *read(ctx) {
        const wanted = records
          .filter((r) => (r.n as number) >= (ctx.since as number))
          .sort((a, b) => (a.n as number) - (b.n as number) || (a.id as number) - (b.id as number));
        for (let i = Number(ctx.resumeFrom?.i ?? 0); i < wanted.length; i++) {
          yield wanted[i]!;
          yield checkpoint({ i: i + 1 });
        }
      },
    };
    const lake = await lakeOf(stream);
    await lake.sync();
    // Late arrivals inside the window [1, 3).
    records.push({ id: 10, n: 2 }, { id: 11, n: 2 });

    // Act: one row per slice.
    const run = await lake.sync({ sliceRows: 1 });

    // Assess: the window's rows land again (raw keeps them; merges deduplicate), the late ones too.
    expect(run.streams.items).toMatchObject({ cursorTo: 3 });
    const late = await lake.query(
      `SELECT CAST(id AS BIGINT) AS id FROM ${SOURCE}.items WHERE id >= 10 ORDER BY id`,
    );
    expect(late.map((r) => r.id)).toEqual([10, 11]);
  });
});

describe('a column batch with a null cursor value', () => {
  it('is refused like the record it stands for, naming the cursor field, and lands nothing', async () => {
    // Prepare
    const columns = { id: 'bigint', n: 'int' } as const;
    const stream = items({ cursor: true, columns }, async function* () {
      yield batchOf(columns, [
        { id: 1, n: 1 },
        { id: 2, n: null },
      ]);
    });
    const lake = await lakeOf(stream);

    // Act
    const run = lake.sync();

    // Assess
    await expect(run).rejects.toThrow(
      'stream "items" yielded a record (primary key id=2) without a value in its cursor field "n"',
    );
    await expect(run).rejects.toThrow('onMissingCursor "land"');
    expect(await lake.backend.objects.list('raw/')).toEqual([]);
  });
});

describe('write batches that land without the schema step', () => {
  /** Record i of a stream whose fields change after many write batches (see the test); `orderName` lands in `order_name`. */
  function evolving(i: number): SourceRecord {
    const amount = i >= 10_000 ? 2 ** 40 + i : i >= 4_000 && i < 5_000 && i % 3 === 0 ? `${i}!` : i;
    if (i === 9_500) return { orderName: `n${i}`, id: i, amount, late: i };
    return i >= 7_250
      ? { id: i, orderName: `n${i}`, amount, late: i }
      : { id: i, orderName: `n${i}`, amount };
  }

  it('lands every value where its record says, while fields and types change mid-stream', async () => {
    // Prepare: 12,000 records in pages of 1,000, written in batches of 500 rows to one open file.
    const fused = vi.spyOn(RowConverter.prototype, 'convertIfFits');
    const lake = await lakeOf(
      items({}, async function* () {
        for (let page = 0; page < 12; page++)
          yield Array.from({ length: 1_000 }, (_, k) => evolving(page * 1_000 + k));
      }),
    );
    // Act
    const run = await lake.sync({ rowGroupRows: 500, targetFileBytes: 64 * 1024 * 1024 });
    // Assess: the oracle is the records themselves.
    const rows = await lake.query(
      `SELECT CAST(id AS BIGINT) AS id, order_name, CAST(amount AS BIGINT) AS amount, amount__string,
              CAST(late AS BIGINT) AS late FROM ${SOURCE}.items ORDER BY id`,
    );
    const expected = Array.from({ length: 12_000 }, (_, i) => {
      const r = evolving(i);
      const text = typeof r.amount === 'string';
      return {
        id: i,
        order_name: `n${i}`,
        amount: text ? null : r.amount,
        amount__string: text ? r.amount : null,
        late: r.late ?? null,
      };
    });
    expect(
      rows.map((r) => ({
        ...r,
        id: Number(r.id),
        amount: r.amount === null ? null : Number(r.amount),
        late: r.late === null ? null : Number(r.late),
      })),
    ).toEqual(expected);
    expect(run.streams.items!.schemaChanges).toEqual([
      'created table with 4 columns',
      'field "orderName" lands in column order_name',
      'added variant column amount__string (string) for values of amount that are not int',
      'added column late (int)',
      'widened amount: int → bigint',
    ]);
    // Most batches landed in one pass; those that changed the schema (and the first) did not.
    const results = fused.mock.results.map((r) => r.value !== undefined);
    expect(results.filter(Boolean).length).toBeGreaterThan(15);
    expect(results.filter((r) => !r).length).toBeGreaterThanOrEqual(4);
    fused.mockRestore();
  });
});
