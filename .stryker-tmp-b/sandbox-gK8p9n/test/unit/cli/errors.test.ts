// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { jsonError, oneLine, reasonOf } from '../../../cli/errors.js';
import { ValidationError } from '../../../engine/errors.js';

describe('oneLine', () => {
  it('keeps the first paragraph of a multi-line message, its lines joined', () => {
    // Prepare: a DuckDB-style error with a hint and a caret under the SQL.
    const message =
      'Catalog Error: Table with name missing does not exist!\nDid you mean "shop.orders"?\n\nLINE 1: SELECT * FROM shop.missing\n                      ^';
    // Act
    const line = oneLine(message);
    // Assess
    expect(line).toBe('Catalog Error: Table with name missing does not exist! Did you mean "shop.orders"?');
  });

  it('leaves a one-line message as it is', () => {
    expect(oneLine('source "x" does not exist')).toBe('source "x" does not exist');
  });
});

describe('reasonOf', () => {
  it('falls back to the error name when the message is empty', () => {
    const error = new TypeError('');
    expect(reasonOf(error)).toBe('TypeError');
  });
});

describe('jsonError', () => {
  it('carries the name, the one-line message and the field at fault', () => {
    const error = new ValidationError('"name" must be snake_case\nmore', { field: 'name' });
    expect(jsonError(error)).toEqual({
      error: { message: '"name" must be snake_case more', name: 'ValidationError', field: 'name' },
    });
  });

  it('describes a thrown non-error', () => {
    expect(jsonError('boom')).toEqual({ error: { message: 'boom', name: 'Error' } });
  });
});
