import { SystemError } from './errors.js';
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
    if (ISO_DATE.test(a) && ISO_DATE.test(b)) {
      const ta = Date.parse(a);
      const tb = Date.parse(b);
      if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
      if (ta === tb && a.length === b.length) return a < b ? -1 : a > b ? 1 : 0;
      if (ta === tb) return compareSubMillis(a, b);
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
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
  const t = Date.parse(value);
  if (Number.isNaN(t)) return value;
  return new Date(t - lag * 1000).toISOString();
}
