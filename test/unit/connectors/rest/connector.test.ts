import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRestConfig, type RestConfig, restConnector } from '../../../../connectors/rest/index.js';
import { redactConfig, secretPaths, validateConfig } from '../../../../connectors/sdk/config.js';
import { describeConformance } from '../../../../connectors/sdk/conformance.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import { ItemsApi, makeItems, sendJson } from './fixtures/api.js';
import { readStream, rejection } from './fixtures/read.js';

const api = new ItemsApi(makeItems(25));
const TOKEN = 'tok_conformance_51c0ffee';

beforeAll(async () => {
  await api.start();
});
afterAll(async () => {
  await api.stop();
});

/** Two streams: incremental items (cursor pagination) and a full-refresh list (Link headers). */
function liveConfig(): RestConfig {
  return {
    baseUrl: api.url,
    auth: { type: 'bearer', token: TOKEN },
    maxAttempts: 2,
    backoffInitialMs: 5,
    streams: [
      {
        name: 'items',
        path: '/cursor/items',
        recordsPath: 'items',
        primaryKey: ['id'],
        pagination: { type: 'cursor', cursorPath: 'meta.next_cursor', pageSizeParam: 'limit', pageSize: 5 },
        incremental: {
          cursorField: 'updated_at',
          initialValue: '2025-12-01T00:00:00Z',
          requestParam: 'updated_since',
        },
      },
      {
        name: 'item_list',
        path: '/link/items',
        primaryKey: ['id'],
        writeDisposition: 'replace',
        pagination: { type: 'link', pageSizeParam: 'per_page', pageSize: 10 },
      },
    ],
  };
}

describeConformance('rest', {
  connector: restConnector,
  config: liveConfig,
  expectedStreams: ['items', 'item_list'],
  minRecords: 25,
  // A change after the committed cursor: two new items, a minute after the newest.
  mutate: async () => {
    const newest = Math.max(...api.items.map((i) => Date.parse(i.updated_at)));
    const next = api.items.length + 1;
    api.items.push(
      { id: next, name: `item ${next}`, updated_at: new Date(newest + 60_000).toISOString() },
      { id: next + 1, name: `item ${next + 1}`, updated_at: new Date(newest + 120_000).toISOString() },
    );
  },
});

describe('rest connector', () => {
  beforeEach(() => {
    api.reset(makeItems(25));
  });

  it('is registered as type rest with a schema that marks every secret', () => {
    expect(restConnector.type).toBe('rest');
    expect(secretPaths(restConnector.configSchema).sort()).toEqual([
      'auth.apiKey',
      'auth.clientSecret',
      'auth.password',
      'auth.token',
    ]);
    const printable = redactConfig(
      restConnector.configSchema,
      liveConfig() as unknown as Record<string, unknown>,
    );
    expect(JSON.stringify(printable)).not.toContain(TOKEN);
  });

  it('applies defaults: append without a key, merge with one, 5 attempts, 30 s timeout', async () => {
    const config = validateConfig(restConnector.configSchema, {
      baseUrl: 'https://api.example.com/v1',
      streams: [
        { name: 'logs', path: 'logs' },
        { name: 'users', path: '/users?active=true', primaryKey: ['id'] },
      ],
    });
    const [logs, users] = await restConnector.streams(config as unknown as RestConfig);

    const resolved = parseRestConfig(config as unknown as RestConfig);
    expect(resolved.streams[0]!.url.href).toBe('https://api.example.com/v1/logs');
    expect(resolved.streams[1]!.url.href).toBe('https://api.example.com/v1/users?active=true');
    expect(resolved.streams[0]!.policy).toEqual({
      maxRequestsPerSecond: undefined,
      requestTimeoutMs: 30_000,
      maxAttempts: 5,
      backoffInitialMs: 1_000,
      backoffMaxMs: 60_000,
      maxRetryAfterMs: 300_000,
    });
    expect(logs!.writeDisposition).toBe('append');
    expect(logs!.primaryKey).toEqual([]);
    expect(logs!.incremental).toBeUndefined();
    expect(users!.writeDisposition).toBe('merge');
  });

  it('accepts the example config of docs/connectors/rest.md', async () => {
    const doc = await readFile(new URL('../../../../docs/connectors/rest.md', import.meta.url), 'utf8');
    const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(doc)![1]!) as RestConfig;

    const streams = await restConnector.streams(example);

    expect(streams.map((s) => [s.name, s.writeDisposition])).toEqual([
      ['orders', 'merge'],
      ['customers', 'merge'],
      ['countries', 'replace'],
    ]);
    expect(streams[1]!.incremental).toEqual({
      cursorField: 'modified',
      initialValue: 1_704_067_200,
      lag: 0,
      cursorType: 'number',
      onMissingCursor: 'land',
    });
  });

  it('rejects configs with a ConfigError naming every bad field', async () => {
    const bad = {
      baseUrl: 'ftp://nowhere',
      auth: { type: 'oauth2', clientId: 'x' },
      streams: [
        { name: 'Users', path: '/u', pagination: { type: 'offset' }, writeDisposition: 'merge' },
        {
          name: 'Users',
          path: '/v',
          pagination: { type: 'cursor' },
          incremental: { cursorField: 'n', initialValue: 'soon' },
        },
      ],
      retries: 3,
    } as unknown as RestConfig;

    const unknown = await rejection(Promise.resolve().then(() => restConnector.streams(bad)));
    const { retries: _ignored, ...known } = bad as unknown as Record<string, unknown>;
    const error = await rejection(
      Promise.resolve().then(() => restConnector.streams(known as unknown as RestConfig)),
    );

    expect(unknown).toBeInstanceOf(ConfigError);
    expect(unknown.message).toContain('"retries" is not a known field');
    expect(error).toBeInstanceOf(ConfigError);
    for (const expected of [
      '"baseUrl" must be an absolute http(s) URL',
      '"auth.tokenUrl" is required',
      '"auth.clientSecret" is required',
      '"streams[0].name" must be snake_case',
      '"streams[0].pagination.pageSize" is required',
      '"streams[0].primaryKey" is required',
      '"streams[1].name" repeats',
      '"streams[1].pagination.cursorPath" is required',
      '"streams[1].incremental.initialValue" must be an ISO-8601 timestamp',
    ]) {
      expect(error.message).toContain(expected);
    }
  });

  it('joins stream paths under the base path and keeps query strings', async () => {
    api.intercept = (req, res) => {
      sendJson(res, 200, [{ id: 1, path: req.url.pathname, q: req.url.search }]);
      return true;
    };
    const config: RestConfig = {
      baseUrl: `${api.url}/api/v2/`,
      streams: [{ name: 'users', path: '/users?active=true', params: { limit: 10, archived: false } }],
    };
    const [stream] = await restConnector.streams(config);

    const records = await readStream(stream!);

    expect(records).toEqual([{ id: 1, path: '/api/v2/users', q: '?active=true&limit=10&archived=false' }]);
  });

  it('checks a working config by reading the first page', async () => {
    const result = await restConnector.check(liveConfig());

    expect(result).toEqual({ ok: true });
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]!.url.searchParams.get('updated_since')).toBe('2025-12-01T00:00:00.000Z');
  });

  it('checks bad credentials with one actionable sentence and no secret', async () => {
    api.intercept = (req, res) => {
      sendJson(res, 401, { error: `token ${req.headers.authorization} is revoked` });
      return true;
    };

    const result = await restConnector.check(liveConfig());

    expect(result.ok).toBe(false);
    const message = (result as { message: string }).message;
    expect(message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/cursor\/items\?.* returned 401 Unauthorized .*check "auth\.token"\.$/,
    );
    expect(message).not.toContain(TOKEN);
    expect(message.split('. ')).toHaveLength(1);
  });

  it('checks a wrong records selector, naming the keys the body does have', async () => {
    const config = liveConfig();
    const result = await restConnector.check({
      ...config,
      streams: [{ ...config.streams[0]!, recordsPath: 'data.items' }],
    });

    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain(
      'has nothing at "data.items" (top-level keys: items, meta); fix "streams[0].recordsPath".',
    );
  });

  it('checks an unreachable API with a sentence that says to check baseUrl', async () => {
    const closed = new ItemsApi([]);
    await closed.start();
    const url = closed.url;
    await closed.stop();

    const result = await restConnector.check({ ...liveConfig(), baseUrl: url, maxAttempts: 1 });

    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/cursor\/items\?.* failed \(ECONNREFUSED\); gave up after 1 attempt; check that "baseUrl" is reachable from Sluice, then try again\.$/,
    );
  });

  it('checks an overloaded API quickly, whatever the sync retry settings', async () => {
    api.intercept = (_req, res) => {
      sendJson(res, 503, { error: 'maintenance' }, { 'retry-after': '120' });
      return true;
    };
    const started = Date.now();

    const result = await restConnector.check({ ...liveConfig(), maxAttempts: 10 });

    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain('returned 503 Service Unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(api.requests).toHaveLength(1);
  });

  it('checks an invalid config without any request', async () => {
    const result = await restConnector.check({ baseUrl: api.url, streams: [] } as RestConfig);

    expect(result).toEqual({
      ok: false,
      message: 'invalid config: "streams" must declare at least one stream.',
    });
    expect(api.requests).toHaveLength(0);
  });
});
