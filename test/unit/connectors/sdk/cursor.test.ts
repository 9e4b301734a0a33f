import { describe, expect, it } from 'vitest';
import { compareCursor, lowerByLag, normalizeCursor } from '../../../../connectors/sdk/cursor.js';
import { PreciseDate } from '../../../../connectors/sdk/precise-date.js';

describe('cursor helpers', () => {
  it('reads exponent forms as numbers under a number cursor, and refuses one no double holds', () => {
    expect(normalizeCursor('1.5e9', 'seq', 'number')).toBe(1_500_000_000);
    // Infinity would be stored as null and break every later comparison.
    expect(() => normalizeCursor('1e400', 'seq', 'number')).toThrow('"1e400", which is not a number');
  });

  it('compares ISO timestamps as instants whatever their precision or offset', () => {
    expect(compareCursor('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z')).toBe(0);
    expect(compareCursor('2026-01-01T01:00:00+01:00', '2026-01-01T00:00:01Z')).toBeLessThan(0);
    expect(compareCursor('2026-01-01T00:00:00.000001Z', '2026-01-01T00:00:00.000Z')).toBeGreaterThan(0);
    expect(compareCursor(10, 9)).toBeGreaterThan(0);
  });

  it('orders canonical UTC timestamps of one length exactly as instants, fraction digits included', () => {
    // Prepare: random instants in six-digit (PostgreSQL), three-digit (toISOString) and second precision.
    const instant = (seed: number, digits: number): string => {
      const ms = Math.floor(((seed * 7919) % 1_000_000) * 3_155_760_000) % 253_402_300_799_000;
      const base = new Date(ms).toISOString().slice(0, 19);
      const fraction = String((seed * 104_729) % 10 ** digits).padStart(digits, '0');
      return digits === 0 ? `${base}Z` : `${base}.${fraction}Z`;
    };
    const asInstant = (s: string): [number, string] => [
      Date.parse(s),
      (/\.(\d+)/.exec(s)?.[1] ?? '').padEnd(9, '0'),
    ];
    for (const digits of [0, 3, 6]) {
      for (let k = 1; k < 400; k++) {
        const a = instant(k, digits);
        const b = instant(k + (k % 3 === 0 ? 0 : 1), digits);
        // Act
        const order = Math.sign(compareCursor(a, b));
        // Assess: the same order as (epoch ms, then fraction digits).
        const [ta, fa] = asInstant(a);
        const [tb, fb] = asInstant(b);
        const expected = ta !== tb ? Math.sign(ta - tb) : fa < fb ? -1 : fa > fb ? 1 : 0;
        expect(order, `${a} vs ${b}`).toBe(expected);
      }
    }
  });

  it('orders instants one microsecond apart beyond ±2^53 µs, which no double of microseconds tells apart', () => {
    // Milliseconds (exact as doubles over 0001–9999), then the fraction digits: never epoch microseconds.
    expect(compareCursor('9999-12-31T23:59:59.999999Z', '9999-12-31T18:59:59.999998-05:00')).toBeGreaterThan(
      0,
    );
    expect(compareCursor('9999-12-31T23:59:59.999998Z', '9999-12-31T23:59:59.999999Z')).toBeLessThan(0);
    expect(compareCursor('0001-01-01T00:00:00.000001Z', '0001-01-01T00:00:00+00:00')).toBeGreaterThan(0);
    expect(compareCursor('2255-06-05T23:47:34.740993Z', '2255-06-05T23:47:34.740992Z')).toBeGreaterThan(0);
  });

  it('orders out-of-range fields that Date.parse rolls over as instants, not as text', () => {
    // Feb 30 is March 2 for Date.parse, and a space sorts before T: not text order.
    expect(compareCursor('2026-02-30T00:00:00.000Z', '2026-03-01T00:00:00.000Z')).toBeGreaterThan(0);
    expect(compareCursor('2026-01-01 05:00:00.000Z', '2026-01-01T04:00:00.000Z')).toBeGreaterThan(0);
  });

  it('reads years before 100 and offset-less times as the engine does when the text has a space or no offset', () => {
    // Date.parse's legacy form reads `0001-01-01 00:00` as 2001, and a time without an offset as local time.
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(compareCursor('0001-01-01 00:00:00+00:00', '1999-01-01T00:00:00Z')).toBeLessThan(0);
      expect(compareCursor('0075-06-01 12:00:00', '1975-06-01T12:00:00Z')).toBeLessThan(0);
      expect(compareCursor('2026-03-08 12:00:00', '2026-03-08T12:00:00Z')).toBe(0);
      expect(compareCursor('2026-03-08T12:00:00', '2026-03-08T11:59:59.999Z')).toBeGreaterThan(0);
      expect(lowerByLag('2026-03-08 12:00:00', 60)).toBe('2026-03-08T11:59:00.000Z');
      expect(lowerByLag('0050-01-01 00:00:30+00:00', 60)).toBe('0049-12-31T23:59:30.000Z');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('normalizes dates to ISO strings and lowers by lag in seconds', () => {
    expect(normalizeCursor(new Date(Date.UTC(2026, 0, 2)), 'f')).toBe('2026-01-02T00:00:00.000Z');
    expect(lowerByLag('2026-01-02T00:00:00.000Z', 60)).toBe('2026-01-01T23:59:00.000Z');
    expect(lowerByLag(100, 5)).toBe(95);
  });

  it('keeps a PreciseDate cursor to the microsecond, and a whole millisecond as a Date writes it', () => {
    // Prepare
    const at = 1_772_359_200_123_000n;

    // Act
    const early = normalizeCursor(new PreciseDate(at + 456n), 'f')!;
    const late = normalizeCursor(new PreciseDate(at + 789n), 'f')!;
    const whole = normalizeCursor(new PreciseDate(at), 'f');

    // Assess
    expect(early).toBe('2026-03-01T10:00:00.123456Z');
    expect(compareCursor(early, late)).toBeLessThan(0);
    expect(compareCursor(late, early)).toBeGreaterThan(0);
    expect(whole).toBe(normalizeCursor(new Date(Number(at / 1000n)), 'f'));
  });

  it('rejects cursor values that cannot be ordered', () => {
    expect(() => normalizeCursor({}, 'updated_at')).toThrow('cursor field "updated_at" has a object value');
  });

  it('reads numeric text as a number and orders "10" after "9" when the cursor type is number', () => {
    // Act
    const nine = normalizeCursor('9', 'seq', 'number')!;
    const ten = normalizeCursor(' 10 ', 'seq', 'number')!;

    // Assess
    expect([nine, ten]).toEqual([9, 10]);
    expect(compareCursor(ten, nine, 'number')).toBeGreaterThan(0);
    expect(compareCursor('10', '9', 'number')).toBeGreaterThan(0);
    expect(compareCursor('10', 9.5, 'number')).toBeGreaterThan(0);
    expect(compareCursor('-10.25', '-10.5', 'number')).toBeGreaterThan(0);
    expect(normalizeCursor('2.5', 'seq', 'number')).toBe(2.5);
  });

  it('keeps integers beyond 2^53 exact as decimal text and orders them numerically when the cursor type is number', () => {
    // Prepare: 2^62 + 513 and + 600 are the same double.
    const low = 2n ** 62n + 513n;
    const high = 2n ** 62n + 600n;

    // Act
    const a = normalizeCursor(low, 'id', 'number')!;
    const b = normalizeCursor(String(high), 'id', 'number')!;

    // Assess
    expect(a).toBe('4611686018427388417');
    expect(b).toBe('4611686018427388504');
    expect(compareCursor(a, b, 'number')).toBeLessThan(0);
    expect(compareCursor(b, a, 'number')).toBeGreaterThan(0);
    expect(compareCursor('10000000000000000000', '9999999999999999999', 'number')).toBeGreaterThan(0);
    expect(compareCursor('-9223372036854775808', 5, 'number')).toBeLessThan(0);
    expect(compareCursor(a, 2 ** 62, 'number')).toBeGreaterThan(0);
    expect(normalizeCursor(2n ** 40n, 'id', 'number')).toBe(2 ** 40);
    expect(normalizeCursor('007', 'id', 'number')).toBe(7);
  });

  it('refuses a bigint beyond 2^53 unless the cursor type is number, and text that is no number under number', () => {
    expect(() => normalizeCursor(2n ** 62n, 'id')).toThrow(
      'declare the stream\'s incremental.cursorType "number"',
    );
    expect(() => normalizeCursor('abc', 'seq', 'number')).toThrow(
      'cursor field "seq" has "abc", which is not a number',
    );
  });

  it('lowers an integer cursor by a fractional lag to an integer, rounding down', () => {
    expect(lowerByLag(10, 1.5)).toBe(8);
    expect(lowerByLag(10, 1.5, 'number')).toBe(8);
    expect(lowerByLag(-3, 0.5)).toBe(-4);
    expect(lowerByLag(10.75, 0.5)).toBe(10.25);
    expect(lowerByLag('4611686018427388417', 1.5, 'number')).toBe('4611686018427388415');
    expect(lowerByLag('9007199254740993', 2, 'number')).toBe(9_007_199_254_740_991);
  });
});
