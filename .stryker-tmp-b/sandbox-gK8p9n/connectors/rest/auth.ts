/**
 * Request authentication: none, bearer token, API key (header or query
 * parameter), HTTP Basic, and OAuth2 client credentials with a cached token
 * that is renewed before it expires and once more when the API answers 401.
 * Every secret is registered with the Redactor as soon as it is known.
 */
// @ts-nocheck

import { ConfigError } from '../sdk/errors.js';
import type { Logger } from '../sdk/types.js';
import { parseJsonBody, type StatusAdvice, sendOnce, statusError, withRetries } from './client.js';
import type { RequestPolicy, ResolvedAuth } from './config.js';
import type { Redactor } from './redact.js';

export interface Authenticator {
  /** Adds credentials to one request; returns the credential it used, for `invalidate`. */
  apply(url: URL, headers: Headers, signal: AbortSignal, logger: Logger): Promise<string | undefined>;
  /** True when a 401 may pass with a new credential (OAuth2). */
  readonly refreshable: boolean;
  /** Forgets `credential` if it is still the cached one, so the next `apply` fetches another. */
  invalidate(credential: string | undefined): void;
  /** True when requests carry credentials (so they must not follow links to other origins). */
  readonly sendsCredentials: boolean;
  /** The config fields to check when the API rejects the credentials. */
  readonly fields: string;
}

/** An OAuth2 token is renewed this long (at most a tenth of its life) before it expires. */
const EXPIRY_MARGIN_MS = 60_000;

export function basicCredentials(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

export function createAuthenticator(
  auth: ResolvedAuth,
  redactor: Redactor,
  policy: RequestPolicy,
): Authenticator {
  const fixed = (fields: string, set: (url: URL, headers: Headers) => void): Authenticator => ({
    refreshable: false,
    sendsCredentials: true,
    fields,
    invalidate: () => undefined,
    apply: async (url, headers) => {
      set(url, headers);
      return undefined;
    },
  });
  switch (auth.type) {
    case 'none':
      return { ...fixed('"auth"', () => undefined), sendsCredentials: false };
    case 'bearer':
      redactor.addSecret(auth.token);
      return fixed('"auth.token"', (_url, headers) => headers.set('authorization', `Bearer ${auth.token}`));
    case 'apiKey':
      redactor.addSecret(auth.apiKey);
      if (auth.in === 'query') {
        redactor.addSecretQueryParam(auth.name);
        return fixed('"auth.apiKey" and "auth.name"', (url) => url.searchParams.set(auth.name, auth.apiKey));
      }
      return fixed('"auth.apiKey" and "auth.name"', (_url, headers) =>
        headers.set(auth.name, `${auth.prefix}${auth.apiKey}`),
      );
    case 'basic': {
      const encoded = basicCredentials(auth.username, auth.password);
      redactor.addSecret(auth.password);
      redactor.addSecret(encoded);
      return fixed('"auth.username" and "auth.password"', (_url, headers) =>
        headers.set('authorization', `Basic ${encoded}`),
      );
    }
    case 'oauth2':
      return new OAuth2ClientCredentials(auth, redactor, policy);
  }
}

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

/** OAuth2 client-credentials grant (RFC 6749 §4.4) with one cached token shared by all streams. */
export class OAuth2ClientCredentials implements Authenticator {
  public readonly refreshable = true;
  public readonly sendsCredentials = true;
  public readonly fields = '"auth.clientId", "auth.clientSecret" and "auth.scope"';
  private token: CachedToken | undefined;
  private pending: Promise<string> | undefined;
  private readonly advice: StatusAdvice;

  public constructor(
    private readonly auth: Extract<ResolvedAuth, { type: 'oauth2' }>,
    private readonly redactor: Redactor,
    private readonly policy: RequestPolicy,
    private readonly now: () => number = Date.now,
  ) {
    redactor.addSecret(auth.clientSecret);
    if (auth.clientAuth === 'basic') redactor.addSecret(basicCredentials(auth.clientId, auth.clientSecret));
    const check = `check ${this.fields}`;
    this.advice = {
      unauthorized: `the token endpoint rejected the client credentials; ${check}`,
      forbidden: `the client may not use this grant or scope; ${check}`,
      notFound: 'check "auth.tokenUrl"',
      rejected: `the token endpoint rejected the request; ${check} and "auth.tokenParams"`,
      notJson: 'check that "auth.tokenUrl" is the OAuth2 token endpoint',
    };
  }

  public async apply(_url: URL, headers: Headers, signal: AbortSignal, logger: Logger): Promise<string> {
    const token = await this.current(signal, logger);
    headers.set('authorization', `Bearer ${token}`);
    return token;
  }

  public invalidate(credential: string | undefined): void {
    if (this.token && this.token.value === credential) this.token = undefined;
  }

  private current(signal: AbortSignal, logger: Logger): Promise<string> {
    if (this.token && this.now() < this.token.expiresAt) return Promise.resolve(this.token.value);
    this.pending ??= this.fetchToken(signal, logger).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(signal: AbortSignal, logger: Logger): Promise<string> {
    const { auth, redactor, policy } = this;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) form.set('scope', auth.scope);
    if (auth.audience) form.set('audience', auth.audience);
    for (const [name, value] of Object.entries(auth.tokenParams)) form.set(name, value);
    const headers = new Headers({
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    });
    if (auth.clientAuth === 'basic') {
      headers.set('authorization', `Basic ${basicCredentials(auth.clientId, auth.clientSecret)}`);
    } else {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    }
    const body = await withRetries(
      async () => {
        const response = await sendOnce(
          { method: 'POST', url: auth.tokenUrl, headers, body: form.toString() },
          {
            signal,
            timeoutMs: policy.requestTimeoutMs,
            redactor,
            configHosts: new Set([auth.tokenUrl.hostname]),
          },
        );
        const error = statusError(response, redactor, this.advice);
        if (error) throw error;
        return parseJsonBody(response, redactor, this.advice);
      },
      { policy, signal, logger },
    );
    const answer = (body ?? {}) as { access_token?: unknown; expires_in?: unknown };
    if (typeof answer.access_token !== 'string' || answer.access_token === '') {
      throw new ConfigError(
        `POST ${redactor.url(auth.tokenUrl)} answered without an "access_token"; check that "auth.tokenUrl" is the OAuth2 token endpoint.`,
      );
    }
    const token = answer.access_token;
    redactor.addSecret(token);
    const expiresIn = Number(answer.expires_in);
    const expiresAt =
      Number.isFinite(expiresIn) && expiresIn > 0
        ? this.now() + expiresIn * 1000 - Math.min(EXPIRY_MARGIN_MS, expiresIn * 100)
        : Number.POSITIVE_INFINITY;
    this.token = { value: token, expiresAt };
    logger.debug('rest: fetched an OAuth2 token', { tokenUrl: redactor.url(auth.tokenUrl), expiresIn });
    return token;
  }
}
