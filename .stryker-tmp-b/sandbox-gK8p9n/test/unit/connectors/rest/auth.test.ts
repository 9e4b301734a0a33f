// @ts-nocheck
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OAuth2ClientCredentials } from '../../../../connectors/rest/auth.js';
import { DEFAULT_POLICY } from '../../../../connectors/rest/config.js';
import type { RestAuthConfig, RestConfig } from '../../../../connectors/rest/index.js';
import { restConnector } from '../../../../connectors/rest/index.js';
import { Redactor } from '../../../../connectors/rest/redact.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import { ItemsApi, makeItems, type SeenRequest, sendJson } from './fixtures/api.js';
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

const TOKEN = 'tok_live_8f3a9c2e71';
const API_KEY = 'key_5d1e0b77aa';
const PASSWORD = 'pa$$ w0rd:é';
const CLIENT_SECRET = 'cs_9e8d7c6b5a';

function config(auth: RestAuthConfig, streams = 1): RestConfig {
  return {
    baseUrl: api.url,
    auth,
    maxAttempts: 2,
    backoffInitialMs: 5,
    streams: Array.from({ length: streams }, (_, i) => ({
      name: `items_${i}`,
      path: '/offset/items',
      recordsPath: 'results',
      primaryKey: ['id'],
      pagination: { type: 'offset' as const, pageSize: 5 },
    })),
  };
}

/** Lets API requests through only when `ok` says so; otherwise 401 echoing what was sent. */
function requireAuth(ok: (req: SeenRequest) => boolean): void {
  api.intercept = (req, res) => {
    if (ok(req)) return false;
    sendJson(res, 401, {
      error: 'unauthorized',
      got: { authorization: req.headers.authorization ?? null, key: req.url.searchParams.get('api_key') },
    });
    return true;
  };
}

describe('rest auth', () => {
  it('sends a bearer token', async () => {
    requireAuth((req) => req.headers.authorization === `Bearer ${TOKEN}`);

    const records = await readStream(await onlyStream(config({ type: 'bearer', token: TOKEN })));

    expect(records).toHaveLength(12);
    expect(api.requests).toHaveLength(3);
  });

  it('sends an API key in a header, with its prefix', async () => {
    requireAuth((req) => req.headers['x-api-key'] === `Key ${API_KEY}`);

    const records = await readStream(
      await onlyStream(config({ type: 'apiKey', name: 'X-API-Key', apiKey: API_KEY, prefix: 'Key ' })),
    );

    expect(records).toHaveLength(12);
  });

  it('sends an API key as a query parameter on every page', async () => {
    requireAuth((req) => req.url.searchParams.get('api_key') === API_KEY);

    const records = await readStream(
      await onlyStream(config({ type: 'apiKey', name: 'api_key', apiKey: API_KEY, in: 'query' })),
    );

    expect(records).toHaveLength(12);
    expect(api.requests.every((r) => r.url.searchParams.get('api_key') === API_KEY)).toBe(true);
  });

  it('sends HTTP Basic credentials', async () => {
    const expected = `Basic ${Buffer.from(`reader:${PASSWORD}`).toString('base64')}`;
    requireAuth((req) => req.headers.authorization === expected);

    const records = await readStream(
      await onlyStream(config({ type: 'basic', username: 'reader', password: PASSWORD })),
    );

    expect(records).toHaveLength(12);
  });

  it('sends the default and stream headers, stream over source', async () => {
    const base = config({ type: 'none' });
    const stream = await onlyStream({
      ...base,
      headers: { 'X-Team': 'data', 'X-Version': '1' },
      streams: [{ ...base.streams[0]!, headers: { 'X-Version': '2' } }],
    });

    await readStream(stream);

    const first = api.requests[0]!;
    expect(first.headers['x-team']).toBe('data');
    expect(first.headers['x-version']).toBe('2');
    expect(first.headers.accept).toBe('application/json');
    expect(first.headers['user-agent']).toMatch(/^sluice-rest\//);
  });

  it('fails a 401 with a ConfigError naming URL, status and the auth fields, secrets redacted', async () => {
    requireAuth(() => false);

    const error = await rejection(readStream(await onlyStream(config({ type: 'bearer', token: TOKEN }))));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/offset\/items\?limit=5&offset=0 returned 401 Unauthorized/,
    );
    expect(error.message).toContain('"auth.token"');
    // The server echoed the token back; the message must not show it.
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).toContain('Bearer ****');
    expect(api.requests).toHaveLength(1);
  });

  it('redacts an API key sent as a query parameter from the URL in error messages', async () => {
    requireAuth(() => false);

    const error = await rejection(
      readStream(await onlyStream(config({ type: 'apiKey', name: 'api_key', apiKey: API_KEY, in: 'query' }))),
    );

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('api_key=****');
    expect(error.message).toContain('401');
    expect(error.message).not.toContain(API_KEY);
  });

  it('redacts basic credentials (and their base64 form) from error messages', async () => {
    requireAuth(() => false);

    const error = await rejection(
      readStream(await onlyStream(config({ type: 'basic', username: 'reader', password: PASSWORD }))),
    );

    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(Buffer.from(`reader:${PASSWORD}`).toString('base64'));
    expect(error.message).toContain('"auth.username" and "auth.password"');
  });

  it('fails a 403 and a 404 with ConfigErrors that say what to check', async () => {
    api.intercept = (req, res) => {
      sendJson(res, req.url.pathname === '/offset/items' ? 403 : 404, { error: 'no' });
      return true;
    };
    const forbidden = await rejection(readStream(await onlyStream(config({ type: 'bearer', token: TOKEN }))));
    const base = config({ type: 'bearer', token: TOKEN });
    const missing = await rejection(
      readStream(await onlyStream({ ...base, streams: [{ ...base.streams[0]!, path: '/nope' }] })),
    );

    expect(forbidden).toBeInstanceOf(ConfigError);
    expect(forbidden.message).toContain('returned 403 Forbidden');
    expect(forbidden.message).toContain('permissions');
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/nope\?limit=5&offset=0 returned 404 Not Found/,
    );
    expect(missing.message).toContain('check "baseUrl" and "streams[0].path"');
  });
});

describe('rest auth: OAuth2 client credentials', () => {
  interface TokenServer {
    tokenRequests: SeenRequest[];
    rejected: number;
  }

  /**
   * Token endpoint at /oauth/token issuing tok-1, tok-2, …; the API accepts
   * only the newest token, and revokes it after `revokeAfter` API requests.
   */
  function oauthServer(
    options: { revokeAfter?: number; clientAuth?: 'basic' | 'body'; expiresIn?: number } = {},
  ): TokenServer {
    const state: TokenServer = { tokenRequests: [], rejected: 0 };
    let current: string | undefined;
    let uses = 0;
    api.intercept = (req, res) => {
      if (req.url.pathname === '/oauth/token') {
        state.tokenRequests.push(req);
        const form = new URLSearchParams(req.body);
        const basicOk =
          req.headers.authorization === `Basic ${Buffer.from(`sluice:${CLIENT_SECRET}`).toString('base64')}`;
        const bodyOk = form.get('client_id') === 'sluice' && form.get('client_secret') === CLIENT_SECRET;
        if (
          form.get('grant_type') !== 'client_credentials' ||
          !(options.clientAuth === 'body' ? bodyOk : basicOk)
        ) {
          sendJson(res, 401, {
            error: 'invalid_client',
            echo: req.headers.authorization ?? form.get('client_secret'),
          });
          return true;
        }
        current = `tok-${state.tokenRequests.length}`;
        uses = 0;
        sendJson(res, 200, {
          access_token: current,
          token_type: 'bearer',
          expires_in: options.expiresIn ?? 3600,
        });
        return true;
      }
      uses += 1;
      const revoked = options.revokeAfter !== undefined && uses > options.revokeAfter;
      if (req.headers.authorization !== `Bearer ${current}` || revoked) {
        state.rejected += 1;
        current = revoked ? undefined : current;
        sendJson(res, 401, { error: 'invalid_token' });
        return true;
      }
      return false;
    };
    return state;
  }

  function oauthConfig(streams = 1, extra: Partial<RestAuthConfig> = {}): RestConfig {
    return config(
      {
        type: 'oauth2',
        tokenUrl: `${api.url}/oauth/token`,
        clientId: 'sluice',
        clientSecret: CLIENT_SECRET,
        scope: 'items:read',
        ...extra,
      },
      streams,
    );
  }

  it('fetches one token and reuses it across pages and streams', async () => {
    const server = oauthServer();
    const streams = await restConnector.streams(oauthConfig(2));

    const first = await readStream(streams[0]!);
    const second = await readStream(streams[1]!);

    expect(first).toHaveLength(12);
    expect(second).toHaveLength(12);
    expect(server.tokenRequests).toHaveLength(1);
    const form = new URLSearchParams(server.tokenRequests[0]!.body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('items:read');
    expect(server.tokenRequests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('refreshes a token that expires mid-sync once on 401 and continues', async () => {
    // Prepare: the first token dies after 2 pages (of 3).
    const server = oauthServer({ revokeAfter: 2 });
    const stream = await onlyStream(oauthConfig());

    // Act
    const records = await readStream(stream);

    // Assess
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(server.tokenRequests).toHaveLength(2);
    expect(server.rejected).toBe(1);
    const apiCalls = api.requests.filter((r) => r.url.pathname === '/offset/items');
    expect(apiCalls.map((r) => r.headers.authorization)).toEqual([
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-2',
    ]);
  });

  it('renews a cached token shortly before it expires, without waiting for a 401', async () => {
    // Prepare: a 120 s token and a clock the test moves.
    const server = oauthServer({ expiresIn: 120 });
    let now = Date.UTC(2026, 0, 1);
    const redactor = new Redactor();
    const auth = new OAuth2ClientCredentials(
      {
        type: 'oauth2',
        tokenUrl: new URL(`${api.url}/oauth/token`),
        clientId: 'sluice',
        clientSecret: CLIENT_SECRET,
        scope: undefined,
        audience: undefined,
        clientAuth: 'basic',
        tokenParams: {},
      },
      redactor,
      DEFAULT_POLICY,
      () => now,
    );
    const apply = async (): Promise<string> =>
      auth.apply(new URL(api.url), new Headers(), new AbortController().signal, captureLogger());
    // Act: within its life (less a 12 s margin) the token is reused; after that it is renewed.
    const first = await apply();
    now += 100_000;
    const cached = await apply();
    now += 9_000;
    const renewed = await apply();

    // Assess
    expect([first, cached, renewed]).toEqual(['tok-1', 'tok-1', 'tok-2']);
    expect(server.tokenRequests).toHaveLength(2);
    expect(redactor.text('Bearer tok-2')).toBe('Bearer ****');
  });

  it('refreshes only once per request: a second 401 is a ConfigError', async () => {
    const server = oauthServer({ revokeAfter: 0 });

    const error = await rejection(readStream(await onlyStream(oauthConfig())));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('401');
    expect(error.message).not.toContain('tok-2');
    expect(server.tokenRequests).toHaveLength(2);
  });

  it('sends the client credentials in the form body when asked', async () => {
    const server = oauthServer({ clientAuth: 'body' });

    const records = await readStream(await onlyStream(oauthConfig(1, { clientAuth: 'body' })));

    expect(records).toHaveLength(12);
    expect(server.tokenRequests[0]!.headers.authorization).toBeUndefined();
  });

  it('fails a rejected client secret with a ConfigError naming the token URL, secret redacted', async () => {
    const server = oauthServer({ clientAuth: 'body' });
    const wrong = oauthConfig(1, { clientAuth: 'body', clientSecret: 'cs_wrong_value_42' });

    const failure = await rejection(readStream(await onlyStream(wrong)));

    expect(server.tokenRequests).toHaveLength(1);
    expect(failure).toBeInstanceOf(ConfigError);
    expect(failure.message).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token returned 401 Unauthorized/,
    );
    expect(failure.message).toContain('"auth.clientSecret"');
    expect(failure.message).not.toContain('cs_wrong_value_42');
  });
});
