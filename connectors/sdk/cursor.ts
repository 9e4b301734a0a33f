import { SystemError } from './errors.js';
import { PreciseDate } from './precise-date.js';
import type { CursorValue, SourceRecord } from './types.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Cursor values are kept as JSON-friendly scalars: numbers stay numbers,
 * Dates become ISO-8601 UTC strings, bigints become numbers when exact.
 */
export function normalizeCursor(value: unknown, field: string): CursorValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value;
  if (value instanceof PreciseDate) return value.toPreciseISOString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  throw new SystemError(
    `cursor field "${field}" has a ${typeof value} value; expected a timestamp, number or string`,
  );
}

export function cursorOf(record: SourceRecord, field: string): CursorValue | undefined {
  return normalizeCursor(record[field], field);
}

/** Orders two cursor values of the same kind; ISO timestamps compare as instants. */
export function compareCursor(a: CursorValue, b: CursorValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
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

/** The value to read from: the committed cursor lowered by `lag` (seconds for timestamps). */
export function lowerByLag(value: CursorValue, lag: number | undefined): CursorValue {
  if (!lag) return value;
  if (typeof value === 'number') return value - lag;
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
