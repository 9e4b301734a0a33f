/**
 * Which columns of a row group to write without dictionary encoding.
 *
 * parquet-rs dictionary-encodes every column and only falls back to plain
 * when a dictionary page outgrows 1 MiB. For a column of (nearly) distinct
 * values — ids, amounts, event times — that spends time hashing every value
 * and writes more bytes than plain encoding (65,536 distinct ints: 391 KB
 * instead of 263 KB, at 8× the encoding time). So each group's columns are
 * sampled first: up to 256 values at distinct pseudo-random rows; the number
 * of repeats among k sampled values estimates the distinct count (birthday
 * bound: D ≈ k² / 2·repeats).
 * Fixed-width columns go plain when D ≳ rows / 2 (where a dictionary stops
 * saving bytes); text only when the sample holds no repeat at all, since a
 * dictionary of repeated long strings pays off even at high cardinality.
 * Fixed-width columns of groups over 65,536 rows sample √rows values: with
 * 256 the estimate tops out at 256² = 65,536, so in a bigger group even a
 * column of distinct values would never reach rows / 2 and go plain.
 */
import { columnKind } from '../../connectors/sdk/column-types.js';
import type { ColumnData, ParquetColumn, RowGroupData } from './convert.js';
import type { TextPart } from './text-dictionary.js';

const SAMPLE = 256;

/**
 * Names of the columns that should skip dictionary encoding in this group,
 * given as its parts (the converted data of each write that joined it).
 */
export function plainColumns(columns: readonly ParquetColumn[], parts: readonly RowGroupData[]): string[] {
  const rows = parts.reduce((sum, part) => sum + part.rows, 0);
  if (rows < SAMPLE * 2) return [];
  // Where each part starts, to find a sampled row's part.
  const starts: number[] = [];
  let start = 0;
  for (const part of parts) {
    starts.push(start);
    start += part.rows;
  }
  const plain: string[] = [];
  columns.forEach((column, j) => {
    const nulls = parts.reduce((sum, part) => sum + part.columns[j]!.nullCount, 0);
    if (column.type === 'boolean' || nulls * 2 > rows) return;
    const text = column.type === 'string' || column.type === 'json';
    const size = text ? SAMPLE : Math.max(SAMPLE, Math.ceil(Math.sqrt(rows)));
    const { sampled, repeats } = sampleRepeats(column, j, parts, starts, rows, size);
    if (sampled < size / 4) return;
    const distinct = (sampled * sampled) / (2 * Math.max(repeats, 0.5));
    if (text ? repeats === 0 : distinct >= rows / 2) plain.push(column.name);
  });
  return plain;
}

/**
 * Whether a text column laid out as `parts` of a one-column IPC stream
 * (text-dictionary.ts) should skip dictionary encoding, by the same sample.
 */
export function plainText(ipc: Uint8Array, parts: readonly TextPart[], rows: number): boolean {
  const data: RowGroupData[] = parts.map((part) => ({
    rows: part.rows,
    columns: [
      {
        nullCount: part.nullCount,
        validity:
          part.validity < 0 ? null : ipc.subarray(part.validity, part.validity + ((part.rows + 7) >> 3)),
        offsets: new Int32Array(ipc.buffer, ipc.byteOffset + part.offsets, part.rows + 1),
        values: ipc.subarray(part.values),
      },
    ],
  }));
  return rows > 0 && plainColumns(TEXT, data).length > 0;
}

const TEXT: readonly ParquetColumn[] = [{ name: 'text', type: 'string' }];

/** Repeated values among up to `size` non-null values at distinct pseudo-random rows. */
function sampleRepeats(
  column: ParquetColumn,
  j: number,
  parts: readonly RowGroupData[],
  starts: readonly number[],
  rows: number,
  size: number,
): { sampled: number; repeats: number } {
  const seen = new Set<number>();
  const rowsSeen = new Set<number>();
  const keys = parts.map((part) => keyReader(column, part.columns[j]!));
  let sampled = 0;
  for (let attempt = 0; sampled < size && attempt < size * 4; attempt++) {
    const at = mix(attempt) % rows;
    if (rowsSeen.has(at)) continue;
    rowsSeen.add(at);
    let k = parts.length - 1;
    while (starts[k]! > at) k--;
    const row = at - starts[k]!;
    const data = parts[k]!.columns[j]!;
    if (data.validity !== null && (data.validity[row >> 3]! & (1 << (row & 7))) === 0) continue;
    seen.add(keys[k]!(row));
    sampled++;
  }
  return { sampled, repeats: sampled - seen.size };
}

/** murmur3's finalizer: sample rows that no linear generator in the data lines up with. */
function mix(i: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function keyReader(column: ParquetColumn, data: ColumnData): (row: number) => number {
  const values = data.values;
  switch (columnKind(column.type)) {
    case 'decimal': {
      const words = values as Int32Array;
      return (row) => words[(row << 2) + 1]! * 4_294_967_296 + (words[row << 2]! >>> 0);
    }
    case 'bigint':
    case 'timestamp': {
      const words = values as Int32Array;
      return (row) => words[(row << 1) + 1]! * 4_294_967_296 + (words[row << 1]! >>> 0);
    }
    case 'string':
    case 'json': {
      // FNV-1a over the value's bytes: a number key, no string built per sample.
      const bytes = values as Uint8Array;
      const offsets = data.offsets!;
      return (row) => {
        let h = 0x811c9dc5;
        for (let i = offsets[row]!, end = offsets[row + 1]!; i < end; i++)
          h = Math.imul(h ^ bytes[i]!, 0x01000193);
        return (h >>> 0) * 1024 + Math.min(1023, offsets[row + 1]! - offsets[row]!);
      };
    }
    default:
      return (row) => values[row]!;
  }
}
