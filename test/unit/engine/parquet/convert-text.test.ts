/**
 * Text through the record path's converter: a string column's UTF-8 bytes,
 * offsets and validity against Node's own encoder applied to each value on
 * its own (`Buffer.from`), over columns whose text spans many of the chunks
 * the converter joins and encodes at once, and batches too large for its
 * preallocated value list.
 */
import { describe, expect, it } from 'vitest';
import {
  concatenate,
  type ParquetColumn,
  RowConverter,
  TEXT_CHUNK,
} from '../../../../engine/parquet/convert.js';
import { ParquetConversionError } from '../../../../engine/parquet/errors.js';

/** Values that stress UTF-8: ASCII, Latin-1, CJK, astral pairs, lone surrogates at either edge, empty. */
const PIECES = ['order-', 'é', 'ø', '東京', '😀', '\ud83d', '\ude00', '', 'Zoë ', 'x'.repeat(40)];

/** A deterministic mix of PIECES per row; every ninth row null. */
function rowsOf(n: number, seed: number): { label: string | null; note: string | null }[] {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const text = (): string => {
    let s = '';
    for (let k = next() % 6; k > 0; k--) s += PIECES[next() % PIECES.length];
    return s;
  };
  return Array.from({ length: n }, (_, i) => ({
    label: i % 9 === 4 ? null : text(),
    note: i % 7 === 0 ? null : `${i}:${text()}`,
  }));
}

/** The column as Arrow lays it out, built value by value with Node's encoder. */
function oracle(values: readonly (string | null)[]) {
  const bytes = values.map((v) => (v === null ? Buffer.alloc(0) : Buffer.from(v, 'utf8')));
  const offsets = [0];
  for (const b of bytes) offsets.push(offsets.at(-1)! + b.length);
  return { data: Buffer.concat(bytes), offsets, nulls: values.flatMap((v, i) => (v === null ? [i] : [])) };
}

const COLUMNS: readonly ParquetColumn[] = [
  { name: 'label', type: 'string' },
  { name: 'note', type: 'string' },
];

function nullsOf(validity: Uint8Array | null, n: number): number[] {
  if (validity === null) return [];
  return Array.from({ length: n }, (_, i) => i).filter((i) => (validity[i >> 3]! & (1 << (i & 7))) === 0);
}

describe('RowConverter text', () => {
  it.each([
    ['a batch whose text spans many encoding chunks', 20_000, 7],
    ['a batch larger than the preallocated value list (65,536 rows)', 70_000, 11],
    ['a batch of one row', 1, 3],
  ])('encodes every value as its own UTF-8 in %s', (_, n, seed) => {
    // Prepare
    const rows = rowsOf(n, seed);

    // Act
    const group = new RowConverter(COLUMNS).convert(rows);

    // Assess
    COLUMNS.forEach((column, j) => {
      const values = rows.map((r) => r[column.name as 'label' | 'note']);
      const expected = oracle(values);
      const got = group.columns[j]!;
      expect(Buffer.from(got.values as Uint8Array).equals(expected.data)).toBe(true);
      expect(Array.from(got.offsets!.subarray(0, n + 1))).toEqual(expected.offsets);
      expect(nullsOf(got.validity, n)).toEqual(expected.nulls);
    });
  });

  it('has test text that crosses several 32,768-unit chunks and holds lone surrogates', () => {
    // The first case only tests the chunked join if its text is this large.
    const rows = rowsOf(20_000, 7);
    const units = rows.reduce((sum, r) => sum + (r.label?.length ?? 0), 0);
    expect(units).toBeGreaterThan(4 * 32_768);
    const loneHigh = /[\ud800-\udbff](?![\udc00-\udfff])/;
    expect(rows.some((r) => r.label !== null && loneHigh.test(r.label))).toBe(true);
  });

  it('keeps values apart when one converter sees batches of different sizes', () => {
    // Prepare: the value list is sized per batch; a shorter batch must not see the longer one's values.
    const converter = new RowConverter(COLUMNS);
    const long = rowsOf(5_000, 5);
    const short = rowsOf(3, 9);

    // Act
    converter.convert(long);
    const group = converter.convert(short);

    // Assess
    const expected = oracle(short.map((r) => r.label));
    expect(Buffer.from(group.columns[0]!.values as Uint8Array).equals(expected.data)).toBe(true);
    expect(Array.from(group.columns[0]!.offsets!.subarray(0, 4))).toEqual(expected.offsets);
  });

  it('encodes a json column: text as given, other values as JSON, nulls where no JSON exists', () => {
    // Prepare: a function has no JSON text, so it lands null like undefined and null.
    const values: unknown[] = [{ a: 1 }, 'raw text', null, undefined, () => 1, [1, 2n], 'ü'];
    const rows = values.map((doc) => ({ doc }));

    // Act
    const group = new RowConverter([{ name: 'doc', type: 'json' }]).convert(rows);

    // Assess
    const expected = oracle(['{"a":1}', 'raw text', null, null, null, '[1,2]', 'ü']);
    const got = group.columns[0]!;
    expect(Buffer.from(got.values as Uint8Array).toString('utf8')).toBe(expected.data.toString('utf8'));
    expect(Array.from(got.offsets!.subarray(0, values.length + 1))).toEqual(expected.offsets);
    expect(nullsOf(got.validity, values.length)).toEqual(expected.nulls);
  });
});

describe('RowConverter text from values with no text', () => {
  it('names the column and row of an invalid Date or a circular object in a string column', () => {
    const converter = new RowConverter([{ name: 'note', type: 'string' }]);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const [value, shown] of [
      [new Date(Number.NaN), 'an invalid Date'],
      [circular, '[object Object]'],
    ] as const) {
      const attempt = () => converter.convert([{ note: 'fine' }, { note: value }]);
      expect(attempt).toThrow(ParquetConversionError);
      expect(attempt).toThrow(`Cannot convert ${shown} to string in column "note" at row 1`);
    }
  });
});

describe('RowConverter field reads', () => {
  it('reads a field every object inherits (constructor, __proto__) only from the record itself', () => {
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'int' },
      { name: 'constructor', type: 'string' },
      { name: '__proto__', type: 'json' },
    ];
    const own = JSON.parse('{"id": 2, "constructor": "Ferrari", "__proto__": {"a": 1}}') as Record<
      string,
      unknown
    >;
    const data = new RowConverter(columns).convert([{ id: 1 }, own]);
    const text = (j: number): string => Buffer.from(data.columns[j]!.values as Uint8Array).toString();
    // The first record has neither field: both columns are null there, not Object's constructor or prototype.
    expect(data.columns.map((c) => c.nullCount)).toEqual([0, 1, 1]);
    expect(text(1)).toBe('Ferrari');
    expect(text(2)).toBe('{"a":1}');
  });
});

describe('concatenate', () => {
  it('joins every string once, in order, cutting only between strings once a chunk is full', () => {
    // Prepare: short and long strings, one longer than a whole chunk.
    const strings = rowsOf(30_000, 13).map((r) => r.note ?? '');
    strings.splice(5_000, 0, 'y'.repeat(TEXT_CHUNK + 10));

    // Act
    const chunks = concatenate(strings);

    // Assess: the same text as one join, chunks ending at string edges, none cut early.
    expect(chunks.join('')).toBe(strings.join(''));
    const edges = new Set<number>();
    let at = 0;
    for (const s of strings) {
      at += s.length;
      edges.add(at);
    }
    let end = 0;
    for (const [k, chunk] of chunks.entries()) {
      end += chunk.length;
      expect(edges.has(end)).toBe(true);
      if (k < chunks.length - 1) expect(chunk.length).toBeGreaterThanOrEqual(TEXT_CHUNK);
    }
    expect(chunks.length).toBeGreaterThan(4);
  });

  it('gives one empty chunk for no strings', () => {
    expect(concatenate([])).toEqual(['']);
  });
});
