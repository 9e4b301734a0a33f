import { SystemError } from './errors.js';
import { PreciseDate } from './precise-date.js';
import type { CursorType, CursorValue, SourceRecord } from './types.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const EXPONENT = /^-?\d+(?:\.\d+)?[eE][+-]?\d+$/;

/**
 * Cursor values are kept as JSON-friendly scalars: numbers stay numbers,
 * Dates become ISO-8601 UTC strings, bigints become numbers (they must fit in
 * 2^53 unless the stream declares `cursorType: 'number'`). Under `number`,
 * numeric text becomes a number, and an integer beyond 2^53 (a bigint or
 * text) stays exact as canonical decimal text.
 */
export function normalizeCursor(
  value: unknown,
  field: string,
  type: CursorType = 'auto',
): CursorValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (type === 'number') return numericCursor(value, field);
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value;
  if (value instanceof PreciseDate) return value.toPreciseISOString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
    throw new SystemError(
      `cursor field "${field}" has the integer ${value}, beyond 2^53 where a number is rounded; declare the stream's incremental.cursorType "number" to keep it exact`,
    );
  }
  throw new SystemError(
    `cursor field "${field}" has a ${typeof value} value; expected a timestamp, number or string`,
  );
}

function numericCursor(value: unknown, field: string): CursorValue {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return exactInteger(value);
  if (typeof value === 'string') {
    const match = DECIMAL.exec(value.trim());
    if (match) return match[3] === undefined ? exactInteger(BigInt(value.trim())) : Number(value.trim());
    // An exponent form (`1.5e9`, as some APIs write unix times): a double, exact as far as it goes.
    if (EXPONENT.test(value.trim()) && Number.isFinite(Number(value.trim()))) return Number(value.trim());
  }
  const shown = typeof value === 'string' ? JSON.stringify(value) : `a ${typeof value} value`;
  throw new SystemError(
    `cursor field "${field}" has ${shown}, which is not a number, but the stream reads its cursor as a number; check the stream's cursor field and format`,
  );
}

/** A number when exact, else canonical decimal text (no leading zeros, no `-0`). */
function exactInteger(value: bigint): CursorValue {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

export function cursorOf(
  record: SourceRecord,
  field: string,
  type: CursorType = 'auto',
): CursorValue | undefined {
  return normalizeCursor(record[field], field, type);
}

/**
 * Orders two cursor values of the same kind; ISO timestamps compare as
 * instants. Under `number`, numbers and decimal text compare numerically and
 * exactly (integers beyond 2^53 included).
 */
export function compareCursor(a: CursorValue, b: CursorValue, type: CursorType = 'auto'): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (type === 'number') {
    const order = compareNumeric(a, b);
    if (order !== undefined) return order;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    // Per record on every incremental stream: the common case skips the regex and Date.parse.
    if (a.length === b.length && isCanonicalUtc(a) && isCanonicalUtc(b)) return a < b ? -1 : a > b ? 1 : 0;
    if (ISO_DATE.test(a) && ISO_DATE.test(b)) {
      const ta = instantMillis(a);
      const tb = instantMillis(b);
      if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
      if (ta === tb && a.length === b.length) return a < b ? -1 : a > b ? 1 : 0;
      if (ta === tb) return compareSubMillis(a, b);
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Integer part (exact) and fraction of a number or decimal text; undefined for other text. */
function splitNumber(value: CursorValue): { int: bigint; fraction: number } | undefined {
  if (typeof value === 'number') {
    const floor = Math.floor(value);
    return { int: BigInt(floor), fraction: value - floor };
  }
  const match = DECIMAL.exec(value.trim());
  if (!match) return undefined;
  const negative = match[1] === '-';
  const magnitude = BigInt(match[2]!);
  const fraction = match[3] === undefined ? 0 : Number(`0.${match[3]}`);
  if (!negative) return { int: magnitude, fraction };
  // -12.25 is -13 + 0.75.
  return fraction === 0 ? { int: -magnitude, fraction: 0 } : { int: -magnitude - 1n, fraction: 1 - fraction };
}

function compareNumeric(a: CursorValue, b: CursorValue): number | undefined {
  const x = splitNumber(a);
  const y = splitNumber(b);
  if (x === undefined || y === undefined) return undefined;
  if (x.int !== y.int) return x.int < y.int ? -1 : 1;
  return x.fraction - y.fraction;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.f…]Z` with every field in range. Two such strings of
 * the same length share one layout, so they order as text exactly as the
 * slow path orders them as instants (which, like Date.parse, would also
 * accept out-of-range fields such as Feb 30 or 24:00 — those are not
 * canonical and take the slow path).
 */
function isCanonicalUtc(s: string): boolean {
  // One side is usually the same string again and again (the highest cursor so far).
  if (s === lastCanonical) return true;
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 90 || s.charCodeAt(10) !== 84) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58)
    return false;
  if (n > 20 && (n === 21 || s.charCodeAt(19) !== 46)) return false;
  for (let i = 20; i < n - 1; i++) if (digit(s, i) < 0) return false;
  const year = num(s, 0, 4);
  const month = num(s, 5, 2);
  const day = num(s, 8, 2);
  const hour = num(s, 11, 2);
  const minute = num(s, 14, 2);
  const second = num(s, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > days) return false;
  lastCanonical = s;
  return true;
}

let lastCanonical: string | undefined;

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** The number in `count` digits at `start`, or -1 when one is not a digit. */
function num(s: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const c = digit(s, i);
    if (c < 0) return -1;
    n = n * 10 + c;
  }
  return n;
}

// Same millisecond, different precision (e.g. ".123456Z" vs ".123Z"): compare the fraction digits.
function compareSubMillis(a: string, b: string): number {
  const fraction = (s: string): string => (/\.(\d+)/.exec(s)?.[1] ?? '').padEnd(9, '0');
  const fa = fraction(a);
  const fb = fraction(b);
  return fa < fb ? -1 : fa > fb ? 1 : 0;
}

/**
 * The value to read from: the committed cursor lowered by `lag` (seconds for
 * timestamps). An integer cursor stays an integer: a fractional lag is
 * rounded up (the value down), which only re-reads a little more.
 */
export function lowerByLag(
  value: CursorValue,
  lag: number | undefined,
  type: CursorType = 'auto',
): CursorValue {
  if (!lag) return value;
  if (typeof value === 'number') return Number.isInteger(value) ? Math.floor(value - lag) : value - lag;
  if (type === 'number') {
    const split = splitNumber(value);
    if (split !== undefined && split.fraction === 0) return exactInteger(split.int - BigInt(Math.ceil(lag)));
    if (split !== undefined) return Number(value) - lag;
  }
  const t = ISO_DATE.test(value) ? instantMillis(value) : Date.parse(value);
  if (Number.isNaN(t)) return value;
  return new Date(t - lag * 1000).toISOString();
}

const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Epoch milliseconds of an `ISO_DATE` string, read as the engine reads
 * timestamps: no offset means UTC. Handed to Date.parse in the ECMAScript
 * form (`T`, an offset), since its legacy parser reads `0001-01-01 00:00`
 * as 2001 and an offset-less time as local time.
 */
function instantMillis(s: string): number {
  if (s.length === 10) return Date.parse(s);
  let iso = s.charCodeAt(10) === 32 ? `${s.slice(0, 10)}T${s.slice(11)}` : s;
  if (!HAS_OFFSET.test(iso)) iso += 'Z';
  return Date.parse(iso);
}
