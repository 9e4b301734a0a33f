import { describe, expect, it } from 'vitest';
import { describeChange, inferType, StreamSchema, widen } from '../../../engine/schema.js';

describe('inferType', () => {
  it('gives the narrowest type for each kind of value', () => {
    expect(inferType(1)).toBe('int');
    expect(inferType(2 ** 40)).toBe('bigint');
    expect(inferType(2n)).toBe('bigint');
    expect(inferType(1.5)).toBe('double');
    expect(inferType(2 ** 60)).toBe('double');
    expect(inferType('x')).toBe('string');
    expect(inferType(true)).toBe('boolean');
    expect(inferType(new Date())).toBe('timestamp');
    expect(inferType({ a: 1 })).toBe('json');
    expect(inferType([1])).toBe('json');
    expect(inferType(null)).toBeUndefined();
    expect(inferType(undefined)).toBeUndefined();
  });
});

describe('widen', () => {
  it('widens along int → bigint → double → string', () => {
    expect(widen('int', 'bigint')).toBe('bigint');
    expect(widen('bigint', 'int')).toBe('bigint');
    expect(widen('int', 'double')).toBe('double');
    expect(widen('double', 'string')).toBe('string');
    expect(widen('date', 'timestamp')).toBe('timestamp');
  });

  it('falls back to string when types cannot be reconciled', () => {
    expect(widen('boolean', 'int')).toBe('string');
    expect(widen('timestamp', 'double')).toBe('string');
    expect(widen('json', 'int')).toBe('string');
  });
});

describe('StreamSchema', () => {
  it('adds columns and widens types across batches, keeping vanished columns', () => {
    // Prepare
    const schema = new StreamSchema();
    // Act
    const first = schema.observe([{ id: 1, amount: 5, gone: 'x' }]);
    const second = schema.observe([{ id: 2, amount: 5.5, extra: true }]);
    const third = schema.observe([{ id: 3, amount: 'n/a' }]);
    // Assess
    expect(first.map(describeChange)).toEqual([
      'added column id (int)',
      'added column amount (int)',
      'added column gone (string)',
    ]);
    expect(second.map(describeChange)).toEqual([
      'widened amount: int → double',
      'added column extra (boolean)',
    ]);
    expect(third.map(describeChange)).toEqual(['widened amount: double → string']);
    expect(schema.columns).toEqual([
      { name: 'id', type: 'int' },
      { name: 'amount', type: 'string' },
      { name: 'gone', type: 'string' },
      { name: 'extra', type: 'boolean' },
    ]);
  });

  it('does not add a column while it only holds nulls', () => {
    const schema = new StreamSchema();
    expect(schema.observe([{ id: 1, maybe: null }])).toHaveLength(1);
    expect(schema.observe([{ id: 2, maybe: 3 }]).map(describeChange)).toEqual(['added column maybe (int)']);
  });

  it('keeps declared types and ignores engine metadata columns in records', () => {
    const schema = new StreamSchema([], { id: 'bigint' });
    expect(schema.observe([{ id: 1, _sluice_run_id: 'x' }])).toEqual([]);
    expect(schema.columns).toEqual([{ name: 'id', type: 'bigint' }]);
  });

  it('starts from the catalog schema so the next run only records real changes', () => {
    const schema = new StreamSchema([{ name: 'id', type: 'bigint' }]);
    expect(schema.observe([{ id: 1 }])).toEqual([]);
  });
});
