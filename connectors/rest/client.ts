/**
 * The HTTP client of the `rest` connector, on Node's built-in fetch: one
 * attempt with a timeout (`sendOnce`), a retry loop with exponential backoff,
 * jitter and Retry-After (`withRetries`), a requests-per-second limiter, and
 * the mapping of HTTP answers onto the SDK's typed errors:
 *
 * - 2xx: the JSON body (a body that is not JSON is a ConfigError);
 * - 408, 429, 5xx, timeouts, network errors: TransientError, retried;
 * - retries spent, or a Retry-After longer than `maxRetryAfterMs`:
 *   RetriesExhaustedError at once (no sleep; the engine does not retry it);
 * - 401, 403, 404 and other 4xx: RequestRejectedError, a ConfigError with the
 *   status (401 first refreshes an OAuth2 token once);
 * - failures no retry can cure (a port fetch refuses, a TLS certificate that
 *   is not accepted, a host name that does not exist): ConfigError.
 *
 * Every message names the method, URL and status, and passes the Redactor.
 */
import { STATUS_CODES } from 'node:http';
import { ConfigError, type ConnectorError, RetriesExhaustedError, TransientError } from '../sdk/errors.js';
import { parseJsonExact } from '../sdk/json.js';
import { sleep } from '../sdk/sleep.js';
import type { Logger } from '../sdk/types.js';
import type { Authenticator } from './auth.js';
import type { RequestPolicy } from './config.js';
import type { Redactor } from './redact.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Headers;
  readonly body?: string;
}

export interface HttpResponse {
  readonly method: string;
  /** The URL that answered (after redirects). */
  readonly url: URL;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly text: string;
}

export interface JsonResponse {
  readonly url: URL;
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** What to tell the user for each kind of rejection. Each is the end of a sentence. */
export interface StatusAdvice {
  readonly unauthorized: string;
  readonly forbidden: string;
  readonly notFound: string;
  readonly rejected: string;
  readonly notJson: string;
}

const USER_AGENT = 'sluice-rest/0.1';
const SNIPPET_CHARS = 200;

export { sleep };

/** Milliseconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Exponential backoff with "equal jitter": half the exponential delay is kept,
 * the other half is random, so retries spread out but never collapse to zero.
 */
export function backoffDelay(
  attempt: number,
  policy: RequestPolicy,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** Spaces request starts at least `1 / maxRequestsPerSecond` apart; shared by the callers it serves. */
export class RateLimiter {
  private nextAt = 0;
  private readonly intervalMs: number;

  public constructor(maxRequestsPerSecond: number) {
    this.intervalMs = 1000 / maxRequestsPerSecond;
  }

  public async acquire(signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.intervalMs;
    if (at > now) await sleep(at - now, signal);
  }
}

/** A 4xx answer (other than 408/425/429): the request as configured is refused. */
export class RequestRejectedError extends ConfigError {
  public readonly status: number;
  public constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RequestRejectedError';
    this.status = status;
  }
}

function innerError(error: unknown): (Error & { code?: unknown }) | undefined {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause : error instanceof Error ? error : undefined;
}

function networkReason(error: unknown): string {
  const inner = innerError(error);
  if (typeof inner?.code === 'string') return inner.code;
  return inner?.message ?? String(error);
}

/** TLS verification failures (Node/OpenSSL codes): the certificate or the URL is wrong, not the network. */
const TLS_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/**
 * The advice for a network failure that no retry can cure, or undefined when
 * it may pass (refused or reset connections, timeouts, EAI_AGAIN). NXDOMAIN
 * counts only for a host written in the config: a host an API links to may
 * be a passing mistake of the API's.
 */
function permanentNetworkFailure(
  error: unknown,
  url: URL,
  configHosts: ReadonlySet<string>,
): string | undefined {
  const inner = innerError(error);
  const code = typeof inner?.code === 'string' ? inner.code : '';
  if (inner?.message === 'bad port') {
    return `the port ${url.port} is one that fetch refuses to connect to (a "bad port" of the Fetch standard); serve the API on another port`;
  }
  if (TLS_CERT_CODES.has(code) || /certificate/i.test(inner?.message ?? '')) {
    return `the TLS certificate of ${url.host} was not accepted (${code || inner?.message}); use a certificate that a public CA signed for this host name (or NODE_EXTRA_CA_CERTS for a private CA), or fix the URL`;
  }
  if (code === 'ENOTFOUND' && configHosts.has(url.hostname)) {
    return `the host name "${url.hostname}" does not exist (DNS answered ENOTFOUND); check the URL in the config`;
  }
  return undefined;
}

export interface SendOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly redactor: Redactor;
  /** Host names written in the config (baseUrl, tokenUrl): NXDOMAIN for one of them is a ConfigError. */
  readonly configHosts?: ReadonlySet<string>;
}

/**
 * One HTTP exchange, the body read whole, under a timeout and the caller's
 * signal. An abort by the caller rethrows the signal's reason (an AbortError);
 * a failure no retry can cure becomes a ConfigError, any other timeout or
 * network failure a TransientError.
 */
export async function sendOnce(request: HttpRequest, options: SendOptions): Promise<HttpResponse> {
  const { signal, timeoutMs, redactor } = options;
  signal.throwIfAborted();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const headers = new Headers(request.headers);
  if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers,
      body: request.body,
      signal: controller.signal,
      redirect: 'follow',
    });
    const text = await response.text();
    return {
      method: request.method,
      url: new URL(response.url || request.url.href),
      status: response.status,
      statusText: response.statusText || STATUS_CODES[response.status] || '',
      headers: response.headers,
      text,
    };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const label = `${request.method} ${redactor.url(request.url)}`;
    if (timedOut) throw new TransientError(`${label} timed out after ${timeoutMs} ms`, { cause: error });
    const permanent = permanentNetworkFailure(error, request.url, options.configHosts ?? new Set());
    if (permanent) throw new ConfigError(`${label} failed: ${redactor.text(permanent)}.`, { cause: error });
    throw new TransientError(`${label} failed (${redactor.text(networkReason(error))})`, { cause: error });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function snippet(text: string, redactor: Redactor): string {
  const flat = redactor.text(text).replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
}

function describe(response: HttpResponse, redactor: Redactor): string {
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return `${response.method} ${redactor.url(response.url)} returned ${status}`;
}

const RETRYABLE = new Set([408, 425, 429]);

/**
 * A 403 that is a rate limit rather than a refusal (GitHub answers its rate
 * limits so): it carries `Retry-After`, or says no requests remain
 * (`X-RateLimit-Remaining: 0`, with the reset time in epoch seconds when
 * given). `ms` is how long to wait, when the answer says.
 */
export function rateLimitWait(
  headers: Headers,
  now = Date.now(),
): { readonly ms: number | undefined } | undefined {
  // A time already past (clock skew) says nothing: back off rather than retry at once.
  const ahead = (ms: number | undefined) => ({ ms: ms !== undefined && ms > 0 ? ms : undefined });
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) return ahead(parseRetryAfter(retryAfter, now));
  if (headers.get('x-ratelimit-remaining')?.trim() !== '0') return undefined;
  const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (!Number.isFinite(reset) || reset <= 0) return { ms: undefined };
  // Epoch milliseconds, epoch seconds (GitHub), or seconds to wait: no wait is a billion seconds long.
  if (reset > 1e12) return ahead(reset - now);
  return ahead(reset > 1e9 ? reset * 1000 - now : reset * 1000);
}

/** The typed error for a non-2xx answer, or undefined for 2xx. */
export function statusError(
  response: HttpResponse,
  redactor: Redactor,
  advice: StatusAdvice,
): ConnectorError | undefined {
  const { status } = response;
  if (status >= 200 && status < 300) return undefined;
  const body = snippet(response.text, redactor);
  const head = `${describe(response, redactor)}${body ? ` ("${body}")` : ''}`;
  if (status >= 500 || RETRYABLE.has(status)) {
    return new TransientError(head, { retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) });
  }
  const rateLimited = status === 403 ? rateLimitWait(response.headers) : undefined;
  if (rateLimited) {
    return new TransientError(`${head}; the API signals a rate limit, not a permission`, {
      retryAfterMs: rateLimited.ms,
    });
  }
  const hint =
    status === 401
      ? advice.unauthorized
      : status === 403
        ? advice.forbidden
        : status === 404 || status === 410
          ? advice.notFound
          : advice.rejected;
  return new RequestRejectedError(`${head}; ${hint}.`, status);
}

/** Parses a 2xx body as JSON; 204 and an empty 202 are no content (null). */
export function parseJsonBody(response: HttpResponse, redactor: Redactor, advice: StatusAdvice): unknown {
  if (response.text.trim() === '' && (response.status === 204 || response.status === 202)) return null;
  try {
    return parseJsonExact(response.text);
  } catch (error) {
    const type = response.headers.get('content-type') ?? 'no content type';
    const body = snippet(response.text, redactor);
    const shown = body === '' ? 'an empty body' : `a body that is not JSON (${type}: "${body.slice(0, 80)}")`;
    throw new ConfigError(`${describe(response, redactor)} with ${shown}; ${advice.notJson}.`, {
      cause: error,
    });
  }
}

export interface RetryOptions {
  readonly policy: RequestPolicy;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly random?: () => number;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or has
 * failed `policy.maxAttempts` times. Waits Retry-After when the error carries
 * one, else the jittered backoff, through the SDK's abortable `sleep`. When
 * the attempts are spent, or the API asks for a wait longer than
 * `maxRetryAfterMs`, it throws RetriesExhaustedError at once without waiting:
 * the run fails now and the next run tries again.
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, signal, logger } = options;
  for (let n = 1; ; n++) {
    signal.throwIfAborted();
    try {
      return await attempt(n);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!(error instanceof TransientError)) throw error;
      if (n >= policy.maxAttempts) {
        throw new RetriesExhaustedError(`${error.message}; gave up after ${n} attempt${n === 1 ? '' : 's'}`, {
          cause: error,
        });
      }
      if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) {
        throw new RetriesExhaustedError(
          `${error.message}; the API asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s, more than maxRetryAfterMs (${policy.maxRetryAfterMs} ms), so the run fails now and the next run retries`,
          { cause: error },
        );
      }
      const delayMs = error.retryAfterMs ?? backoffDelay(n, policy, options.random);
      logger.warn('rest: retrying request', {
        attempt: n,
        maxAttempts: policy.maxAttempts,
        delayMs,
        retryAfter: error.retryAfterMs !== undefined,
        error: error.message,
      });
      await sleep(delayMs, signal);
    }
  }
}

export interface RestClientOptions {
  readonly auth: Authenticator;
  /** Source headers merged with the stream's. */
  readonly headers: Readonly<Record<string, string>>;
  readonly policy: RequestPolicy;
  readonly limiter: RateLimiter | undefined;
  readonly redactor: Redactor;
  readonly advice: StatusAdvice;
  /** Host names written in the config: NXDOMAIN for one of them is a ConfigError. */
  readonly configHosts: ReadonlySet<string>;
  readonly random?: () => number;
}

/** GETs JSON pages for one stream: limiter, auth, timeout, retries and error mapping. */
export class RestClient {
  public constructor(private readonly options: RestClientOptions) {}

  public async getJson(url: URL, signal: AbortSignal, logger: Logger): Promise<JsonResponse> {
    const { auth, policy, limiter, redactor, advice } = this.options;
    // A 401 with an OAuth2 token gets one fresh token per page, not one per attempt.
    let refreshed = false;
    return withRetries(
      async () => {
        for (;;) {
          await limiter?.acquire(signal);
          const requestUrl = new URL(url.href);
          const headers = new Headers({ accept: 'application/json' });
          for (const [name, value] of Object.entries(this.options.headers)) headers.set(name, value);
          const credential = await auth.apply(requestUrl, headers, signal, logger);
          const response = await sendOnce(
            { method: 'GET', url: requestUrl, headers },
            { signal, timeoutMs: policy.requestTimeoutMs, redactor, configHosts: this.options.configHosts },
          );
          if (response.status === 401 && auth.refreshable && !refreshed) {
            refreshed = true;
            logger.info('rest: 401 with a cached token; fetching a new one', {
              url: redactor.url(requestUrl),
            });
            auth.invalidate(credential);
            continue;
          }
          const error = statusError(response, redactor, advice);
          if (error) throw error;
          return {
            url: response.url,
            status: response.status,
            headers: response.headers,
            body: parseJsonBody(response, redactor, advice),
          };
        }
      },
      { policy, signal, logger, random: this.options.random },
    );
  }
}
