import {
  Int64,
  makeData,
  makeVector,
  Table,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { tableRows } from '../../../../../connectors/s3-files/formats/parquet.js';
import { PreciseDate } from '../../../../../connectors/sdk/precise-date.js';

/** One record batch of `micros` timestamps, their ids (int64) and names. */
function batch(micros: readonly bigint[], names: readonly string[]) {
  const n = micros.length;
  const table = new Table({
    at: makeVector(
      makeData({ type: new TimestampMicrosecond(), length: n, data: BigInt64Array.from(micros) }),
    ),
    id: makeVector(
      makeData({ type: new Int64(), length: n, data: BigInt64Array.from(micros, (m) => m * 3n) }),
    ),
    name: vectorFromArray(names, new Utf8()),
  });
  return table.batches[0]!;
}

describe('tableRows', () => {
  it('reads a table of several record batches batch by batch, exact to the microsecond, lines counted on', () => {
    // Prepare: two batches, so every column has two chunks.
    const micros = [1_772_359_200_123_456n, -1n, 2n ** 53n + 7n, 0n, 1n];
    const table = new Table([
      batch(micros.slice(0, 3), ['a', 'Chloé', '']),
      batch(micros.slice(3), ['🦆', 'z']),
    ]);

    // Act
    const rows = tableRows(table, 10);

    // Assess
    expect(table.getChild('at')!.data.length).toBe(2);
    expect(rows.map((r) => r.line)).toEqual([11, 12, 13, 14, 15]);
    expect(rows.map((r) => (r.values.at as PreciseDate).micros)).toEqual(micros);
    expect(rows.every((r) => r.values.at instanceof PreciseDate)).toBe(true);
    expect(rows.map((r) => r.values.name)).toEqual(['a', 'Chloé', '', '🦆', 'z']);
    expect(rows.map((r) => String(r.values.id))).toEqual(micros.map((m) => String(m * 3n)));
  });

  it('reads a sliced table (offsets and bitmaps not starting at zero) as the rows it shows', () => {
    // Prepare: nulls in every column, text mixing ASCII and not, then a slice from row 2.
    const n = 7;
    const micros = Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_001n - 3n);
    const valid = (skip: (i: number) => boolean) => {
      const bits = new Uint8Array(1);
      for (let i = 0; i < n; i++) if (!skip(i)) bits[0]! |= 1 << i;
      return { nullBitmap: bits, nullCount: Array.from({ length: n }, (_, i) => i).filter(skip).length };
    };
    const table = new Table({
      at: makeVector(
        makeData({
          type: new TimestampMicrosecond(),
          length: n,
          data: BigInt64Array.from(micros),
          ...valid((i) => i % 3 === 0),
        }),
      ),
      id: makeVector(
        makeData({
          type: new Int64(),
          length: n,
          data: BigInt64Array.from(micros, (m) => m * 7n),
          ...valid((i) => i % 4 === 1),
        }),
      ),
      name: vectorFromArray(['a', 'bé', null, 'c', 'dü', '', 'ee'], new Utf8()),
    });

    // Act
    const rows = tableRows(table.slice(2, 6), 0);

    // Assess: the oracle is apache-arrow's own reading of the same slice.
    const slice = table.slice(2, 6);
    expect(rows.map((r) => r.values.name)).toEqual(slice.getChild('name')!.toArray());
    expect(rows.map((r) => (r.values.id === null ? null : BigInt(r.values.id as number)))).toEqual(
      [...slice.getChild('id')!].map((v) => (v === null ? null : BigInt(v as bigint))),
    );
    expect(rows.map((r) => (r.values.at === null ? null : (r.values.at as PreciseDate).micros))).toEqual(
      micros.slice(2, 6).map((m, k) => ((k + 2) % 3 === 0 ? null : m)),
    );
  });
});
