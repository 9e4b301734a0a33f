/**
 * Errors of the push consumer (functions/stream). Base: SluiceError
 * (engine/errors.ts).
 */
import { SluiceError } from '../../engine/errors.js';

/**
 * The first record of a batch of several cannot land. A partial batch
 * response naming it would have Lambda retry the same records from it (the
 * batch is only split at the returned sequence number), so the handler
 * fails instead: a function error makes Lambda halve the batch
 * (BisectBatchOnFunctionError) until the record is alone.
 */
export class PoisonHeadError extends SluiceError {
  public readonly sequenceNumber: string;

  public constructor(sequenceNumber: string, batchSize: number, options?: ErrorOptions) {
    super(
      `the first record (${sequenceNumber}) of a batch of ${batchSize} cannot land; failing the batch so Lambda halves it`,
      options,
    );
    this.name = 'PoisonHeadError';
    this.sequenceNumber = sequenceNumber;
  }
}
