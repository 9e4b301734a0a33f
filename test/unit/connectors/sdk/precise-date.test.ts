import { describe, expect, it } from 'vitest';
import { floorDiv, PreciseDate } from '../../../../connectors/sdk/precise-date.js';

describe('PreciseDate', () => {
  it('is a Date at the millisecond below its microseconds, before 1970 too', () => {
    // Prepare
    const cases: [bigint, string][] = [
      [1_772_359_200_123_456n, '2026-03-01T10:00:00.123Z'],
      [-1n, '1969-12-31T23:59:59.999Z'],
      [-1_001n, '1969-12-31T23:59:59.998Z'],
      [0n, '1970-01-01T00:00:00.000Z'],
    ];

    // Act
    const dates = cases.map(([micros]) => new PreciseDate(micros));

    // Assess
    expect(dates.every((d) => d instanceof Date)).toBe(true);
    expect(dates.map((d) => d.toISOString())).toEqual(cases.map(([, iso]) => iso));
    expect(dates.map((d) => d.micros)).toEqual(cases.map(([micros]) => micros));
  });

  it('writes ISO-8601 with six fractional digits, or three as a Date does on a whole millisecond', () => {
    // Act
    const texts = [1_772_359_200_123_456n, -1n, 5n, 1_772_359_200_123_000n].map((us) =>
      new PreciseDate(us).toPreciseISOString(),
    );

    // Assess
    expect(texts).toEqual([
      '2026-03-01T10:00:00.123456Z',
      '1969-12-31T23:59:59.999999Z',
      '1970-01-01T00:00:00.000005Z',
      new Date(Date.UTC(2026, 2, 1, 10, 0, 0, 123)).toISOString(),
    ]);
  });

  it('keeps the microseconds beyond the range a Date holds, as an invalid Date', () => {
    // Act
    const far = new PreciseDate(2n ** 63n - 1n); // 9.2e15 ms, past 8.64e15

    // Assess
    expect(Number.isNaN(far.getTime())).toBe(true);
    expect(far.micros).toBe(2n ** 63n - 1n);
  });

  it('divides rounding toward minus infinity', () => {
    // Assess: against Math.floor on values a double holds exactly.
    for (const a of [-2001, -2000, -1999, -1, 0, 1, 999, 1000, 1001]) {
      expect(floorDiv(BigInt(a), 1000n)).toBe(BigInt(Math.floor(a / 1000)));
    }
  });
});
