/**
 * Errors shared by the engine and every adapter. One base class, one
 * subclass per failure a caller handles differently. Each carries the HTTP
 * status the API answers with, so a handler maps errors without a lookup
 * table: 4xx messages are safe to show, anything else becomes a generic 500.
 */
// @ts-nocheck


export class SluiceError extends Error {
  /** HTTP status the API answers with when this error escapes a handler. */
  public readonly statusCode: number = 500;

  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SluiceError';
  }
}

export interface ConflictErrorOptions extends ErrorOptions {
  /** What conflicted, e.g. `cursor shop/orders` or `source shop`. */
  readonly what?: string;
}

/** A compare-and-set failed (someone else wrote first) or the thing already exists. */
export class ConflictError extends SluiceError {
  public override readonly statusCode: number = 409;
  public readonly what: string | undefined;

  public constructor(message: string, options?: ConflictErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
    this.what = options?.what;
  }
}

export interface NotFoundErrorOptions extends ErrorOptions {
  /** What was missing, e.g. `source shop`. */
  readonly what?: string;
}

export class NotFoundError extends SluiceError {
  public override readonly statusCode: number = 404;
  public readonly what: string | undefined;

  public constructor(message: string, options?: NotFoundErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
    this.what = options?.what;
  }
}

export interface LeaseHeldErrorDetails {
  readonly source: string;
  /** Who holds the lease (a run id), or undefined when nobody does any more. */
  readonly owner: string | undefined;
  /** Epoch milliseconds; undefined when nobody holds the lease. */
  readonly expiresAt: number | undefined;
}

/**
 * Another run holds the source's lease (two runs of one source never overlap),
 * or a run tried to renew a lease it has lost.
 */
export class LeaseHeldError extends SluiceError {
  public override readonly statusCode: number = 409;
  public readonly source: string;
  public readonly owner: string | undefined;
  public readonly expiresAt: number | undefined;

  public constructor(details: LeaseHeldErrorDetails, options?: ErrorOptions & { readonly message?: string }) {
    super(options?.message ?? LeaseHeldError.describe(details), options);
    this.name = 'LeaseHeldError';
    this.source = details.source;
    this.owner = details.owner;
    this.expiresAt = details.expiresAt;
  }

  private static describe({ source, owner, expiresAt }: LeaseHeldErrorDetails): string {
    if (owner === undefined) {
      return `source "${source}" is not leased by this run any more; stop and retry later`;
    }
    const until = expiresAt === undefined ? '' : ` (lease held until ${new Date(expiresAt).toISOString()})`;
    return `source "${source}" is being synced by run ${owner}${until}; wait for it or retry later`;
  }
}

export interface ValidationErrorOptions extends ErrorOptions {
  /** The offending field, e.g. `name` or `config.api_key`; also named in the message. */
  readonly field?: string;
}

/** Bad input. The message names the field so the user knows what to fix. */
export class ValidationError extends SluiceError {
  public override readonly statusCode: number = 400;
  public readonly field: string | undefined;

  public constructor(message: string, options?: ValidationErrorOptions) {
    super(message, options);
    this.name = 'ValidationError';
    this.field = options?.field;
  }
}
