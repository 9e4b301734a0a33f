import { describe, expect, it } from 'vitest';
import { compareCursor, lowerByLag, normalizeCursor } from '../../../../connectors/sdk/cursor.js';

describe('cursor helpers', () => {
  it('compares ISO timestamps as instants whatever their precision or offset', () => {
    expect(compareCursor('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z')).toBe(0);
    expect(compareCursor('2026-01-01T01:00:00+01:00', '2026-01-01T00:00:01Z')).toBeLessThan(0);
    expect(compareCursor('2026-01-01T00:00:00.000001Z', '2026-01-01T00:00:00.000Z')).toBeGreaterThan(0);
    expect(compareCursor(10, 9)).toBeGreaterThan(0);
  });

  it('normalizes dates to ISO strings and lowers by lag in seconds', () => {
    expect(normalizeCursor(new Date(Date.UTC(2026, 0, 2)), 'f')).toBe('2026-01-02T00:00:00.000Z');
    expect(lowerByLag('2026-01-02T00:00:00.000Z', 60)).toBe('2026-01-01T23:59:00.000Z');
    expect(lowerByLag(100, 5)).toBe(95);
  });

  it('rejects cursor values that cannot be ordered', () => {
    expect(() => normalizeCursor({}, 'updated_at')).toThrow('cursor field "updated_at" has a object value');
  });
});
