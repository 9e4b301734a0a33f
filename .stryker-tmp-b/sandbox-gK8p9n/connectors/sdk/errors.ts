/**
 * Typed connector failures (Airbyte's config / transient / system split).
 * The engine retries transient errors, reports config errors to the user as
 * something they must fix, and treats system errors as bugs.
 */
// @ts-nocheck

export class ConnectorError extends Error {
  public readonly retryable: boolean = false;
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectorError';
  }
}

/** The source's configuration is wrong: bad credentials, missing table, 404. The user must act. */
export class ConfigError extends ConnectorError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A failure that may pass by itself: 429, 5xx, timeouts, dropped connections. */
export class TransientError extends ConnectorError {
  public override readonly retryable = true;
  public readonly retryAfterMs: number | undefined;
  public constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.name = 'TransientError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A transient failure whose retries the connector already spent (or a wait it
 * was asked for is longer than it may wait). Not retried again: the run fails
 * at once with this message.
 */
export class RetriesExhaustedError extends ConnectorError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetriesExhaustedError';
  }
}

/** A defect in the connector or an unexpected answer from the source. */
export class SystemError extends ConnectorError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SystemError';
  }
}
