/**
 * Where Parquet groups are encoded: on the shared encoder thread, so
 * conversion and encoding run on two cores, or inline on the caller's
 * thread. With one core the thread buys no parallelism and costs CPU: the
 * two threads take turns on the core, each finding the caches cold. Measured
 * pinned to one core (1M rows, alternating runs): inline 2.35 CPU-s against
 * 2.54 on the thread in a warm process, 2.81 against 2.89 in a fresh one
 * (bench/README.md).
 */
import { availableParallelism } from 'node:os';
import { ParquetError } from './errors.js';

export type EncoderPlace = 'thread' | 'inline';

/** The variable that overrides the choice: `thread`, `inline` or `auto` (the default). */
export const ENCODER_PLACE_VARIABLE = 'SLUICE_PARQUET_ENCODER';

/**
 * The thread when this process may run on two cores or more, inline on one,
 * unless SLUICE_PARQUET_ENCODER says otherwise. A Lambda function sees more
 * cores than its memory buys CPU for, so the deployment sets the variable
 * (infra/constructs/sluice-function.ts).
 */
export function encoderPlace(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cores: number = availableParallelism(),
): EncoderPlace {
  const value = env[ENCODER_PLACE_VARIABLE];
  if (value === 'thread' || value === 'inline') return value;
  if (value === undefined || value === '' || value === 'auto') return cores >= 2 ? 'thread' : 'inline';
  throw new ParquetError(
    `${ENCODER_PLACE_VARIABLE} must be thread, inline or auto, not ${JSON.stringify(value)}`,
  );
}
