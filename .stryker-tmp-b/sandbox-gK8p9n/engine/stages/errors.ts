/** Errors of the transform stages. */
// @ts-nocheck

import { SluiceError } from '../errors.js';
import type { QualityResult } from '../ports.js';

/** A stage failed after its retries; the run record says which and why. */
export class StageError extends SluiceError {
  public readonly stage: string;
  public readonly attempts: number;
  public constructor(stage: string, attempts: number, reason: string, options?: ErrorOptions) {
    super(
      `stage ${stage} failed after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}: ${reason}`,
      options,
    );
    this.name = 'StageError';
    this.stage = stage;
    this.attempts = attempts;
  }
}

/** An `error` data-quality check failed: not retried, the run is QUALITY_FAILED. */
export class QualityFailedError extends SluiceError {
  public readonly failures: readonly QualityResult[];
  public constructor(failures: readonly QualityResult[], options?: ErrorOptions) {
    super(
      `data-quality checks failed: ${failures.map((f) => `${f.stream}: ${f.message}`).join('; ')}`,
      options,
    );
    this.name = 'QualityFailedError';
    this.failures = failures;
  }
}

/** A model (models/*.sql) cannot run; the message names its file. */
export class ModelError extends SluiceError {
  public readonly file: string;
  public constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`model ${file}: ${reason}`, options);
    this.name = 'ModelError';
    this.file = file;
  }
}
