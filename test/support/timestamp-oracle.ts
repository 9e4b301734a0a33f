/**
 * Epoch microseconds of ISO-8601 text computed from its own fields in
 * BigInt, by counting leap years: an oracle for timestamp tests that shares
 * no code with the engine's parsers (engine/parquet/values.ts).
 */

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:\d{2})?$/;
const MONTH_STARTS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b > a ? q - 1n : q;
}

/** Days from 0001-01-01 to January 1st of `year`, by counting leap years. */
function daysBeforeYear(year: bigint): bigint {
  const p = year - 1n;
  return 365n * p + floorDiv(p, 4n) - floorDiv(p, 100n) + floorDiv(p, 400n);
}

/** The oracle: epoch microseconds of ISO text, from its fields, in BigInt (a fraction past 6 digits is cut). */
export function oracleMicros(text: string): bigint {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new Error(`oracle cannot read ${text}`);
  const [, y, mo, d, hh = '0', mi = '0', ss = '0', fraction = '', zone = 'Z'] = m;
  const year = BigInt(y!);
  const month = Number(mo);
  const leap = (year % 4n === 0n && year % 100n !== 0n) || year % 400n === 0n;
  const dayOfYear = BigInt(MONTH_STARTS[month - 1]! + (leap && month > 2 ? 1 : 0) + Number(d) - 1);
  const days = daysBeforeYear(year) - daysBeforeYear(1970n) + dayOfYear;
  const offset =
    zone === 'Z'
      ? 0n
      : (zone.startsWith('-') ? -1n : 1n) * BigInt(Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
  const seconds = days * 86_400n + BigInt(Number(hh) * 3600 + Number(mi) * 60 + Number(ss)) - offset * 60n;
  return seconds * 1_000_000n + BigInt(fraction.slice(0, 6).padEnd(6, '0'));
}
