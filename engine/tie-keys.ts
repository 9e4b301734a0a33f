/**
 * Tie keys: which records at the committed cursor value already landed.
 *
 * A key is a fixed-size hash (128 bits, base64url, 22 characters) of the
 * record's primary key, or of the whole record in canonical JSON for keyless
 * streams. State therefore holds bounded bytes per record and never a key
 * value (often personal data). Keys form a multiset: two identical keyless
 * records at one cursor value are two entries, so a re-read skips exactly as
 * many as landed.
 */
import { createHash } from 'node:crypto';
import { PreciseDate } from '../connectors/sdk/precise-date.js';
import type { SourceRecord } from '../connectors/sdk/types.js';

const HASH = /^[A-Za-z0-9_-]{22}$/;

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof PreciseDate) return value.toPreciseISOString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      out[key] = canonical((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** The tie key of a record: a hash of its primary key values, or of the whole record when keyless. */
export function tieKeyOf(record: SourceRecord, primaryKey: readonly string[]): string {
  if (primaryKey.length > 0) {
    // The JSON the engine stored before keys were hashed, so legacy state hashes to the same key.
    return hash(
      JSON.stringify(
        // JSON.stringify calls a Date's toJSON before any replacer: a PreciseDate's microseconds go in first.
        primaryKey.map((k) => {
          const value = record[k];
          return value instanceof PreciseDate ? value.toPreciseISOString() : value;
        }),
        (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
      ),
    );
  }
  return hash(JSON.stringify(canonical(record)));
}

/** A stored key: hashes as they are; JSON keys written before hashing are hashed now. */
export function normaliseStoredKey(key: string): string {
  return HASH.test(key) ? key : hash(key);
}
