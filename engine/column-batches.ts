/**
 * Column batches on their way to a row group: the batches of one group are
 * joined column by column (buffers copied, offsets rebased, bitmaps shifted),
 * and a batch's cursor column is ranged with typed comparisons, so landing a
 * batch never builds a record per row (docs/adr/0010-columnar-batches.md).
 */
import type { BatchColumn, ColumnBatch, ColumnVector } from '../connectors/sdk/column-batch.js';
import { columnKind } from '../connectors/sdk/column-types.js';
import type { ColumnType } from '../connectors/sdk/types.js';

/** Bytes a batch's buffers hold (what its part of a row group weighs in Arrow). */
export function batchBytes(batch: ColumnBatch): number {
  let bytes = 0;
  for (const { data } of batch.columns) {
    bytes += data.values.byteLength + (data.offsets?.byteLength ?? 0) + (data.validity?.byteLength ?? 0);
  }
  return bytes;
}

/** A column of `rows` nulls of `type`. */
export function nullVector(type: ColumnType, rows: number): ColumnVector {
  const validity = new Uint8Array((rows + 7) >> 3);
  switch (columnKind(type)) {
    case 'boolean':
      return { validity, nullCount: rows, values: new Uint8Array((rows + 7) >> 3), offsets: null };
    case 'int':
    case 'date':
      return { validity, nullCount: rows, values: new Int32Array(rows), offsets: null };
    case 'bigint':
    case 'timestamp':
      return { validity, nullCount: rows, values: new Int32Array(rows * 2), offsets: null };
    case 'decimal':
      return { validity, nullCount: rows, values: new Int32Array(rows * 4), offsets: null };
    case 'double':
      return { validity, nullCount: rows, values: new Float64Array(rows), offsets: null };
    case 'string':
    case 'json':
      return { validity, nullCount: rows, values: new Uint8Array(0), offsets: new Int32Array(rows + 1) };
  }
}

/** Copies `n` bits of `src` (all set when null) to `dst` from bit `at`. */
function copyBits(dst: Uint8Array, at: number, src: Uint8Array | null, n: number): void {
  if (src === null) {
    for (let i = 0; i < n; i++) dst[(at + i) >> 3]! |= 1 << ((at + i) & 7);
    return;
  }
  let i = 0;
  if ((at & 7) === 0) {
    const whole = n >> 3;
    dst.set(src.subarray(0, whole), at >> 3);
    i = whole << 3;
  }
  for (; i < n; i++) if (src[i >> 3]! & (1 << (i & 7))) dst[(at + i) >> 3]! |= 1 << ((at + i) & 7);
}

/** One column over several batches, in order. */
function joinVectors(
  type: ColumnType,
  parts: readonly ColumnVector[],
  counts: readonly number[],
): ColumnVector {
  const total = counts.reduce((a, b) => a + b, 0);
  const nullCount = parts.reduce((sum, p) => sum + p.nullCount, 0);
  let validity: Uint8Array | null = null;
  if (nullCount > 0) {
    validity = new Uint8Array((total + 7) >> 3);
    let at = 0;
    parts.forEach((p, k) => {
      copyBits(validity!, at, p.validity, counts[k]!);
      at += counts[k]!;
    });
  }
  const kind = columnKind(type);
  if (kind === 'string' || kind === 'json') {
    const bytes = parts.reduce((sum, p, k) => sum + (p.offsets![counts[k]!]! - p.offsets![0]!), 0);
    const values = new Uint8Array(bytes);
    const offsets = new Int32Array(total + 1);
    let row = 0;
    let base = 0;
    parts.forEach((p, k) => {
      const n = counts[k]!;
      const o = p.offsets!;
      const start = o[0]!;
      values.set((p.values as Uint8Array).subarray(start, o[n]!), base);
      for (let i = 1; i <= n; i++) offsets[row + i] = o[i]! - start + base;
      base += o[n]! - start;
      row += n;
    });
    return { validity, nullCount, values, offsets };
  }
  if (kind === 'boolean') {
    const values = new Uint8Array((total + 7) >> 3);
    let at = 0;
    parts.forEach((p, k) => {
      copyBits(values, at, p.values as Uint8Array, counts[k]!);
      at += counts[k]!;
    });
    return { validity, nullCount, values, offsets: null };
  }
  const per = kind === 'decimal' ? 4 : kind === 'bigint' || kind === 'timestamp' ? 2 : 1;
  const values = kind === 'double' ? new Float64Array(total) : new Int32Array(total * per);
  let at = 0;
  parts.forEach((p, k) => {
    const n = counts[k]! * per;
    (values as Int32Array).set((p.values as Int32Array).subarray(0, n), at);
    at += n;
  });
  return { validity, nullCount, values, offsets: null };
}

/**
 * The row group's columns (by name) from its batches, in order: a column a
 * batch lacks is null for that batch's rows. One batch is used as it is.
 */
export function joinBatches(batches: readonly ColumnBatch[]): {
  readonly rows: number;
  readonly data: Record<string, ColumnVector>;
} {
  const rows = batches.reduce((sum, b) => sum + b.rows, 0);
  const data: Record<string, ColumnVector> = {};
  if (batches.length === 1) {
    for (const c of batches[0]!.columns) data[c.name] = c.data;
    return { rows, data };
  }
  const types = new Map<string, ColumnType>();
  for (const b of batches) for (const c of b.columns) if (!types.has(c.name)) types.set(c.name, c.type);
  const counts = batches.map((b) => b.rows);
  for (const [name, type] of types) {
    const parts = batches.map(
      (b) => b.columns.find((c) => c.name === name)?.data ?? nullVector(type, b.rows),
    );
    data[name] = joinVectors(type, parts, counts);
  }
  return { rows, data };
}

const CURSOR_KINDS = new Set(['int', 'date', 'bigint', 'timestamp']);

/** Orders rows a and b of an int / date / bigint / timestamp column (no nulls). */
function compareAt(column: BatchColumn, a: number, b: number): number {
  const kind = columnKind(column.type);
  const v = column.data.values as Int32Array;
  if (kind === 'int' || kind === 'date') return v[a]! - v[b]!;
  const hi = v[(a << 1) + 1]! - v[(b << 1) + 1]!;
  if (hi !== 0) return hi;
  return (v[a << 1]! >>> 0) - (v[b << 1]! >>> 0);
}

/**
 * The rows holding a cursor column's smallest and largest value, and every
 * row at the largest, in row order. Undefined when the column is not of a
 * cursor kind this can order exactly (the batch then lands as records).
 */
export function cursorRange(
  column: BatchColumn,
  rows: number,
): { readonly min: number; readonly max: number; readonly atMax: readonly number[] } | undefined {
  if (!CURSOR_KINDS.has(columnKind(column.type)) || column.data.nullCount > 0 || rows === 0) return undefined;
  let min = 0;
  let max = 0;
  let atMax: number[] = [0];
  for (let i = 1; i < rows; i++) {
    const order = compareAt(column, i, max);
    if (order > 0) {
      max = i;
      atMax = [i];
    } else if (order === 0) atMax.push(i);
    if (compareAt(column, i, min) < 0) min = i;
  }
  return { min, max, atMax };
}
