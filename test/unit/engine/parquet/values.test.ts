import { describe, expect, it } from 'vitest';
import {
  parseDateDays,
  parseTimestampMicros,
  parseTimestampMicrosExact,
  SAFE_MICROS,
  toJsonText,
  toTimestampMicros,
  toTimestampMicrosExact,
} from '../../../../engine/parquet/values.js';
import { oracleMicros } from '../../../support/timestamp-oracle.js';

/** A small seeded generator (mulberry32), so a failure names a reproducible text. */
function random(seed: number): (below: number) => number {
  let a = seed;
  return (below) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * below);
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** ISO text over 0000–9999 in the forms the parsers take: canonical UTC, space and offset, few or many fraction digits. */
function isoTexts(count: number): string[] {
  const next = random(20_260_101);
  const texts: string[] = [];
  for (let k = 0; k < count; k++) {
    const year = next(10_000);
    const month = 1 + next(12);
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
    const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(1 + next(days), 2)}`;
    const time = `${pad(next(24), 2)}:${pad(next(60), 2)}:${pad(next(60), 2)}`;
    const fraction = pad(next(1_000_000), 6);
    const offset = `${next(2) ? '+' : '-'}${pad(next(24), 2)}:${pad(next(60), 2)}`;
    const forms = [
      `${date}T${time}.${fraction}Z`,
      `${date}T${time}Z`,
      `${date}T${time}.${fraction.slice(0, 3)}Z`,
      `${date} ${time}.${fraction}${offset}`,
      `${date}T${time}.${fraction}${pad(next(1000), 3)}Z`,
      `${date}T${time}`,
      date,
    ];
    texts.push(forms[k % forms.length]!);
  }
  return texts;
}

describe('timestamp values', () => {
  it('parses ISO text exactly over 0000–9999, and as the double path wherever that is exact', () => {
    // Prepare
    const texts = isoTexts(20_000);

    // Act
    const exact = texts.map((s) => parseTimestampMicrosExact(s));
    const double = texts.map((s) => parseTimestampMicros(s));

    // Assess
    expect(exact).toEqual(texts.map(oracleMicros));
    const safe = texts.filter((_, k) => Math.abs(double[k]!) < SAFE_MICROS);
    expect(safe.length).toBeGreaterThan(500);
    expect(safe.length).toBeLessThan(texts.length - 500);
    for (const [k, s] of texts.entries()) {
      if (Math.abs(double[k]!) < SAFE_MICROS) expect(BigInt(double[k]!), s).toBe(exact[k]);
    }
  });

  it('takes the UTC day of full ISO text exactly', () => {
    // Prepare
    const texts = isoTexts(5_000).filter((s) => s.length > 10);

    // Act
    const days = texts.map(parseDateDays);

    // Assess
    const day = 86_400_000_000n;
    expect(days).toEqual(
      texts.map((s) => {
        const micros = oracleMicros(s);
        return Number(micros >= 0n ? micros / day : -((-micros + day - 1n) / day));
      }),
    );
  });

  it('takes exactly the values the double path takes, and gives the same microseconds where those are exact', () => {
    // Prepare
    const values: unknown[] = [
      'not a time',
      '2024-02-30T00:00:00Z',
      '2024-02-29T24:00:00Z',
      '10000-01-01T00:00:00Z',
      '+010000-01-01T00:00:00Z',
      'Fri, 31 Dec 9999 23:59:59 GMT',
      '',
      new Date(Number.NaN),
      new Date(0),
      Number.POSITIVE_INFINITY,
      Number.NaN,
      1.5,
      -2n,
      true,
      null,
    ];

    // Act
    const exact = values.map(toTimestampMicrosExact);
    const double = values.map(toTimestampMicros);

    // Assess
    expect(exact.map((e) => e === undefined)).toEqual(double.map(Number.isNaN));
    expect(exact.filter((e) => e !== undefined).length).toBeGreaterThan(4);
    for (const [k, e] of exact.entries()) {
      if (e !== undefined && Math.abs(double[k]!) < SAFE_MICROS)
        expect(e, String(values[k])).toBe(BigInt(double[k]!));
    }
  });
});

describe('json column text', () => {
  it('writes a nested 64-bit integer as a JSON integer, digit for digit', () => {
    // Act
    const text = toJsonText({ ids: [1234567890123456789n, 1], name: 'a' });

    // Assess
    expect(text).toBe('{"ids":[1234567890123456789,1],"name":"a"}');
  });
});
