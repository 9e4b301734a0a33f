import { describe, expect, it } from 'vitest';
import { PreciseDate } from '../../../connectors/sdk/precise-date.js';
import type { Stream } from '../../../connectors/sdk/types.js';
import { ValidationError } from '../../../engine/errors.js';
import { hashValue, parsePii, streamMasker } from '../../../engine/masking.js';

const stream: Stream = {
  name: 'customers',
  primaryKey: ['id'],
  writeDisposition: 'merge',
  incremental: { cursorField: 'updated_at', initialValue: '1970-01-01' },
  read: async function* () {},
};

describe('hashValue', () => {
  it('hashes timestamps a microsecond apart apart, and a whole millisecond as it hashed a Date', () => {
    // Prepare
    const at = 1_772_359_200_123_000n;

    // Act
    const [a, b, whole] = [at + 456n, at + 789n, at].map((us) => hashValue(new PreciseDate(us), 's'));

    // Assess
    expect(a).not.toBe(b);
    expect(whole).toBe(hashValue(new Date(Number(at / 1000n)), 's'));
  });
});

describe('hashValue of objects', () => {
  it('hashes an object holding a 64-bit integer by its exact JSON instead of throwing', () => {
    // Act
    const [a, b] = [1234567890123456789n, 1234567890123456790n].map((id) => hashValue({ id }, 's'));

    // Assess
    expect(a).not.toBe(b);
    expect(a).toBe(hashValue('{"id":1234567890123456789}', 's'));
  });
});

describe('streamMasker', () => {
  it('hashes with the salt and redacts to null when fields are marked', () => {
    // Prepare
    const masker = streamMasker('shop', stream, { customers: { id: 'hash', email: 'redact' } }, 'salt-1');

    // Act
    const masked = masker!.mask({ id: 7, email: 'a@b.c', updated_at: 't' });
    const other = streamMasker('shop', stream, { customers: { id: 'hash' } }, 'salt-2')!.mask({ id: 7 });

    // Assess
    expect(masked).toEqual({ id: hashValue(7, 'salt-1'), email: null, updated_at: 't' });
    expect(masked.id).toMatch(/^[0-9a-f]{64}$/);
    expect(masked.id).toBe(masker!.mask({ id: 7 }).id);
    expect(other.id).not.toBe(masked.id);
    expect(masker!.columns(undefined)).toEqual({ id: 'string', email: 'string' });
  });

  it('refuses a redacted key, a masked cursor and a missing salt naming the field', () => {
    // Act / Assess
    expect(() => streamMasker('shop', stream, { customers: { id: 'redact' } }, 's')).toThrow(
      /"pii.customers.id" redacts a primary-key field/,
    );
    expect(() => streamMasker('shop', stream, { customers: { updated_at: 'hash' } }, 's')).toThrow(
      /"pii.customers.updated_at" masks the cursor field/,
    );
    expect(() => streamMasker('shop', stream, { customers: { email: 'hash' } }, undefined)).toThrow(
      ValidationError,
    );
    expect(streamMasker('shop', stream, { orders: { email: 'hash' } }, undefined)).toBeUndefined();
  });
});

describe('parsePii', () => {
  it('names the field when an action is unknown', () => {
    expect(() => parsePii({ customers: { email: 'scramble' } })).toThrow(
      '"pii.customers.email" must be "hash" or "redact"',
    );
    expect(() => parsePii({ customers: 'hash' })).toThrow('"pii.customers" must be an object');
  });
});
