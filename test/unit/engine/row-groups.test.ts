import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { columnBatch } from '../../../connectors/sdk/column-batch.js';
import type { Connector, SourceRecord, Stream } from '../../../connectors/sdk/types.js';
import { estimateRecordBytes } from '../../../engine/land-stream.js';
import { RowConverter } from '../../../engine/parquet/convert.js';
import { openTestLake, sampleSource, type TestLake } from '../../support/lake.js';

/** A connector of one stream and no config. */
function connectorOf(type: string, stream: Stream): Connector<never> {
  return {
    type,
    description: type,
    configSchema: { type: 'object', properties: {}, additionalProperties: false },
    check: async () => ({ ok: true }),
    streams: () => [stream],
  } as unknown as Connector<never>;
}

/** One `items` stream of `rows` records with a text field of `width` characters. */
function wideConnector(rows: number, width: number): Connector<never> {
  const stream: Stream = {
    name: 'items',
    primaryKey: ['id'],
    writeDisposition: 'append',
    async *read() {
      const page: SourceRecord[] = [];
      for (let id = 0; id < rows; id++) {
        page.push({ id, body: String(id % 10).repeat(width) });
        if (page.length === 250) yield page.splice(0);
      }
      if (page.length > 0) yield page;
    },
  };
  return connectorOf('wide', stream);
}

const BATCH_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'body', type: 'string' },
] as const;

/** `wideConnector`'s rows as column batches of uneven sizes, so batch and row-group boundaries never line up. */
function wideBatchConnector(rows: number, width: number): Connector<never> {
  const converter = new RowConverter(BATCH_COLUMNS);
  const sizes = [37, 150, 90, 11, 260];
  const stream: Stream = {
    name: 'items',
    primaryKey: ['id'],
    writeDisposition: 'append',
    columns: { id: 'bigint', body: 'string' },
    async *read() {
      let id = 0;
      for (let k = 0; id < rows; k++) {
        const page: SourceRecord[] = [];
        const end = Math.min(rows, id + sizes[k % sizes.length]!);
        for (; id < end; id++) page.push({ id, body: String(id % 10).repeat(width) });
        const group = converter.convert(page);
        yield columnBatch(
          page.length,
          BATCH_COLUMNS.map((c, j) => ({ name: c.name, type: c.type, data: group.columns[j]! })),
        );
      }
    },
  };
  return connectorOf('wide-batches', stream);
}

/** Every landed row as `id:first character of body:length of body`, in id order. */
async function landedRows(home: string): Promise<string[]> {
  const duck = await DuckDBInstance.create(':memory:');
  const db = await duck.connect();
  try {
    const reader = await db.runAndReadAll(
      `SELECT id, left(body, 1) AS c, length(body) AS n FROM read_parquet('${home}/**/*.parquet') ORDER BY id`,
    );
    return reader.getRowObjects().map((r) => `${r.id}:${r.c}:${r.n}`);
  } finally {
    db.closeSync();
    duck.closeSync();
  }
}

async function rowGroupSizes(home: string): Promise<number[]> {
  const duck = await DuckDBInstance.create(':memory:');
  const db = await duck.connect();
  try {
    const reader = await db.runAndReadAll(
      `SELECT row_group_id, max(row_group_num_rows) AS n FROM parquet_metadata('${home}/**/*.parquet')
        GROUP BY file_name, row_group_id ORDER BY file_name, row_group_id`,
    );
    return reader.getRowObjects().map((r) => Number(r.n));
  } finally {
    db.closeSync();
    duck.closeSync();
  }
}

/** Row groups of 256 KiB: about 128 of the ~2 KB rows. */
const WIDE_GROUPS = { rowGroupRows: 65_536, rowGroupBytes: 256 * 1024, targetFileBytes: 1 << 30 };

/** 3,000 rows in groups of about 128 (the byte target): none over 140, none but the last under 100. */
function expectWideGroups(sizes: readonly number[]): void {
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(3000);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(140);
  expect(Math.min(...sizes.slice(0, -1))).toBeGreaterThanOrEqual(100);
}

describe('row groups cut by bytes', () => {
  let lake: TestLake | undefined;
  afterEach(async () => {
    await lake?.dispose();
    lake = undefined;
  });

  it('cuts a row group when its estimated size reaches rowGroupBytes, however few rows', async () => {
    // Prepare: 3,000 rows of ~2 KB each; groups of 256 KiB hold about 128 of them.
    lake = await openTestLake(sampleSource('wide'), wideConnector(3000, 2000), {});

    // Act
    const run = await lake.sync(WIDE_GROUPS);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expectWideGroups(await rowGroupSizes(lake.home));
  });

  it('cuts row groups by bytes across column batches that do not line up with them', async () => {
    // Prepare: 3,000 rows of ~2 KB in batches of 11 to 260 rows; groups of 256 KiB hold about 128 rows.
    lake = await openTestLake(sampleSource('wide'), wideBatchConnector(3000, 2000), {});

    // Act
    const run = await lake.sync(WIDE_GROUPS);

    // Assess: every row once, groups sized by bytes whatever the batches were.
    expect(run.status).toBe('SUCCEEDED');
    expectWideGroups(await rowGroupSizes(lake.home));
    const expected = Array.from({ length: 3000 }, (_, id) => `${id}:${id % 10}:2000`);
    expect(await landedRows(lake.home)).toEqual(expected);
  });

  it('keeps rowGroupRows as the cap when rows are narrow', async () => {
    // Prepare: narrow rows, a byte target they never reach.
    lake = await openTestLake(sampleSource('narrow'), wideConnector(3000, 4), {});

    // Act
    const run = await lake.sync({ rowGroupRows: 1000, rowGroupBytes: 1 << 30, targetFileBytes: 1 << 30 });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(await rowGroupSizes(lake.home)).toEqual([1000, 1000, 1000]);
  });

  it('estimates text by its length and other values at 8 bytes', () => {
    expect(estimateRecordBytes({ a: 'abcd', b: 1, c: null, d: true })).toBe(8 + 8 + 8 + 8);
    expect(estimateRecordBytes({ nested: { k: ['xy'] } })).toBeGreaterThan(8);
  });
});
