import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../connectors/sdk/types.js';
import { RowConverter } from '../../../../engine/parquet/convert.js';
import {
  createParquetWriter,
  type ParquetColumn,
  ParquetConversionError,
  ParquetError,
  type ParquetWriterOptions,
} from '../../../../engine/parquet/index.js';
import { useDuckScratch } from '../../../support/duck-scratch.js';

/** An int and a string column: a row weighs 4 + 4 (offset) + its text's UTF-8 bytes. */
const COLUMNS: readonly ParquetColumn[] = [
  { name: 'id', type: 'int' },
  { name: 'label', type: 'string' },
];
const rowBytes = (row: SourceRecord): number => 8 + Buffer.byteLength(String(row.label ?? ''), 'utf8');

const ALL_TYPES: readonly ParquetColumn[] = [
  { name: 'flag', type: 'boolean' },
  { name: 'small', type: 'int' },
  { name: 'big', type: 'bigint' },
  { name: 'ratio', type: 'double' },
  { name: 'label', type: 'string' },
  { name: 'at', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'doc', type: 'json' },
  { name: 'price', type: 'decimal(12,2)' },
];

/** A row of every type; some rows null in some columns, so cuts fall inside validity bitmaps. */
function typedRow(i: number): SourceRecord {
  return {
    flag: i % 7 === 0 ? null : i % 3 === 0,
    small: i % 5 === 0 ? null : i - 500,
    big: i % 11 === 0 ? null : i * 1_000_003,
    ratio: i % 13 === 0 ? null : i / 7,
    label: i % 4 === 0 ? null : `row ${i} ${'é'.repeat(i % 9)}`,
    at: i % 6 === 0 ? null : new Date(Date.UTC(2024, 0, 1) + i * 1000),
    day: i % 8 === 0 ? null : '2024-02-29',
    doc: i % 9 === 0 ? null : { i, tags: ['a', i % 2 === 0 ? 'even' : 'odd'] },
    price: i % 10 === 0 ? null : `${i}.${i % 100}`,
  };
}

describe('row groups cut by bytes', () => {
  const scratch = useDuckScratch('sluice-row-group-bytes-');

  /**
   * Writes the calls with `write`, or as column buffers with `writeColumns` (groups are the
   * writer's to cut either way) and returns the file's path.
   */
  async function writeCalls(
    columns: readonly ParquetColumn[],
    calls: readonly (readonly SourceRecord[])[],
    options: ParquetWriterOptions,
    via: 'records' | 'columns' = 'records',
  ): Promise<string> {
    const chunks: Uint8Array[] = [];
    const writer = createParquetWriter(columns, async (chunk) => void chunks.push(chunk.slice()), options);
    const converter = new RowConverter(columns);
    try {
      for (const rows of calls) {
        if (via === 'records') await writer.write(rows);
        else {
          const part = converter.convert(rows);
          await writer.writeColumns(
            rows.length,
            Object.fromEntries(columns.map((c, j) => [c.name, part.columns[j]!])),
          );
        }
      }
      await writer.finish();
    } finally {
      await writer.close();
    }
    const path = scratch.path();
    await writeFile(path, Buffer.concat(chunks));
    return path;
  }

  async function groupRows(path: string): Promise<number[]> {
    const rows = (
      await scratch.db.runAndReadAll(
        `SELECT row_group_id, max(row_group_num_rows) AS n FROM parquet_metadata('${path}')
          GROUP BY row_group_id ORDER BY row_group_id`,
      )
    ).getRowObjectsJS();
    return rows.map((r) => Number(r.n));
  }

  /** Each group's rows, in order, from the rows written and the group sizes read back. */
  function split(rows: readonly SourceRecord[], sizes: readonly number[]): SourceRecord[][] {
    const groups: SourceRecord[][] = [];
    let at = 0;
    for (const size of sizes) {
      groups.push(rows.slice(at, at + size));
      at += size;
    }
    expect(at).toBe(rows.length);
    return groups;
  }

  /** Every group reaches the target only with its last row, and every group but the last reaches it. */
  function expectCutByBytes(groups: readonly SourceRecord[][], target: number): void {
    groups.forEach((group, k) => {
      const bytes = group.reduce((sum, row) => sum + rowBytes(row), 0);
      const last = rowBytes(group.at(-1)!);
      expect(bytes - last, `group ${k} stays under the target before its last row`).toBeLessThan(target);
      if (k < groups.length - 1)
        expect(bytes, `group ${k} reaches the target`).toBeGreaterThanOrEqual(target);
    });
  }

  it.each(['records', 'columns'] as const)(
    'cuts many tiny rows into groups that exceed the target by less than one row, written as %s',
    async (via) => {
      // Prepare: 20,000 rows of 9–13 bytes, written in calls of 1,000 that the cuts fall inside of.
      const rows = Array.from({ length: 20_000 }, (_, id) => ({ id, label: `r${id}` }));
      const calls = Array.from({ length: 20 }, (_, k) => rows.slice(k * 1000, (k + 1) * 1000));
      const target = 16 * 1024;

      // Act
      const path = await writeCalls(COLUMNS, calls, { rowGroupBytes: target }, via);

      // Assess
      const sizes = await groupRows(path);
      expect(sizes.length).toBeGreaterThan(10);
      expectCutByBytes(split(rows, sizes), target);
      const back = await scratch.db.runAndReadAll(`SELECT id, label FROM read_parquet('${path}')`);
      expect(back.getRowObjectsJS()).toEqual(rows);
    },
  );

  it('ends a group at each huge row, which may exceed the target alone', async () => {
    // Prepare: small rows and rows of 1 MiB of text against a 256 KiB target.
    const huge = (id: number) => ({ id, label: String.fromCharCode(97 + (id % 26)).repeat(1 << 20) });
    const small = (id: number) => ({ id, label: `small ${id}` });
    const rows = [small(0), small(1), small(2), huge(3), small(4), small(5), huge(6), huge(7), small(8)];
    const target = 256 * 1024;

    // Act
    const path = await writeCalls(COLUMNS, [rows.slice(0, 5), rows.slice(5)], { rowGroupBytes: target });

    // Assess
    const sizes = await groupRows(path);
    expect(sizes).toEqual([4, 3, 1, 1]);
    expectCutByBytes(split(rows, sizes), target);
    const back = await scratch.db.runAndReadAll(
      `SELECT id, length(label) AS n, left(label, 1) AS first FROM read_parquet('${path}')`,
    );
    expect(back.getRowObjectsJS()).toEqual(
      rows.map((r) => ({ id: r.id, n: BigInt(r.label.length), first: r.label[0] })),
    );
  });

  it('keeps every value of every type when groups are cut inside writes and inside validity bytes', async () => {
    // Prepare: the same rows as one group, and cut by a small target at rows that are not multiples of 8.
    const rows = Array.from({ length: 1000 }, (_, i) => typedRow(i));
    const calls = Array.from({ length: 13 }, (_, k) => rows.slice(k * 77, (k + 1) * 77));

    // Act
    const whole = await writeCalls(ALL_TYPES, [rows], {});
    const cut = await writeCalls(ALL_TYPES, calls, { rowGroupBytes: 3001 });

    // Assess
    expect(await groupRows(whole)).toEqual([1000]);
    const sizes = await groupRows(cut);
    expect(sizes.length).toBeGreaterThan(5);
    expect(sizes.some((n) => n % 8 !== 0)).toBe(true);
    const read = async (path: string) =>
      (
        await scratch.db.runAndReadAll(
          `SELECT flag, small, big, ratio, label, epoch_us("at") AS at, CAST(day AS VARCHAR) AS day,
            doc, CAST(price AS VARCHAR) AS price FROM read_parquet('${path}')`,
        )
      ).getRowObjectsJS();
    const back = await read(cut);
    expect(back).toEqual(await read(whole));
    expect(back.filter((r) => r.flag === null)).toHaveLength(rows.filter((r) => r.flag === null).length);
    expect(back.filter((r) => r.label === null)).toHaveLength(250);
  });

  it('cuts at rowGroupRows when the rows never reach the byte target', async () => {
    // Prepare
    const rows = Array.from({ length: 10 }, (_, id) => ({ id, label: 'x' }));

    // Act
    const path = await writeCalls(COLUMNS, [rows.slice(0, 4), rows.slice(4)], {
      rowGroupRows: 3,
      rowGroupBytes: 1 << 30,
    });

    // Assess
    expect(await groupRows(path)).toEqual([3, 3, 3, 1]);
  });

  it('makes a write wait while a completed group cannot be handed to a busy encoder', async () => {
    // Prepare: a sink that holds the first group until released; every row completes a group.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writer = createParquetWriter(COLUMNS, () => held, { rowGroupBytes: 1 });

    // Act
    await writer.write([{ id: 1, label: 'a' }]);
    let second = false;
    const next = writer.write([{ id: 2, label: 'b' }]).then(() => {
      second = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waited = !second;
    release();
    await next;

    // Assess
    expect(waited).toBe(true);
    expect(second).toBe(true);
    await writer.finish();
    await writer.close();
    expect(writer.rowGroups).toBe(2);
  });

  it('leaves the gathered group as it was when a write holds a value that does not convert', async () => {
    // Prepare
    const good = Array.from({ length: 10 }, (_, id) => ({ id, label: `ok ${id}` }));
    const chunks: Uint8Array[] = [];
    const writer = createParquetWriter(COLUMNS, async (chunk) => void chunks.push(chunk.slice()), {
      rowGroupBytes: 40,
    });

    // Act
    await writer.write(good);
    const bad = writer.write([
      { id: 10, label: 'fine' },
      { id: 11, label: 'fine' },
      { id: 'eleven', label: 'bad' },
    ]);
    await expect(bad).rejects.toThrow(ParquetConversionError);
    await expect(bad).rejects.toMatchObject({ column: 'id', rowIndex: 2 });
    await writer.write([{ id: 12, label: 'after' }]);
    await writer.finish();
    await writer.close();

    // Assess
    const path = scratch.path();
    await writeFile(path, Buffer.concat(chunks));
    const back = await scratch.db.runAndReadAll(`SELECT id FROM read_parquet('${path}')`);
    expect(back.getRowObjectsJS().map((r) => r.id)).toEqual([...good.map((r) => r.id), 12]);
  });

  it('refuses a byte target or row limit that is not a positive whole number', () => {
    expect(() => createParquetWriter(COLUMNS, async () => undefined, { rowGroupBytes: 0 })).toThrow(
      ParquetError,
    );
    expect(() => createParquetWriter(COLUMNS, async () => undefined, { rowGroupRows: 1.5 })).toThrow(
      /rowGroupRows must be a whole number/,
    );
  });
});
