/**
 * PostgreSQL → lake type mapping. Every value is fetched in PostgreSQL's text
 * form (no driver-side parsing), then converted here per discovered column,
 * so precision is never lost on the way: numeric stays an exact string,
 * timestamps keep their microseconds, int8 stays exact.
 */
// @ts-nocheck

import { decimalType, MAX_DECIMAL_PRECISION } from '../sdk/column-types.js';
import type { ColumnType } from '../sdk/types.js';

/** How a column's text value becomes a record value. */
export const ValueKind = {
  int: 'int',
  int8: 'int8',
  float: 'float',
  boolean: 'boolean',
  text: 'text',
  date: 'date',
  timestamp: 'timestamp',
  bytea: 'bytea',
  /** Selected through `to_json(...)::text`: arrays and composite types. */
  json: 'json',
} as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

export interface PgTypeInfo {
  /** `pg_type.typname` of the column's type, or of its base type for a domain. */
  readonly typname: string;
  /** `pg_type.typcategory` (`A` = array). */
  readonly category: string;
  /** `pg_type.typtype` (`c` = composite). */
  readonly typtype: string;
}

export interface Mapping {
  readonly columnType: ColumnType;
  readonly kind: ValueKind;
}

const BY_NAME: Readonly<Record<string, Mapping>> = {
  int2: { columnType: 'int', kind: 'int' },
  int4: { columnType: 'int', kind: 'int' },
  int8: { columnType: 'bigint', kind: 'int8' },
  // Unbounded numeric has no fixed scale for a Parquet DECIMAL: every digit is kept as a string (see mapType).
  numeric: { columnType: 'string', kind: 'text' },
  float4: { columnType: 'double', kind: 'float' },
  float8: { columnType: 'double', kind: 'float' },
  bool: { columnType: 'boolean', kind: 'boolean' },
  text: { columnType: 'string', kind: 'text' },
  varchar: { columnType: 'string', kind: 'text' },
  bpchar: { columnType: 'string', kind: 'text' },
  uuid: { columnType: 'string', kind: 'text' },
  date: { columnType: 'date', kind: 'date' },
  timestamp: { columnType: 'timestamp', kind: 'timestamp' },
  timestamptz: { columnType: 'timestamp', kind: 'timestamp' },
  json: { columnType: 'json', kind: 'text' },
  jsonb: { columnType: 'json', kind: 'text' },
  bytea: { columnType: 'string', kind: 'bytea' },
};

const NUMERIC_TYPMOD = /^numeric\((\d+),(-?\d+)\)$/;

/**
 * Anything not listed lands as its PostgreSQL text form (interval, inet, money, enums, time, …).
 * `numeric(p,s)` (from `castType`, `format_type` with modifiers) lands as `decimal(p,s)` when
 * Parquet can hold it (p ≤ 38, 0 ≤ s ≤ p); unbounded `numeric` and the rest as exact strings —
 * a double would round, and a DECIMAL needs one scale for every value.
 */
export function mapType(type: PgTypeInfo, castType?: string): Mapping {
  if (type.category === 'A') return { columnType: 'json', kind: 'json' };
  if (type.typtype === 'c') return { columnType: 'json', kind: 'json' };
  if (type.typname === 'numeric' && castType !== undefined) {
    const match = NUMERIC_TYPMOD.exec(castType.replace(/\s+/g, ''));
    const precision = Number(match?.[1]);
    const scale = Number(match?.[2]);
    if (match && precision <= MAX_DECIMAL_PRECISION && scale >= 0 && scale <= precision) {
      return { columnType: decimalType(precision, scale), kind: 'text' };
    }
  }
  return BY_NAME[type.typname] ?? { columnType: 'string', kind: 'text' };
}

/** Types whose order in PostgreSQL matches the engine's cursor comparison. */
export function isCursorType(type: PgTypeInfo): boolean {
  return ['int2', 'int4', 'int8', 'date', 'timestamp', 'timestamptz'].includes(type.typname);
}

// `2026-01-02 03:04:05.123456` with an optional `+00`/`+00:00` (the session runs in UTC).
const PG_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:\+00(?::?00)?)?$/;
const PG_DATE = /^\d{4}-\d{2}-\d{2}$/;

export const MIN_TIMESTAMP = '0001-01-01T00:00:00.000000Z';
export const MAX_TIMESTAMP = '9999-12-31T23:59:59.999999Z';
export const MIN_DATE = '0001-01-01';
export const MAX_DATE = '9999-12-31';

/** Values ISO-8601 (and the lake) cannot hold are clamped, keeping their order. */
function clamp<T>(text: string, min: T, max: T): T | undefined {
  if (text === '-infinity' || text.endsWith(' BC')) return min;
  if (text === 'infinity' || /^\d{5,}-/.test(text)) return max;
  return undefined;
}

/**
 * `2026-01-02T03:04:05.123456Z`: ISO-8601 UTC, always six fraction digits so
 * the strings sort like the instants. `timestamp` (without time zone) is
 * read as UTC. `-infinity` and BC values become 0001-01-01T00:00:00Z,
 * `infinity` and years past 9999 become 9999-12-31T23:59:59.999999Z.
 */
export function toIsoTimestamp(text: string): string {
  const fast = canonicalTimestamp(text);
  if (fast !== undefined) return fast;
  const match = PG_TIMESTAMP.exec(text);
  if (!match) return clamp(text, MIN_TIMESTAMP, MAX_TIMESTAMP) ?? text;
  return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(6, '0')}Z`;
}

/** The digits of a PostgreSQL timestamp's text, by position (`YYYY-MM-DD HH:MM:SS`). */
const TIMESTAMP_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/**
 * What PostgreSQL emits (`2026-01-02 03:04:05[.f{1,6}][+00]`) without the
 * regex, giving exactly the regex path's result; undefined for anything else.
 */
function canonicalTimestamp(text: string): string | undefined {
  let n = text.length;
  if (
    n >= 22 &&
    text.charCodeAt(n - 3) === 43 &&
    text.charCodeAt(n - 2) === 48 &&
    text.charCodeAt(n - 1) === 48
  )
    n -= 3;
  if (n < 19 || n === 20 || n > 26) return undefined;
  if (text.charCodeAt(10) !== 32 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  for (const i of TIMESTAMP_DIGITS) if (!isDigit(text.charCodeAt(i))) return undefined;
  if (n === 19) return `${text.slice(0, 10)}T${text.slice(11, 19)}.000000Z`;
  if (text.charCodeAt(19) !== 46) return undefined;
  for (let i = 20; i < n; i++) if (!isDigit(text.charCodeAt(i))) return undefined;
  return `${text.slice(0, 10)}T${text.slice(11, n)}${'000000'.slice(0, 26 - n)}Z`;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** `YYYY-MM-DD`, clamped like timestamps (`infinity` → 9999-12-31). */
export function toIsoDate(text: string): string {
  if (PG_DATE.test(text)) return text;
  return clamp(text, MIN_DATE, MAX_DATE) ?? text;
}

/** int8: a number when exact, a bigint beyond 2^53. */
export function toInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** bytea in `hex` output (`\x0102…`) → base64. */
export function toBase64(text: string): string {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex').toString('base64');
  return Buffer.from(text, 'latin1').toString('base64');
}

export type Converter = (text: string) => unknown;

const CONVERTERS: Readonly<Record<ValueKind, Converter>> = {
  int: (text) => Number.parseInt(text, 10),
  int8: toInt8,
  float: (text) => Number(text),
  boolean: (text) => text === 't',
  text: (text) => text,
  date: toIsoDate,
  timestamp: toIsoTimestamp,
  bytea: toBase64,
  json: (text) => text,
};

export function converterFor(kind: ValueKind): Converter {
  return CONVERTERS[kind];
}
