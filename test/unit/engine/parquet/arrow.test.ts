import { describe, expect, it } from 'vitest';
import { ArrowIpcWriter } from '../../../../engine/parquet/arrow.js';
import { type ParquetColumn, RowConverter } from '../../../../engine/parquet/convert.js';

/** Column widths that leave padding between buffers (odd row counts, short strings, nulls). */
const COLUMNS: readonly ParquetColumn[] = [
  { name: 'flag', type: 'boolean' },
  { name: 'small', type: 'int' },
  { name: 'label', type: 'string' },
  { name: 'ratio', type: 'double' },
];
const rows = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => ({
    flag: i % 3 === 0 ? null : i % 2 === 0,
    small: i % 5 === 0 ? null : from + i,
    label: i % 4 === 0 ? null : `r${from + i}`,
    ratio: (from + i) / 7,
  }));

describe('IpcStream', () => {
  it('lays out the same bytes in a reused buffer full of old data as in a fresh one', () => {
    // Prepare
    const converter = new RowConverter(COLUMNS);
    const parts = [converter.convert(rows(13, 0)), converter.convert(rows(7, 13))];
    const writer = new ArrowIpcWriter(COLUMNS);
    const fresh = writer.begin();
    const dirty = writer.begin((bytes) => new Uint8Array(bytes + 4096).fill(0xa5));

    // Act
    for (const part of parts) {
      fresh.add(part);
      dirty.add(part);
    }

    // Assess
    expect(Buffer.from(dirty.end())).toEqual(Buffer.from(fresh.end()));
  });
});
