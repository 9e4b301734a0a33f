// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../../../connectors/s3-files/index.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';

describe('s3-files glob', () => {
  it.each([
    ['*.csv', 'a.csv', true],
    ['*.csv', 'd/a.csv', false],
    ['*.csv', '.hidden.csv', true],
    ['orders/**/*.csv', 'orders/a.csv', true],
    ['orders/**/*.csv', 'orders/2026/01/02/a.csv', true],
    ['orders/**/*.csv', 'orders/a.csv.gz', false],
    ['orders/**/*.csv', 'returns/a.csv', false],
    ['**/*.csv', 'a.csv', true],
    ['**/*.csv', 'x/y/a.csv', true],
    ['orders/**', 'orders/x/y', true],
    ['**', 'any/thing', true],
    ['day=?/*.jsonl', 'day=1/p.jsonl', true],
    ['day=?/*.jsonl', 'day=10/p.jsonl', false],
    ['part-[0-9].parquet', 'part-7.parquet', true],
    ['part-[0-9].parquet', 'part-x.parquet', false],
    ['part-[!0-9].parquet', 'part-x.parquet', true],
    ['a[/]b', 'a/b', false],
    ['*.{csv,tsv}', 'a.tsv', true],
    ['*.{csv,tsv}', 'a.json', false],
    ['{orders,returns}/*.csv', 'returns/r.csv', true],
    ['*.csv{,.gz}', 'a.csv.gz', true],
    ['*.csv{,.gz}', 'a.csv', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['file (1).csv', 'file (1).csv', true],
    ['a.b', 'axb', false],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(compileGlob(pattern).matches(key)).toBe(expected);
  });

  it('lists only the literal folders in front of the first wildcard', () => {
    expect(compileGlob('orders/2026/*.csv').literalPrefix).toBe('orders/2026/');
    expect(compileGlob('orders/**/x.csv').literalPrefix).toBe('orders/');
    expect(compileGlob('orders/part-*.csv').literalPrefix).toBe('orders/');
    expect(compileGlob('{a,b}/x.csv').literalPrefix).toBe('');
    expect(compileGlob('*.csv').literalPrefix).toBe('');
  });

  it('rejects patterns it cannot read', () => {
    expect(() => compileGlob('')).toThrow(ConfigError);
    expect(() => compileGlob('/abs/*.csv')).toThrow(/no leading "\/"/);
    expect(() => compileGlob('{a,b')).toThrow(/unclosed "\{"/);
    expect(() => compileGlob('[abc')).toThrow(/unclosed "\["/);
    expect(() => compileGlob('a\\')).toThrow(/lone/);
  });
});
