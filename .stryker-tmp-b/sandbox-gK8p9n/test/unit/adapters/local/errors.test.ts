// @ts-nocheck
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  LeaseHeldError,
  NotFoundError,
  SluiceError,
  ValidationError,
} from '../../../../engine/errors.js';

describe('engine errors', () => {
  it('names each error, keeps its cause and carries the HTTP status', () => {
    // Prepare
    const cause = new Error('disk full');

    // Act
    const errors = [
      new SluiceError('boom', { cause }),
      new ConflictError('cursor moved', { what: 'cursor shop/orders', cause }),
      new NotFoundError('no such source', { what: 'source shop', cause }),
      new LeaseHeldError({ source: 'shop', owner: 'r1', expiresAt: 0 }, { cause }),
      new ValidationError('name must be snake_case', { field: 'name', cause }),
    ];

    // Assess
    expect(errors.map((error) => [error.name, error.statusCode])).toEqual([
      ['SluiceError', 500],
      ['ConflictError', 409],
      ['NotFoundError', 404],
      ['LeaseHeldError', 409],
      ['ValidationError', 400],
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(SluiceError);
      expect(error).toBeInstanceOf(Error);
      expect(error.cause).toBe(cause);
    }
    expect(errors[1]).toMatchObject({ what: 'cursor shop/orders' });
    expect(errors[4]).toMatchObject({ field: 'name' });
  });

  it('says who holds a lease and until when', () => {
    // Act
    const error = new LeaseHeldError({
      source: 'shop',
      owner: '20260101T000000000Z-abc',
      expiresAt: Date.UTC(2026, 0, 1, 0, 5),
    });

    // Assess
    expect(error.message).toBe(
      'source "shop" is being synced by run 20260101T000000000Z-abc (lease held until 2026-01-01T00:05:00.000Z); wait for it or retry later',
    );
    expect(error).toMatchObject({ source: 'shop', owner: '20260101T000000000Z-abc' });
  });
});
