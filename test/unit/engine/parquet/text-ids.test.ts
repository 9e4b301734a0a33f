import { describe, expect, it } from 'vitest';
import { DICTIONARY_PAGE_LIMIT } from '../../../../engine/parquet/text-dictionary.js';
import { DISTINCT_SAMPLE, MAX_TEXT_IDS, TextInterner } from '../../../../engine/parquet/text-ids.js';

/** The interner's input for `values`: every non-null value in row order, and the null rows. */
function input(values: readonly (string | null)[]): [string[], number[], number] {
  const strings = values.filter((v): v is string => v !== null);
  const nulls = values.flatMap((v, i) => (v === null ? [i] : []));
  return [strings, nulls, values.length];
}

function decode(entries: { bytes: Uint8Array; offsets: Int32Array }): string[] {
  return Array.from({ length: entries.offsets.length - 1 }, (_, k) =>
    Buffer.from(entries.bytes.subarray(entries.offsets[k], entries.offsets[k + 1])).toString('utf8'),
  );
}

describe('TextInterner', () => {
  it('numbers each distinct value once, in order of first use, and -1 for nulls', () => {
    // Prepare
    const interner = new TextInterner();

    // Act
    const first = interner.idsOf(...input(['b', null, 'a', 'b', '', 'ø']));
    const second = interner.idsOf(...input([null, 'ø', 'c', 'a']));

    // Assess
    expect([...first!]).toEqual([0, -1, 1, 0, 2, 3]);
    expect([...second!]).toEqual([-1, 3, 4, 1]);
  });

  it('hands each numbered value over once, as UTF-8, from the id after the last drain', () => {
    // Prepare
    const interner = new TextInterner();
    interner.idsOf(...input(['b', 'a', 'b']));

    // Act
    const first = interner.drain();
    interner.idsOf(...input(['a', '東京', '🚀']));
    const second = interner.drain();
    const third = interner.drain();

    // Assess
    expect(first.first).toBe(0);
    expect(decode(first)).toEqual(['b', 'a']);
    expect(second.first).toBe(2);
    expect(decode(second)).toEqual(['東京', '🚀']);
    expect(third.first).toBe(4);
    expect(decode(third)).toEqual([]);
  });

  it('repeats a constant value under one id', () => {
    // Prepare
    const interner = new TextInterner();
    interner.idsOf(...input(['x', 'y']));

    // Act
    const ids = interner.repeat('y', 3);

    // Assess
    expect([...ids!]).toEqual([1, 1, 1]);
  });

  it('stops for good when the distinct values outgrow one dictionary page, and still hands over what it numbered', () => {
    // Prepare: values of 1,000 bytes, each twice
    const interner = new TextInterner();
    const value = (k: number) => `${'v'.repeat(996)}${String(k).padStart(4, '0')}`;
    const batch = (from: number) => Array.from({ length: 200 }, (_, i) => value(from + (i >> 1)));
    const limit = Math.floor(DICTIONARY_PAGE_LIMIT / 1_004);

    // Act
    const results: (Int32Array | undefined)[] = [];
    for (let from = 0; from < limit + 200; from += 100) results.push(interner.idsOf(...input(batch(from))));

    // Assess: every batch before the one that overflowed got ids; none from then on
    const stoppedAt = results.indexOf(undefined);
    expect(stoppedAt).toBe(Math.floor(limit / 100));
    expect(results.slice(stoppedAt).every((r) => r === undefined)).toBe(true);
    expect(interner.overflowed).toBe(true);
    expect(interner.repeat('v', 2)).toBeUndefined();
    // The values of batches that kept their ids all reach the encoder
    expect(decode(interner.drain()).slice(0, stoppedAt * 100)).toEqual(
      Array.from({ length: stoppedAt * 100 }, (_, k) => value(k)),
    );
  });

  it('stops after MAX_TEXT_IDS distinct values', () => {
    // Prepare: each value four times, so the distinct-values rule does not stop it first
    const interner = new TextInterner();
    const values = Array.from({ length: 4 * (MAX_TEXT_IDS + 1) }, (_, i) => `${i >> 2}`);

    // Act
    const ids = interner.idsOf(...input(values.slice(0, 4 * MAX_TEXT_IDS)));
    const over = interner.idsOf(...input(values.slice(4 * MAX_TEXT_IDS)));

    // Assess
    expect(ids![ids!.length - 1]).toBe(MAX_TEXT_IDS - 1);
    expect(over).toBeUndefined();
  });

  it('keeps numbering repeated values but stops once values hardly repeat', () => {
    // Prepare
    const repeated = new TextInterner();
    const distinct = new TextInterner();
    const rows = DISTINCT_SAMPLE;

    // Act
    repeated.idsOf(...input(Array.from({ length: rows }, (_, i) => `r${i % 2_000}`)));
    const kept = repeated.idsOf(...input(['r1']));
    const first = distinct.idsOf(...input(Array.from({ length: rows }, (_, i) => `d${i}`)));
    const after = distinct.idsOf(...input(['d1']));

    // Assess: the batch that showed it keeps its ids; the next gets none
    expect(kept).toBeDefined();
    expect(first).toBeDefined();
    expect(after).toBeUndefined();
  });
});
