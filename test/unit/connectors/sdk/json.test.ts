import { describe, expect, it } from 'vitest';
import { parseJsonExact, stringifyExact } from '../../../../connectors/sdk/json.js';

describe('parseJsonExact', () => {
  it('reads integers beyond 2^53 exactly, as bigints, where JSON.parse rounds them', () => {
    // Prepare: two distinct 64-bit ids that JSON.parse reads as one number.
    const text =
      '{"data": [{"id": 1234567890123456789}, {"id": 1234567890123456790}, {"id": -9223372036854775808}]}';

    // Act
    const parsed = parseJsonExact(text) as { data: { id: unknown }[] };

    // Assess
    expect(JSON.parse(text).data[0].id).toBe(JSON.parse(text).data[1].id);
    expect(parsed.data.map((r) => r.id)).toEqual([1234567890123456789n, 1234567890123456790n, -(2n ** 63n)]);
  });

  it('leaves strings, keys, decimals, safe integers and integers beyond int64 as JSON.parse reads them', () => {
    // Prepare: a text as an API sends it (none of these is an integer literal within int64 beyond 2^53).
    const withHuge = String.raw`{"card": "12345678901234567890", "quoted": "say \"12345678901234567890\"",
      "nested": {"12345678901234567890": [9007199254740991, 12345678901234567.5, 1.2345678901234567e30, -0.5]},
      "huge": 123456789012345678901234567890}`;

    // Act
    const parsed = parseJsonExact(withHuge);

    // Assess
    expect(parsed).toEqual(JSON.parse(withHuge));
  });

  it('keeps a "__proto__" key a field when a bigint is put back into its object', () => {
    // Act
    const parsed = parseJsonExact('{"__proto__": 1234567890123456789, "id": 1234567890123456789}') as Record<
      string,
      unknown
    >;

    // Assess
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe(1234567890123456789n);
    expect(parsed.id).toBe(1234567890123456789n);
  });

  it('refuses what JSON.parse refuses, also where marking an integer would have made it valid', () => {
    // Act + Assess: a number as a key, and a leading zero.
    expect(() => parseJsonExact('{1234567890123456789: 1}')).toThrow(SyntaxError);
    expect(() => parseJsonExact('[00009007199254740993]')).toThrow(SyntaxError);
  });

  it('reads a string of twenty million characters next to a 64-bit integer', () => {
    // Prepare
    const long = 'ab\\"c'.repeat(4_000_000);
    const text = `{"id": 1234567890123456789, "text": "${long}"}`;

    // Act
    const parsed = parseJsonExact(text) as { id: unknown; text: string };

    // Assess
    expect(parsed.id).toBe(1234567890123456789n);
    expect(parsed.text).toBe(JSON.parse(`"${long}"`));
  });

  it('reads a 64-bit integer nested deeper than the call stack goes, as JSON.parse reads the text', () => {
    // Prepare
    const depth = 100_000;
    const text = `${'['.repeat(depth)}1234567890123456789${']'.repeat(depth)}`;

    // Act
    let inner = parseJsonExact(text);
    for (let i = 0; i < depth; i++) inner = (inner as unknown[])[0];

    // Assess
    expect(inner).toBe(1234567890123456789n);
  });

  it('finds a run of 16 digits wherever it starts in the text', () => {
    // Prepare: the id at every offset against the every-16th-character scan.
    for (let pad = 0; pad < 40; pad++) {
      const text = `{"${'x'.repeat(pad)}": 1, "id": 9007199254740993}`;

      // Act
      const parsed = parseJsonExact(text) as { id: unknown };

      // Assess
      expect(parsed.id, `padding ${pad}`).toBe(9007199254740993n);
    }
  });

  it('writes bigints back as JSON integers, so a text survives a round trip exactly', () => {
    // Prepare
    const text =
      '{"id":1234567890123456789,"list":[-9223372036854775808,1.5,"12345678901234567890"],"ok":true}';

    // Act
    const written = stringifyExact(parseJsonExact(text));

    // Assess
    expect(written).toBe(text);
    expect(stringifyExact({ plain: 1 })).toBe('{"plain":1}');
  });

  it('reads generated texts as the values they were generated from', () => {
    // Prepare: a seeded generator of integers either side of 2^53, strings with quotes, escapes and
    // digit runs, fractions and exponents, and nested objects; the oracle is the generated value.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const integer = () =>
      (BigInt(Math.floor(random() * 9e15)) * 1000n + BigInt(Math.floor(random() * 1000))) *
      (random() < 0.5 ? -1n : 1n);
    const asJs = (n: bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : n);
    const strings = ['a"b\\', '12345678901234567890', 'é\n', '"9007199254740993"', 'x'.repeat(33)];
    for (let t = 0; t < 500; t++) {
      const texts: string[] = [];
      const values: unknown[] = [];
      for (let k = 0; k < 6; k++) {
        const pick = random();
        const n = integer();
        if (pick < 0.3) {
          texts.push(String(n));
          values.push(asJs(n));
        } else if (pick < 0.5) {
          const text = strings[Math.floor(random() * strings.length)]!;
          texts.push(JSON.stringify(text));
          values.push(text);
        } else if (pick < 0.7) {
          texts.push(`${n}.5e-3`);
          values.push(Number(`${n}.5e-3`));
        } else if (pick < 0.85) {
          const exponent = Math.floor(random() * 300);
          texts.push(`1e${exponent}`);
          values.push(Number(`1e${exponent}`));
        } else {
          texts.push(`{"k${k}": ${n}}`);
          values.push({ [`k${k}`]: asJs(n) });
        }
      }
      const text = `[${texts.join(' ,\n')}]`;

      // Act
      const parsed = parseJsonExact(text);

      // Assess
      expect(parsed, text).toEqual(values);
    }
  });
});
