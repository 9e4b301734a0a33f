/**
 * Column batches: a page of rows laid out as Arrow column buffers instead of
 * one object per row (docs/adr/0010-columnar-batches.md). A connector that
 * can decode its source straight into typed buffers (PostgreSQL's binary
 * COPY) yields them — only when the engine says it accepts them
 * (`ReadContext.acceptsColumnBatches`); any other reader gets records.
 *
 * The contract: a batch means exactly the records `batchRecords(batch)`
 * returns (`batchValue` gives the value a record would hold: numbers for
 * int/double and safe bigints, a bigint beyond 2^53, ISO-8601 UTC text with
 * six fraction digits for timestamps, `YYYY-MM-DD` for dates, decimal text
 * with the column's scale, strings for string and json). The engine lands a
 * batch as those records would land, and falls back to them whenever a batch
 * needs per-row treatment (schema evolution, cursor ties).
 */
import { columnKind, parseDecimalType } from './column-types.js';
import type { ColumnType, SourceRecord } from './types.js';

/**
 * One column's values for every row of a batch, in Arrow's layout:
 * - `validity`: bit i set = row i has a value; null when no row is null.
 * - `values`: boolean: bit-packed; int, date (days since 1970-01-01): int32;
 *   bigint, timestamp (microseconds since 1970-01-01 UTC): int64 as
 *   little-endian int32 word pairs (low word first); decimal: the unscaled
 *   int128 as four little-endian int32 words; double: float64; string and
 *   json: UTF-8 bytes of every row back to back.
 * - `offsets`: string and json only: row i's bytes are `values[offsets[i]..offsets[i+1])`.
 * A null row's slot holds anything (zero, or no bytes for text).
 */
export interface ColumnVector {
  readonly validity: Uint8Array | null;
  readonly nullCount: number;
  readonly values: Uint8Array | Int32Array | Float64Array;
  readonly offsets: Int32Array | null;
}

export interface BatchColumn {
  /** The source field name (as a record key). */
  readonly name: string;
  /** Its lake type: the stream's declared type for the field. */
  readonly type: ColumnType;
  readonly data: ColumnVector;
}

const COLUMN_BATCH_MARK: unique symbol = Symbol.for('sluice.column-batch');

export interface ColumnBatch {
  readonly [COLUMN_BATCH_MARK]: true;
  readonly rows: number;
  readonly columns: readonly BatchColumn[];
}

export function columnBatch(rows: number, columns: readonly BatchColumn[]): ColumnBatch {
  return { [COLUMN_BATCH_MARK]: true, rows, columns };
}

export function isColumnBatch(item: unknown): item is ColumnBatch {
  return (
    typeof item === 'object' && item !== null && (item as Record<symbol, unknown>)[COLUMN_BATCH_MARK] === true
  );
}

const TWO_32 = 4_294_967_296;
const MICROS_PER_DAY = 86_400_000_000;
const utf8 = new TextDecoder('utf-8');

export function isNullAt(data: ColumnVector, row: number): boolean {
  return data.validity !== null && (data.validity[row >> 3]! & (1 << (row & 7))) === 0;
}

/** An int64 from its two little-endian words: a number when exact, a bigint beyond 2^53. */
export function int64At(words: Int32Array, row: number): number | bigint {
  const lo = words[row << 1]! >>> 0;
  const hi = words[(row << 1) + 1]!;
  const n = hi * TWO_32 + lo;
  if (Number.isSafeInteger(n)) return n;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Civil date of a day count since 1970-01-01 (proleptic Gregorian). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** `YYYY-MM-DD` of a day count since 1970-01-01 (years 1–9999). */
export function isoDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${String(y).padStart(4, '0')}-${two(m)}-${two(d)}`;
}

/** Days and microseconds within the day of a timestamp given as int64 words. */
export function splitMicros(words: Int32Array, row: number): [number, number] {
  const micros = int64At(words, row);
  if (typeof micros === 'number') {
    const days = Math.floor(micros / MICROS_PER_DAY);
    return [days, micros - days * MICROS_PER_DAY];
  }
  const per = BigInt(MICROS_PER_DAY);
  let days = micros / per;
  let rest = micros - days * per;
  if (rest < 0n) {
    days -= 1n;
    rest += per;
  }
  return [Number(days), Number(rest)];
}

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ`: what the PostgreSQL connector's records hold for a timestamp. */
export function isoTimestamp(words: Int32Array, row: number): string {
  const [days, inDay] = splitMicros(words, row);
  const seconds = Math.floor(inDay / 1_000_000);
  const fraction = inDay - seconds * 1_000_000;
  const hh = Math.floor(seconds / 3600);
  const mi = Math.floor((seconds % 3600) / 60);
  const ss = seconds % 60;
  return `${isoDate(days)}T${two(hh)}:${two(mi)}:${two(ss)}.${String(fraction).padStart(6, '0')}Z`;
}

/** The unscaled int128 of a decimal from its four words. */
export function unscaledAt(words: Int32Array, row: number): bigint {
  const base = row * 4;
  let n = 0n;
  for (let k = 3; k >= 0; k--) n = (n << 32n) | BigInt(words[base + k]! >>> 0);
  return BigInt.asIntN(128, n);
}

/** Decimal text with exactly `scale` fraction digits (`-0.50`, `12`). */
export function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const text = scale > 0 ? `${whole}.${digits.slice(digits.length - scale)}` : whole;
  return negative ? `-${text}` : text;
}

/** The record value of one cell (see the module comment); null for a null cell. */
export function batchValue(column: BatchColumn, row: number): unknown {
  const data = column.data;
  if (isNullAt(data, row)) return null;
  switch (columnKind(column.type)) {
    case 'boolean':
      return ((data.values as Uint8Array)[row >> 3]! & (1 << (row & 7))) !== 0;
    case 'int':
      return (data.values as Int32Array)[row];
    case 'double':
      return (data.values as Float64Array)[row];
    case 'bigint':
      return int64At(data.values as Int32Array, row);
    case 'timestamp':
      return isoTimestamp(data.values as Int32Array, row);
    case 'date':
      return isoDate((data.values as Int32Array)[row]!);
    case 'decimal':
      return decimalText(unscaledAt(data.values as Int32Array, row), parseDecimalType(column.type)!.scale);
    case 'string':
    case 'json': {
      const offsets = data.offsets!;
      return utf8.decode((data.values as Uint8Array).subarray(offsets[row]!, offsets[row + 1]!));
    }
  }
}

/** Row `row` as the record the batch stands for. */
export function batchRecord(batch: ColumnBatch, row: number): SourceRecord {
  const record: SourceRecord = {};
  for (const column of batch.columns) record[column.name] = batchValue(column, row);
  return record;
}

/** Every row as records, in order. */
export function batchRecords(batch: ColumnBatch): SourceRecord[] {
  const records = new Array<SourceRecord>(batch.rows);
  for (let i = 0; i < batch.rows; i++) records[i] = batchRecord(batch, i);
  return records;
}
