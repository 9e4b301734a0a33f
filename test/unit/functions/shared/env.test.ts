/**
 * The handlers' environment checks: a bad value fails the container's init
 * with an EnvError naming the variable.
 */
import { describe, expect, it } from 'vitest';
import { checkParquetEncoderEnv, EnvError } from '../../../../functions/shared/env.js';

describe('checkParquetEncoderEnv', () => {
  it('accepts thread, inline, auto and no value', () => {
    for (const value of ['thread', 'inline', 'auto', undefined]) {
      expect(() => checkParquetEncoderEnv({ SLUICE_PARQUET_ENCODER: value })).not.toThrow();
    }
  });

  it('fails with an EnvError naming SLUICE_PARQUET_ENCODER and its value', () => {
    let caught: unknown;
    try {
      checkParquetEncoderEnv({ SLUICE_PARQUET_ENCODER: 'threads' });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(EnvError);
    expect((caught as EnvError).variable).toBe('SLUICE_PARQUET_ENCODER');
    expect((caught as EnvError).message).toBe(
      'SLUICE_PARQUET_ENCODER must be thread, inline or auto, not "threads"',
    );
  });
});
