/**
 * A converter made with `reuseBuffers` (the Parquet writer's) writes each
 * batch into buffers kept from the batch before. Whatever an earlier batch
 * left there (set bits, nulls, longer text, more rows) must not show in the
 * next one: every result must equal, byte for byte, what a converter with
 * fresh buffers gives for the same batch.
 */
import { describe, expect, it } from 'vitest';
import { random } from '../../../../connectors/sample/world.js';
import type { SourceRecord } from '../../../../connectors/sdk/types.js';
import { type ParquetColumn, RowConverter, type RowGroupData } from '../../../../engine/parquet/convert.js';
import { StreamSchema } from '../../../../engine/schema.js';

const COLUMNS: readonly ParquetColumn[] = [
  { name: 'flag', type: 'boolean' },
  { name: 'n', type: 'int' },
  { name: 'big', type: 'bigint' },
  { name: 'x', type: 'double' },
  { name: 'price', type: 'decimal(12,2)' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamp' },
  { name: 'name', type: 'string' },
  { name: 'meta', type: 'json' },
];

const TEXTS = ['', 'a', 'Zoë', 'a longer piece of text to grow the text buffer', '東京', '😀 emoji'];

function value(column: ParquetColumn, rnd: () => number): unknown {
  if (rnd() < 0.25) return null;
  const i = Math.floor(rnd() * 1_000_000);
  switch (column.type) {
    case 'boolean':
      return rnd() < 0.5;
    case 'int':
      return i - 500_000;
    case 'bigint':
      return i * 1_000_003;
    case 'double':
      return i / 7;
    case 'date':
      return `2024-0${1 + (i % 9)}-1${i % 10}`;
    case 'timestamp':
      return `2024-05-0${1 + (i % 9)}T10:11:12.${String(i % 1_000_000).padStart(6, '0')}Z`;
    case 'string':
      return TEXTS[i % TEXTS.length]!.repeat(1 + (i % 5));
    case 'json':
      return { i, tags: TEXTS.slice(0, i % 4) };
    default:
      return (i / 100).toFixed(2);
  }
}

/** A batch of `size` rows; `dense`: no nulls at all (so no validity bitmap). */
function batch(size: number, rnd: () => number, dense: boolean): SourceRecord[] {
  return Array.from({ length: size }, () => {
    const row: Record<string, unknown> = {};
    for (const c of COLUMNS) {
      let v = value(c, rnd);
      while (dense && v === null) v = value(c, rnd);
      row[c.name] = v;
    }
    return row;
  });
}

/** The group's bytes, copied out before the reusing converter writes the next batch over them. */
function snapshot(group: RowGroupData): unknown {
  const bytes = (view: ArrayBufferView | null) =>
    view === null ? null : [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)];
  return {
    rows: group.rows,
    columns: group.columns.map((c) => ({
      nullCount: c.nullCount,
      validity: bytes(c.validity),
      offsets: bytes(c.offsets),
      values: bytes(c.values),
    })),
  };
}

describe('RowConverter with reuseBuffers', () => {
  it('gives each batch the bytes a fresh converter gives, whatever the batch before left in its buffers', () => {
    // Prepare: sizes that grow, shrink, reach zero and come back; batches with and without nulls.
    const rnd = random(13);
    const reusing = new RowConverter(COLUMNS, { reuseBuffers: true });
    const fresh = new RowConverter(COLUMNS);
    const sizes = [300, 17, 0, 1, 1000, 999, 8, 9, 2048, 5, 640, 1];

    for (const [k, size] of sizes.entries()) {
      const rows = batch(size, rnd, k % 3 === 1);

      // Act
      const reused = snapshot(reusing.convert(rows));

      // Assess
      expect(reused, `batch ${k} of ${size} rows`).toEqual(snapshot(fresh.convert(rows)));
    }
  });

  it('gives the same bytes on the one-pass path, also after a batch it gave up on', () => {
    // Prepare
    const schema = new StreamSchema([], { at: 'timestamp', day: 'date', price: 'decimal(12,2)' });
    const rnd = random(29);
    const first = batch(50, rnd, true);
    schema.apply(first);
    const columns = schema.columns.map((c) => ({ name: c.name, type: c.type }));
    const reusing = new RowConverter(columns, { reuseBuffers: true });
    const fresh = new RowConverter(columns);
    const check = schema.fusedCheck(first[0]!)!;
    const fits = batch(700, rnd, true);
    // Half converted, then a value of another type: the loop gives up mid-batch.
    const givesUp = batch(900, rnd, true).map((row, i) => (i === 450 ? { ...row, n: 'not a number' } : row));
    const after = batch(120, rnd, true);

    // Act
    const fitted = reusing.convertIfFits(fits, undefined, check);
    const fittedBytes = fitted === undefined ? undefined : snapshot(fitted);
    const gaveUp = reusing.convertIfFits(givesUp, undefined, check);
    const afterBytes = snapshot(reusing.convertIfFits(after, undefined, check) ?? reusing.convert(after));

    // Assess
    expect(fittedBytes).toEqual(snapshot(fresh.convert(fits)));
    expect(gaveUp).toBeUndefined();
    expect(afterBytes).toEqual(snapshot(fresh.convert(after)));
  });
});
