/**
 * The API's request and response, independent of where it runs (API Gateway
 * v2 events in Lambda, node:http in `sluice serve`), and its one error body:
 *
 *   { "error": { "code": "ValidationError", "message": "…", "field": "config.rows", "requestId": "…" } }
 *
 * 4xx errors (SluiceError subclasses with a 4xx statusCode), the 501 and
 * 503 our own errors declare, and a source's transient failure (503) are
 * shown as they are; anything else becomes a 500 with a generic message, the
 * detail going to the log only.
 */
import { ConnectorError } from '../../connectors/sdk/errors.js';
import { SluiceError, ValidationError } from '../../engine/errors.js';

export interface ApiRequest {
  readonly method: string;
  /** The path without the query string, e.g. `/sources/shop`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** Lowercase header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly requestId: string;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly field?: string;
    readonly requestId: string;
  };
}

export function json(statusCode: number, value: unknown): ApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: `${JSON.stringify(value, null, 2)}\n`,
  };
}

export class RouteNotFoundError extends SluiceError {
  public override readonly statusCode: number = 404;
  public constructor(method: string, path: string) {
    super(`no route ${method} ${path} (see GET /openapi.json)`);
    this.name = 'RouteNotFoundError';
  }
}

export class MethodNotAllowedError extends SluiceError {
  public override readonly statusCode: number = 405;
  public constructor(method: string, path: string, allowed: readonly string[]) {
    super(`${method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`);
    this.name = 'MethodNotAllowedError';
  }
}

/**
 * The field a validation message names: the connector's own check of a config
 * (`"rows" must be …`) → `config.rows`. Any other error on `config` (say, `"config"
 * must be an object`) names `config` itself.
 */
function fieldOf(error: unknown): string | undefined {
  if (error instanceof ValidationError) {
    if (
      error.field === 'config' &&
      error.cause instanceof ConnectorError &&
      error.cause.name === 'ConfigError'
    ) {
      const inner = /"([^"]+)"/.exec(error.message)?.[1];
      return inner ? `config.${inner}` : 'config';
    }
    return error.field;
  }
  return undefined;
}

/**
 * A connector's failure while a route asked the source something (its
 * streams, for a sync or a reset): a wrong config is the caller's to fix
 * (400); a source that timed out or dropped the connection may answer a
 * retry (503, its message redacted by the connector). Anything else is ours.
 */
function connectorStatus(error: ConnectorError): number {
  if (error.name === 'ConfigError') return 400;
  if (error.retryable || error.name === 'RetriesExhaustedError') return 503;
  return 500;
}

/** The error body and status for anything a route threw. */
export function errorResponse(
  error: unknown,
  requestId: string,
): { response: ApiResponse; exposed: boolean } {
  const status =
    error instanceof SluiceError
      ? error.statusCode
      : error instanceof ConnectorError
        ? connectorStatus(error)
        : 500;
  // 4xx, the two 5xx our own code declares (501: push not configured here; 503: retry the push), and a
  // source that did not answer (503): their messages are written for the caller. Anything else may carry internals.
  const exposed =
    (status >= 400 && status < 500) ||
    ((error instanceof SluiceError || error instanceof ConnectorError) && (status === 501 || status === 503));
  const field = exposed ? fieldOf(error) : undefined;
  const body: ErrorBody = {
    error: {
      code: exposed ? (error as Error).name : 'InternalError',
      message: exposed
        ? (error as Error).message
        : 'internal error; the request id finds the detail in the logs',
      ...(field ? { field } : {}),
      requestId,
    },
  };
  return { response: json(status, body), exposed };
}

/** Parses a JSON body that must be an object; an absent body is `{}` when allowed. */
export function parseBody(
  request: ApiRequest,
  options: { optional?: boolean } = {},
): Record<string, unknown> {
  const text = request.body;
  if (text === undefined || text.trim() === '') {
    if (options.optional) return {};
    throw new ValidationError('the request needs a JSON object body', { field: 'body' });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, {
      field: 'body',
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('the body must be a JSON object', { field: 'body' });
  }
  return value as Record<string, unknown>;
}
