import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, rateLimitWait } from '../../../../connectors/rest/client.js';
import { DEFAULT_POLICY } from '../../../../connectors/rest/config.js';
import type { RestConfig, RestStreamConfig } from '../../../../connectors/rest/index.js';
import { ConfigError, RetriesExhaustedError, TransientError } from '../../../../connectors/sdk/errors.js';
import { ItemsApi, makeItems, sendJson } from './fixtures/api.js';
import { captureLogger, onlyStream, readStream, rejection } from './fixtures/read.js';

const api = new ItemsApi(makeItems(12));

beforeAll(async () => {
  await api.start();
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => {
  api.reset(makeItems(12));
});

/** Offset pagination over 12 items, 5 per page: 3 requests when nothing fails. */
function config(stream: Partial<RestStreamConfig> = {}, extra: Partial<RestConfig> = {}): RestConfig {
  return {
    baseUrl: api.url,
    backoffInitialMs: 10,
    backoffMaxMs: 40,
    maxAttempts: 3,
    streams: [
      {
        name: 'items',
        path: '/offset/items',
        recordsPath: 'results',
        primaryKey: ['id'],
        pagination: { type: 'offset', pageSize: 5 },
        ...stream,
      },
    ],
    ...extra,
  };
}

/** Answers the first `times` requests for the second page with `status`. */
function failSecondPage(times: number, status: number, headers: () => Record<string, string> = () => ({})) {
  let failed = 0;
  api.intercept = (req, res) => {
    if (req.url.searchParams.get('offset') !== '5' || failed >= times) return false;
    failed += 1;
    sendJson(res, status, { error: 'slow down' }, headers());
    return true;
  };
  return () => failed;
}

describe('rest client resilience', () => {
  it('honours a burst of 429s with Retry-After in seconds, and counts each retry', async () => {
    // Prepare
    const failed = failSecondPage(2, 429, () => ({ 'retry-after': '1' }));
    const logger = captureLogger();
    const stream = await onlyStream(config({ maxAttempts: 5 }));
    const started = Date.now();

    // Act
    const records = await readStream(stream, { logger });

    // Assess
    expect(records).toHaveLength(12);
    expect(failed()).toBe(2);
    expect(api.requests).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    const retries = logger.entries.filter((e) => e.message === 'rest: retrying request');
    expect(retries.map((e) => [e.extra?.delayMs, e.extra?.retryAfter])).toEqual([
      [1000, true],
      [1000, true],
    ]);
    // The retry waited out the Retry-After at the server too.
    const second = api.requests.filter((r) => r.url.searchParams.get('offset') === '5');
    expect(second[1]!.at - second[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('retries a 403 that carries Retry-After as a rate limit, not a refusal', async () => {
    // Prepare: GitHub's secondary rate limit answers so.
    const failed = failSecondPage(1, 403, () => ({ 'retry-after': '0' }));
    const stream = await onlyStream(config());

    // Act
    const records = await readStream(stream);

    // Assess
    expect(records).toHaveLength(12);
    expect(failed()).toBe(1);
  });

  it('retries a 403 saying no requests remain, and still refuses a plain 403', async () => {
    // Prepare: a reset already past backs off; a reset in seconds to wait is waited out.
    let answers = 0;
    const failed = failSecondPage(2, 403, () => ({
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': answers++ === 0 ? String(Math.floor(Date.now() / 1000) - 5) : '1',
    }));
    const logger = captureLogger();
    const stream = await onlyStream(config());

    // Act
    const records = await readStream(stream, { logger });
    failSecondPage(1, 403);
    const refused = await rejection(readStream(await onlyStream(config())));

    // Assess
    expect(records).toHaveLength(12);
    expect(failed()).toBe(2);
    const retries = logger.entries.filter((e) => e.message === 'rest: retrying request');
    expect(retries.map((e) => e.extra?.retryAfter)).toEqual([false, true]);
    expect(retries[1]?.extra?.delayMs).toBe(1000);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain('403');
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const failed = failSecondPage(1, 429, () => ({
      'retry-after': new Date(Date.now() + 2000).toUTCString(),
    }));
    const stream = await onlyStream(config());
    const started = Date.now();

    const records = await readStream(stream);

    expect(records).toHaveLength(12);
    expect(failed()).toBe(1);
    // HTTP dates have whole seconds, so the wait is between 1 and 2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('retries a 503 with backoff when there is no Retry-After', async () => {
    const failed = failSecondPage(2, 503);

    const records = await readStream(await onlyStream(config()));

    expect(records).toHaveLength(12);
    expect(failed()).toBe(2);
  });

  it('gives up with RetriesExhaustedError after max attempts of 5xx', async () => {
    const failed = failSecondPage(100, 500);

    const error = await rejection(readStream(await onlyStream(config())));

    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.cause).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/offset\/items\?limit=5&offset=5 returned 500/,
    );
    expect(error.message).toContain('gave up after 3 attempts');
    expect(failed()).toBe(3);
  });

  it('fails at once with RetriesExhaustedError, without sleeping, when Retry-After exceeds maxRetryAfterMs', async () => {
    const failed = failSecondPage(1, 429, () => ({ 'retry-after': '3600' }));
    const started = Date.now();

    const error = await rejection(readStream(await onlyStream(config({ maxRetryAfterMs: 10_000 }))));

    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect((error.cause as TransientError).retryAfterMs).toBe(3_600_000);
    expect(error.message).toContain('asks to wait 3600 s, more than maxRetryAfterMs (10000 ms)');
    expect(failed()).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails a malformed (non-JSON) page with a ConfigError naming the URL and status', async () => {
    api.intercept = (req, res) => {
      if (req.url.searchParams.get('offset') !== '5') return false;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Maintenance</body></html>');
      return true;
    };

    const error = await rejection(readStream(await onlyStream(config())));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/offset\/items\?limit=5&offset=5 returned 200 OK/,
    );
    expect(error.message).toContain('not JSON');
    expect(error.message).toContain('text/html');
    expect(error.message).toContain('streams[0].path');
    // Not retried: a config error does not pass by itself.
    expect(api.requests).toHaveLength(2);
  });

  it('spaces requests to respect maxRequestsPerSecond', async () => {
    api.reset(makeItems(40));
    const stream = await onlyStream(config({ maxRequestsPerSecond: 20 }));
    const started = Date.now();

    const records = await readStream(stream);

    const elapsed = Date.now() - started;
    expect(records).toHaveLength(40);
    expect(api.requests).toHaveLength(9);
    // 9 requests at 20/s: 8 gaps of 50 ms. Loose bounds for busy CI machines.
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(6000);
    // Arrival times carry the server's event-loop delay: one gap may shrink when the previous
    // request was handled late, but no two gaps in a row can (an unspaced burst arrives within ms).
    const spans = api.requests.slice(2).map((r, i) => r.at - api.requests[i]!.at);
    expect(Math.min(...spans)).toBeGreaterThanOrEqual(50);
  });

  it('counts retries against the rate limit too', async () => {
    failSecondPage(2, 503);
    const stream = await onlyStream(
      config({ maxRequestsPerSecond: 10, backoffInitialMs: 0, backoffMaxMs: 0 }),
    );
    const started = Date.now();

    await readStream(stream);

    // 5 requests (3 pages + 2 retries) at 10/s: at least 4 gaps of 100 ms.
    expect(api.requests).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(360);
  });

  it('times out a slow request and retries it', async () => {
    let slow = 0;
    api.intercept = (req, res) => {
      if (req.url.searchParams.get('offset') !== '5' || slow >= 1) return false;
      slow += 1;
      setTimeout(() => sendJson(res, 200, { results: [] }), 1000).unref();
      return true;
    };

    const records = await readStream(await onlyStream(config({ requestTimeoutMs: 150 })));

    expect(records).toHaveLength(12);
    expect(slow).toBe(1);
  });

  it('fails with RetriesExhaustedError when every attempt times out', async () => {
    api.intercept = (_req, res) => {
      // Headers sent, body never finished: the timeout covers reading the body too.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"results": [');
      return true;
    };
    const started = Date.now();

    const error = await rejection(
      readStream(await onlyStream(config({ requestTimeoutMs: 100, maxAttempts: 2 }))),
    );

    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.message).toContain('timed out after 100 ms');
    expect(error.message).toContain('gave up after 2 attempts');
    expect(api.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops at once when aborted during a backoff sleep', async () => {
    failSecondPage(1, 503, () => ({ 'retry-after': '30' }));
    const controller = new AbortController();
    const stream = await onlyStream(config({ maxRetryAfterMs: 60_000 }));
    const started = Date.now();
    setTimeout(() => controller.abort(), 150);

    const error = await rejection(readStream(stream, { signal: controller.signal }));

    expect(error.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(api.requests).toHaveLength(2);
  });

  it('stops at once when aborted during a request', async () => {
    api.intercept = () => true; // never answers
    const controller = new AbortController();
    const stream = await onlyStream(config({ requestTimeoutMs: 30_000 }));
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();

    const error = await rejection(readStream(stream, { signal: controller.signal }));

    expect(error.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('treats a refused connection as transient and retries it', async () => {
    const closed = new ItemsApi([]);
    await closed.start();
    const url = closed.url;
    await closed.stop();

    const error = await rejection(readStream(await onlyStream(config({}, { baseUrl: url }))));

    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.cause).toBeInstanceOf(TransientError);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('gave up after 3 attempts');
  });
});

describe('rest retry timing helpers', () => {
  it('reads a 403 rate limit’s wait from seconds, epoch seconds or epoch milliseconds, backing off when it is past', () => {
    // Prepare
    const now = Date.UTC(2026, 10, 28, 12, 0, 0);
    const wait = (headers: Record<string, string>) => rateLimitWait(new Headers(headers), now)?.ms;
    const limited = { 'x-ratelimit-remaining': '0' };

    // Act + Assess
    expect(wait({ ...limited, 'x-ratelimit-reset': '60' })).toBe(60_000);
    expect(wait({ ...limited, 'x-ratelimit-reset': String(now / 1000 + 30) })).toBe(30_000);
    expect(wait({ ...limited, 'x-ratelimit-reset': String(now + 5_000) })).toBe(5_000);
    expect(wait({ ...limited, 'x-ratelimit-reset': String(now / 1000 - 5) })).toBeUndefined();
    expect(wait({ 'retry-after': new Date(now - 10_000).toUTCString() })).toBeUndefined();
    expect(wait({ 'retry-after': '2' })).toBe(2_000);
    expect(rateLimitWait(new Headers({ 'x-ratelimit-remaining': '3' }), now)).toBeUndefined();
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);

    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped', () => {
    const policy = { ...DEFAULT_POLICY, backoffInitialMs: 100, backoffMaxMs: 1000 };

    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(300);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
    expect(backoffDelay(10, policy, () => 0)).toBe(500);
  });
});
