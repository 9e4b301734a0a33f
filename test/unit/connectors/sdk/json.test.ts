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
});
