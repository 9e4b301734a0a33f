/**
 * Slow paths of the row converter: coercions of values that are not already
 * of their column's JS type, and fast parsers for ISO-8601 timestamps and
 * dates. Each returns NaN / undefined when the value cannot be converted and
 * lets the caller raise the error that names the column and row.
 */
import { stringifyExact } from '../../connectors/sdk/json.js';
import { PreciseDate } from '../../connectors/sdk/precise-date.js';

const MS_PER_DAY = 86_400_000;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function digits(s: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Parses `YYYY-MM-DD` at the start of `s` into epoch days, or NaN. */
function parseDatePart(s: string): number {
  if (s.length < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return Number.NaN;
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return Number.NaN;
  return daysFromCivil(y, m, d);
}

/**
 * ISO-8601 timestamp → epoch microseconds, or NaN. Handles `YYYY-MM-DD`,
 * `YYYY-MM-DD[T ]HH:MM[:SS[.f{1,9}]][Z|±HH[:]MM]` directly (a missing offset
 * means UTC, never local time); anything else goes through `Date.parse`.
 */
export function parseTimestampMicros(s: string): number {
  const fast = parseUtcTimestampMicros(s);
  if (!Number.isNaN(fast)) return fast;
  const general = parseTimestampGeneral(s);
  return Number.isNaN(general) ? fallbackMicros(s) : general;
}

/**
 * Only `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z` with every field in range (what
 * toISOString, most APIs and the PostgreSQL connector emit) → epoch
 * microseconds; NaN for anything else.
 */
export function parseUtcTimestampMicros(s: string): number {
  const n = s.length;
  // Fast path: `YYYY-MM-DDTHH:MM:SS[.fff[fff]]Z`, what toISOString and most APIs emit.
  if (
    (n === 24 || n === 20 || n === 27) &&
    s.charCodeAt(n - 1) === 90 &&
    s.charCodeAt(10) === 84 &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(13) === 58 &&
    s.charCodeAt(16) === 58 &&
    (n === 20 || s.charCodeAt(19) === 46)
  ) {
    const y = d(s, 0) * 1000 + d(s, 1) * 100 + d(s, 2) * 10 + d(s, 3);
    const m = d(s, 5) * 10 + d(s, 6);
    const day = d(s, 8) * 10 + d(s, 9);
    const hh = d(s, 11) * 10 + d(s, 12);
    const mi = d(s, 14) * 10 + d(s, 15);
    const ss = d(s, 17) * 10 + d(s, 18);
    let frac = 0;
    if (n === 24) frac = (d(s, 20) * 100 + d(s, 21) * 10 + d(s, 22)) * 1000;
    else if (n === 27)
      frac =
        d(s, 20) * 100_000 + d(s, 21) * 10_000 + d(s, 22) * 1000 + d(s, 23) * 100 + d(s, 24) * 10 + d(s, 25);
    // A non-digit makes d() return a huge value, which fails these range checks.
    if (
      y <= 9999 &&
      m >= 1 &&
      m <= 12 &&
      day >= 1 &&
      day <= daysInMonth(y, m) &&
      hh <= 23 &&
      mi <= 59 &&
      ss <= 59 &&
      frac < 1_000_000
    ) {
      return (daysFromCivil(y, m, day) * 86_400 + hh * 3600 + mi * 60 + ss) * 1_000_000 + frac;
    }
  }
  return Number.NaN;
}

/** One digit at `i`, or a value far out of every range when it is not a digit. */
function d(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : 1e9;
}

/** The forms parseUtcTimestampMicros does not take, with a 4-digit year → epoch microseconds, or NaN. */
function parseTimestampGeneral(s: string): number {
  const days = parseDatePart(s);
  if (Number.isNaN(days)) return Number.NaN;
  const n = s.length;
  if (n === 10) return days * MS_PER_DAY * 1000;
  const sep = s.charCodeAt(10);
  if ((sep !== 84 && sep !== 116 && sep !== 32) || n < 16 || s.charCodeAt(13) !== 58) return Number.NaN;
  const hh = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  if (hh < 0 || hh > 23 || mi < 0 || mi > 59) return Number.NaN;
  let pos = 16;
  let ss = 0;
  let micros = 0;
  if (pos < n && s.charCodeAt(pos) === 58) {
    ss = digits(s, pos + 1, 2);
    if (ss < 0 || ss > 59 || pos + 3 > n) return Number.NaN;
    pos += 3;
    if (pos < n && (s.charCodeAt(pos) === 46 || s.charCodeAt(pos) === 44)) {
      pos++;
      let scale = 100_000;
      const start = pos;
      while (pos < n) {
        const c = s.charCodeAt(pos) - 48;
        if (c < 0 || c > 9) break;
        micros += c * scale;
        scale /= 10;
        pos++;
      }
      if (pos === start) return Number.NaN;
      micros = Math.floor(micros);
    }
  }
  let offsetMinutes = 0;
  if (pos < n) {
    const z = s.charCodeAt(pos);
    if ((z === 90 || z === 122) && pos + 1 === n) pos++;
    else if (z === 43 || z === 45) {
      const oh = digits(s, pos + 1, 2);
      let om = 0;
      let end = pos + 3;
      if (end < n && s.charCodeAt(end) === 58) end++;
      if (end < n) {
        om = digits(s, end, 2);
        end += 2;
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59 || end !== n) return Number.NaN;
      offsetMinutes = (z === 45 ? -1 : 1) * (oh * 60 + om);
      pos = n;
    } else return Number.NaN;
  }
  const seconds = days * 86_400 + hh * 3600 + mi * 60 + ss - offsetMinutes * 60;
  return seconds * 1_000_000 + micros;
}

function fallbackMicros(s: string): number {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? Number.NaN : ms * 1000;
}

/**
 * Microseconds beyond ±2^53 are not all doubles: a timestamp function's
 * double result outside (−SAFE_MICROS, SAFE_MICROS) may be rounded, one
 * inside is exact (each parser's parts are exact and its one rounding step
 * is monotonic). Callers recompute the former with the `…Exact` functions,
 * a rare branch (instants outside mid-1684 to mid-2255).
 */
export const SAFE_MICROS = 2 ** 53;

function isExactMicros(micros: number): boolean {
  return micros < SAFE_MICROS && micros > -SAFE_MICROS;
}

/** The Gregorian calendar repeats every 400 years of 146 097 days. */
const CYCLE_YEARS = 400;
const CYCLE_MICROS = 146_097n * 86_400_000_000n;
/** Years 1800–2199: any instant in them, offsets included, is within ±2^53 µs. */
const SAFE_FIRST_YEAR = 1800;

/**
 * parseTimestampMicros exactly, as a bigint; undefined where it gives NaN.
 * A 4-digit year the own parsers take is moved by whole 400-year cycles into
 * 1800–2199, parsed there (exact as a double) and moved back in BigInt: the
 * parsers use the year only through the calendar, which those cycles leave
 * unchanged, so they accept the moved text exactly when they accept `s`.
 */
export function parseTimestampMicrosExact(s: string): bigint | undefined {
  const year = digits(s, 0, 4);
  if (s.length > 4 && year >= 0 && s.charCodeAt(4) === 45) {
    const cycles = Math.floor((year - SAFE_FIRST_YEAR) / CYCLE_YEARS);
    const moved = cycles === 0 ? s : String(year - cycles * CYCLE_YEARS) + s.slice(4);
    let micros = parseUtcTimestampMicros(moved);
    if (Number.isNaN(micros)) micros = parseTimestampGeneral(moved);
    if (!Number.isNaN(micros)) return BigInt(micros) + BigInt(cycles) * CYCLE_MICROS;
  }
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1000n;
}

/** `YYYY-MM-DD` (or a full ISO timestamp, taking its UTC day) → epoch days, or NaN. */
export function parseDateDays(s: string): number {
  if (s.length === 10) return parseDatePart(s);
  const micros = parseTimestampMicros(s);
  if (Number.isNaN(micros)) return Number.NaN;
  if (isExactMicros(micros)) return Math.floor(micros / (MS_PER_DAY * 1000));
  // A rounded value within a few µs of midnight could land on the wrong day.
  const exact = parseTimestampMicrosExact(s)!;
  const days = exact / MICROS_PER_DAY_BIG;
  return Number(exact < days * MICROS_PER_DAY_BIG ? days - 1n : days);
}

const MICROS_PER_DAY_BIG = 86_400_000_000n;

/** Column-type coercions for values that are not already of the fast-path JS type. */
export function toInt32(v: unknown): number {
  const n = toNumber(v);
  return Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX ? n : Number.NaN;
}

/** A safe-integer number, or a bigint within INT64; undefined when not convertible. */
export function toInt64(v: unknown): number | bigint | undefined {
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) {
    const big = BigInt(v.trim());
    if (big < INT64_MIN || big > INT64_MAX) return undefined;
    return Number.isSafeInteger(Number(big)) ? Number(big) : big;
  }
  const n = toNumber(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function toDouble(v: unknown): number {
  return toNumber(v);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return Number.NaN;
}

/** true / false, or undefined when not convertible. */
export function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1) return true;
  if (v === 'false' || v === 0) return false;
  return undefined;
}

/** Epoch microseconds from a Date, an ISO-8601 string or epoch milliseconds; NaN when not convertible. */
export function toTimestampMicros(v: unknown): number {
  if (typeof v === 'string') return parseTimestampMicros(v);
  if (v instanceof PreciseDate) return Number(preciseMicros(v) ?? Number.NaN);
  if (v instanceof Date) return v.getTime() * 1000;
  if (typeof v === 'number') return msInRange(v) ? Math.round(v * 1000) : Number.NaN;
  if (typeof v === 'bigint') return bigintMsInRange(v) ? Number(v) * 1000 : Number.NaN;
  return Number.NaN;
}

/** A PreciseDate's microseconds, or undefined beyond the int64 a Parquet timestamp holds. */
function preciseMicros(v: PreciseDate): bigint | undefined {
  return v.micros >= INT64_MIN && v.micros <= INT64_MAX ? v.micros : undefined;
}

// Epoch milliseconds whose microseconds fit the int64 a Parquet timestamp is: beyond them, no value.
const MAX_EPOCH_MS = INT64_MAX / 1000n;
const MIN_EPOCH_MS = INT64_MIN / 1000n;

function msInRange(v: number): boolean {
  // Strict: the bounds round outward as doubles.
  return Number.isFinite(v) && v > Number(MIN_EPOCH_MS) && v < Number(MAX_EPOCH_MS);
}

function bigintMsInRange(v: bigint): boolean {
  return v >= MIN_EPOCH_MS && v <= MAX_EPOCH_MS;
}

/**
 * toTimestampMicros exactly, as a bigint, for a value whose double result is
 * outside ±SAFE_MICROS; undefined where that gives NaN (epoch milliseconds
 * whose microseconds do not fit an int64 included).
 */
export function toTimestampMicrosExact(v: unknown): bigint | undefined {
  if (typeof v === 'string') return parseTimestampMicrosExact(v);
  if (v instanceof PreciseDate) return preciseMicros(v);
  if (v instanceof Date) {
    const ms = v.getTime();
    return Number.isNaN(ms) ? undefined : BigInt(ms) * 1000n;
  }
  if (typeof v === 'number') {
    if (!msInRange(v)) return undefined;
    // Math.round(v * 1000) without rounding v * 1000 first: the whole
    // milliseconds in BigInt, the fraction (a few bits at this size, so
    // scaled exactly) rounded half up as Math.round does.
    const whole = Math.trunc(v);
    return BigInt(whole) * 1000n + BigInt(Math.round((v - whole) * 1000));
  }
  if (typeof v === 'bigint') return bigintMsInRange(v) ? v * 1000n : undefined;
  return undefined;
}

/** Epoch days from `YYYY-MM-DD`, a Date or epoch milliseconds; NaN when not convertible. */
export function toDateDays(v: unknown): number {
  if (typeof v === 'string') return parseDateDays(v);
  if (v instanceof Date) return Math.floor(v.getTime() / MS_PER_DAY);
  if (typeof v === 'number') return Number.isFinite(v) ? Math.floor(v / MS_PER_DAY) : Number.NaN;
  return Number.NaN;
}

/** A value widened to a string column: Date → ISO, object/array → JSON, other → String(v). */
export function toStringValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof PreciseDate) return v.toPreciseISOString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) return jsonText(v) ?? String(v);
  return String(v);
}

/** A json column's text: strings as they are, anything else JSON-encoded; undefined for unencodable values. */
export function toJsonText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  return jsonText(v);
}

/** JSON text of a value; bigints nested inside encode as JSON integers, digit for digit, instead of throwing. */
function jsonText(v: unknown): string | undefined {
  return stringifyExact(v);
}

const DECIMAL_TEXT = /^\s*([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?\s*$/;

/**
 * A decimal(p,s) value as its unscaled integer (value × 10^s), exactly, from
 * a decimal string (`-12.50`, `1e3`), a number (through its shortest text, so
 * 0.1 is 0.1) or a bigint. Undefined when it needs more than `scale`
 * fraction digits or more than `precision` digits: it does not fit.
 */
export function toDecimalUnscaled(v: unknown, precision: number, scale: number): bigint | undefined {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    text = String(v);
  } else if (typeof v === 'bigint') text = v.toString();
  else return undefined;
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent] = match;
  if (whole === '' && fraction === '') return undefined;
  let digits = whole + fraction;
  // Where the decimal point sits, counted from the right of `digits`.
  let fractionDigits = fraction.length - (exponent === undefined ? 0 : Number(exponent));
  if (!Number.isSafeInteger(fractionDigits) || Math.abs(fractionDigits) > 400) return undefined;
  if (fractionDigits < 0) {
    digits += '0'.repeat(-fractionDigits);
    fractionDigits = 0;
  }
  // Fraction digits beyond the scale may only be zeros.
  if (fractionDigits > scale) {
    const extra = digits.slice(digits.length - (fractionDigits - scale));
    if (/[^0]/.test(extra)) return undefined;
    digits = digits.slice(0, digits.length - (fractionDigits - scale));
    fractionDigits = scale;
  }
  digits += '0'.repeat(scale - fractionDigits);
  const unscaled = BigInt(digits === '' ? '0' : digits);
  if (unscaled >= 10n ** BigInt(precision)) return undefined;
  return sign === '-' ? -unscaled : unscaled;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The unscaled value of plain decimal text (`-123.45`) with at most 15
 * digits, as an exact number; NaN for anything else (exponents, spaces, more
 * digits, more fraction digits than `scale`, more than `precision` digits),
 * which takes the exact BigInt path.
 */
export function smallDecimalUnscaled(text: string, precision: number, scale: number): number {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const negative = i === 1;
  if (n - i > 16 || n === i) return Number.NaN;
  let value = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && fraction < 0) fraction = 0;
    else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
      if (fraction >= 0) fraction++;
    } else return Number.NaN;
  }
  if (digits === 0 || fraction === 0) return Number.NaN;
  const fractionDigits = Math.max(fraction, 0);
  if (fractionDigits > scale) return Number.NaN;
  const unscaled = value * POWERS_OF_TEN[scale - fractionDigits]!;
  if (!(unscaled < POWERS_OF_TEN[Math.min(precision, 15)]!) || precision < 1) return Number.NaN;
  return negative ? -unscaled : unscaled;
}
