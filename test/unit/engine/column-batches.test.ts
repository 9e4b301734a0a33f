import { describe, expect, it } from 'vitest';
import { batchRecords, type ColumnBatch, columnBatch } from '../../../connectors/sdk/column-batch.js';
import type { ColumnType, SourceRecord } from '../../../connectors/sdk/types.js';
import { cursorRange, joinBatches } from '../../../engine/column-batches.js';
import { RowConverter } from '../../../engine/parquet/convert.js';
import { createParquetWriter } from '../../../engine/parquet/index.js';

const COLUMNS: { name: string; type: ColumnType }[] = [
  { name: 'id', type: 'bigint' },
  { name: 'n', type: 'int' },
  { name: 'ok', type: 'boolean' },
  { name: 'x', type: 'double' },
  { name: 'amount', type: 'decimal(20,2)' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamp' },
  { name: 'text', type: 'string' },
  { name: 'doc', type: 'json' },
];

function record(i: number): SourceRecord {
  return {
    id: i === 3 ? 2n ** 60n + BigInt(i) : i,
    n: i % 4 === 0 ? null : i * 3,
    ok: i % 3 === 0 ? null : i % 2 === 0,
    x: i % 5 === 0 ? null : i / 7,
    amount: i % 6 === 0 ? null : `${i}.${String(i % 100).padStart(2, '0')}`,
    day: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`,
    at: `2026-03-29T01:${String(i % 60).padStart(2, '0')}:00.${String(i).padStart(6, '0')}Z`,
    text: i % 7 === 0 ? null : `zürich ${'é'.repeat(i % 5)} ${i}`,
    doc: i % 2 === 0 ? null : `{"i":${i}}`,
  };
}

/** A batch of the records, built by the record path's own converter (the same Arrow layout). */
function batchOf(records: SourceRecord[]): ColumnBatch {
  const group = new RowConverter(COLUMNS).convert(records);
  return columnBatch(
    records.length,
    COLUMNS.map((c, j) => ({ name: c.name, type: c.type, data: group.columns[j]! })),
  );
}

describe('column batches', () => {
  it('joins batches of any size (bitmaps not byte-aligned) into the rows of all of them in order', () => {
    // Prepare
    const sizes = [3, 8, 1, 13, 5];
    let next = 0;
    const parts = sizes.map((size) => Array.from({ length: size }, () => record(next++)));
    // Act
    const joined = joinBatches(parts.map(batchOf));
    const records = batchRecords(
      columnBatch(
        joined.rows,
        COLUMNS.map((c) => ({ name: c.name, type: c.type, data: joined.data[c.name]! })),
      ),
    );
    // Assess
    expect(joined.rows).toBe(30);
    expect(records).toEqual(parts.flat());
  });

  it('finds the smallest and largest cursor rows and every row at the largest, by typed comparison', () => {
    // Prepare
    const at = ['2026-01-02T00:00:00.000002Z', '2026-01-02T00:00:00.000003Z', '1969-12-31T23:59:59.999999Z'];
    const records = [0, 1, 2, 1, 0, 1].map((k, i) => ({ ...record(i), at: at[k] }));
    const batch = batchOf(records);
    // Act
    const range = cursorRange(batch.columns.find((c) => c.name === 'at')!, batch.rows);
    // Assess
    expect(range).toEqual({ min: 2, max: 1, atMax: [1, 3, 5] });
  });

  it('refuses a column batch whose buffers are shorter than its rows, naming the column', async () => {
    // Prepare
    const batch = batchOf([record(1), record(2)]);
    const data = Object.fromEntries(batch.columns.map((c) => [c.name, c.data]));
    const writer = createParquetWriter(COLUMNS, async () => undefined, { worker: false });
    // Act
    const write = writer.writeColumns(3, data);
    // Assess
    await expect(write).rejects.toThrow('Column batch for "id" (bigint) has too few values for 3 rows');
    await writer.close();
  });
});
