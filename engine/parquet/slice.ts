/**
 * Row-group sizing by bytes: what converted rows weigh, where to cut them so
 * a group stays within its byte target, and how to split converted column
 * data at a row without converting it again.
 *
 * A row weighs its Arrow bytes: the fixed width of every column (a string's
 * offset counts 4) plus its text as UTF-8; validity bitmaps are left out
 * (an eighth of a byte per column).
 */
import { type ColumnKind, columnKind } from '../../connectors/sdk/column-types.js';
import type { ColumnData, ParquetColumn, RowGroupData } from './convert.js';

const WIDTH: Readonly<Record<ColumnKind, number>> = {
  boolean: 0.125,
  int: 4,
  date: 4,
  bigint: 8,
  timestamp: 8,
  double: 8,
  decimal: 16,
  string: 4,
  json: 4,
};

/** Per-row layout of a column list, computed once per writer. */
export class RowSizer {
  private readonly kinds: readonly ColumnKind[];
  /** Bytes every row takes whatever its values. */
  public readonly fixedRowBytes: number;
  /** Indexes of the variable-width (text) columns. */
  private readonly text: readonly number[];

  public constructor(columns: readonly ParquetColumn[]) {
    this.kinds = columns.map((c) => columnKind(c.type));
    this.fixedRowBytes = this.kinds.reduce((sum, kind) => sum + WIDTH[kind], 0);
    this.text = this.kinds.flatMap((kind, j) => (kind === 'string' || kind === 'json' ? [j] : []));
  }

  /** Bytes of all rows of `data`. */
  public bytes(data: RowGroupData): number {
    let bytes = data.rows * this.fixedRowBytes;
    for (const j of this.text) {
      const offsets = data.columns[j]!.offsets!;
      bytes += offsets[data.rows]! - offsets[0]!;
    }
    return bytes;
  }

  /**
   * How many leading rows of `data` to take so that `already` bytes plus
   * theirs reach `target`: the row that reaches it is included, so the group
   * exceeds the target by less than that row's size. At least one row, at
   * most `maxRows`; all of them if they stay under the target.
   */
  public cut(data: RowGroupData, already: number, target: number, maxRows: number): number {
    const limit = Math.min(data.rows, maxRows);
    let bytes = already;
    for (let i = 0; i < limit; i++) {
      bytes += this.fixedRowBytes;
      for (const j of this.text) {
        const offsets = data.columns[j]!.offsets!;
        bytes += offsets[i + 1]! - offsets[i]!;
      }
      if (bytes >= target) return i + 1;
    }
    return Math.max(1, limit);
  }

  /** Rows [start, end) of `data`; fixed-width values and text are views, offsets and bitmaps copies. */
  public slice(data: RowGroupData, start: number, end: number): RowGroupData {
    if (start === 0 && end === data.rows) return data;
    return {
      rows: end - start,
      columns: data.columns.map((column, j) => sliceColumn(this.kinds[j]!, column, start, end)),
    };
  }
}

function sliceColumn(kind: ColumnKind, column: ColumnData, start: number, end: number): ColumnData {
  const sliced = sliceBuffers(kind, column, start, end);
  return column.ids === undefined ? sliced : { ...sliced, ids: column.ids.subarray(start, end) };
}

function sliceBuffers(kind: ColumnKind, column: ColumnData, start: number, end: number): ColumnData {
  const validity = column.validity === null ? null : sliceBits(column.validity, start, end);
  const nullCount = validity === null ? 0 : end - start - countBits(validity, end - start);
  const values = column.values;
  switch (kind) {
    case 'boolean':
      return { validity, nullCount, values: sliceBits(values as Uint8Array, start, end), offsets: null };
    case 'int':
    case 'date':
    case 'double':
      return { validity, nullCount, values: values.subarray(start, end), offsets: null };
    case 'bigint':
    case 'timestamp':
      return { validity, nullCount, values: values.subarray(start * 2, end * 2), offsets: null };
    case 'decimal':
      return { validity, nullCount, values: values.subarray(start * 4, end * 4), offsets: null };
    case 'string':
    case 'json': {
      const offsets = column.offsets!;
      const base = offsets[start]!;
      const sliced = new Int32Array(end - start + 1);
      for (let i = 0; i < sliced.length; i++) sliced[i] = offsets[start + i]! - base;
      return {
        validity,
        nullCount,
        values: (values as Uint8Array).subarray(base, offsets[end]!),
        offsets: sliced,
      };
    }
  }
}

/** Bits [start, end) of an LSB-first bitmap, as a new bitmap starting at bit 0. */
function sliceBits(bits: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  const out = new Uint8Array((n + 7) >> 3);
  if ((start & 7) === 0) {
    out.set(bits.subarray(start >> 3, (start >> 3) + out.length));
    // Bits past `end` in the last byte belong to later rows: clear them.
    if ((n & 7) !== 0) out[out.length - 1]! &= (1 << (n & 7)) - 1;
    return out;
  }
  for (let i = 0; i < n; i++) {
    const k = start + i;
    if ((bits[k >> 3]! & (1 << (k & 7))) !== 0) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

function countBits(bits: Uint8Array, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if ((bits[i >> 3]! & (1 << (i & 7))) !== 0) count++;
  return count;
}
