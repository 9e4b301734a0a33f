/**
 * `rest`: declarative HTTP/JSON APIs. A JSON config declares the base URL,
 * headers, auth and streams (path, records selector, pagination, incremental
 * cursor, limits); no code per API. See docs/connectors/rest.md.
 */
import { ConnectorError } from '../sdk/errors.js';
import { silentLogger } from '../sdk/logger.js';
import type { CheckResult, Connector } from '../sdk/types.js';
import {
  parseRestConfig,
  type RequestPolicy,
  type ResolvedRestConfig,
  type RestConfig,
  restConfigSchema,
} from './config.js';
import type { Redactor } from './redact.js';
import { createRestSource } from './streams.js';

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function checkMessage(error: unknown, redactor: Redactor | undefined): string {
  const clean = (text: string): string => (redactor ? redactor.text(text) : text);
  if (error instanceof Error && error.name === 'AbortError') {
    return 'The check was cancelled before the API answered.';
  }
  if (error instanceof ConnectorError) {
    const message = clean(error.message);
    if (error.name === 'TransientError' || error.name === 'RetriesExhaustedError') {
      return sentence(
        `${message.replace(/[.]$/, '')}; check that "baseUrl" is reachable from Sluice, then try again`,
      );
    }
    return sentence(message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return sentence(`The check failed unexpectedly: ${clean(message)}`);
}

/** `check` answers within seconds: few attempts, no long Retry-After sleeps. */
const CHECK_MAX_ATTEMPTS = 2;
const CHECK_MAX_RETRY_AFTER_MS = 5_000;

function forCheck(config: ResolvedRestConfig): ResolvedRestConfig {
  const quick = (policy: RequestPolicy): RequestPolicy => ({
    ...policy,
    maxAttempts: Math.min(policy.maxAttempts, CHECK_MAX_ATTEMPTS),
    maxRetryAfterMs: Math.min(policy.maxRetryAfterMs, CHECK_MAX_RETRY_AFTER_MS),
  });
  return {
    ...config,
    policy: quick(config.policy),
    streams: config.streams.map((stream) => ({ ...stream, policy: quick(stream.policy) })),
  };
}

/**
 * Checks a config: validates it, then requests the first page of the first
 * stream (with its auth and, for incremental streams, the initial cursor)
 * and checks the records selector finds records there.
 */
async function check(config: RestConfig, signal?: AbortSignal): Promise<CheckResult> {
  let redactor: Redactor | undefined;
  try {
    const source = createRestSource(forCheck(parseRestConfig(config)));
    redactor = source.redactor;
    const first = source.streams[0]!;
    await first.probe(signal ?? new AbortController().signal, silentLogger);
    return { ok: true };
  } catch (error) {
    return { ok: false, message: checkMessage(error, redactor) };
  }
}

export const restConnector: Connector<RestConfig> = {
  type: 'rest',
  description:
    'Any HTTP/JSON API, declared in JSON: auth (bearer, API key, basic, OAuth2), pagination, incremental cursors, retries and rate limits.',
  configSchema: restConfigSchema,
  check,
  streams: (config) => createRestSource(parseRestConfig(config)).streams,
  staticStreams: true,
  validate: (config) => {
    parseRestConfig(config);
  },
};

export type {
  RestAuthConfig,
  RestConfig,
  RestIncrementalConfig,
  RestLimitsConfig,
  RestPaginationConfig,
  RestStreamConfig,
} from './config.js';
export { parseRestConfig, restConfigSchema } from './config.js';
export { parseLinkHeader } from './pagination.js';
