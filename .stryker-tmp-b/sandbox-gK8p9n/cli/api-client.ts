/**
 * The deployed HTTP API, called with SigV4 (`sluice --api <url>`): API Gateway
 * authorises with IAM, so every request is signed for `execute-api` with the
 * caller's AWS credentials (the standard variables, else the SDK's provider
 * chain: profiles, SSO, instance roles). `sluice serve` ignores signatures.
 */
// @ts-nocheck

import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { SluiceError } from '../engine/errors.js';

/** An error answer of the API: its status, and the code and field its error body names. */
export class ApiError extends SluiceError {
  public override readonly statusCode: number;
  public readonly code: string;
  public readonly field: string | undefined;
  public constructor(statusCode: number, code: string, message: string, field?: string) {
    super(`${message} (HTTP ${statusCode} ${code})`);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.field = field;
  }
}

export interface ApiClientOptions {
  /** The API's base URL (the `ApiUrl` stack output, or `sluice serve`'s). */
  readonly url: string;
  /** @default from AWS_REGION / AWS_DEFAULT_REGION, else the URL's `execute-api.<region>.` host, else us-east-1 */
  readonly region?: string;
  /** @default the standard AWS variables, else the SDK's default provider chain */
  readonly credentials?: AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>);
  /** @default the clock; tests sign at a fixed instant */
  readonly clock?: () => Date;
}

export function regionOf(url: URL, env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.AWS_REGION?.trim() ||
    env.AWS_DEFAULT_REGION?.trim() ||
    /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1] ||
    'us-east-1'
  );
}

/** Credentials from the standard variables, else whatever the SDK's default chain finds. */
async function defaultCredentials(region: string): Promise<AwsCredentialIdentity> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  if (accessKeyId && secretAccessKey) {
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  // A declared SDK client carries the default provider chain; loaded only when it is needed.
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  try {
    return await new SFNClient({ region }).config.credentials();
  } catch (error) {
    throw new SluiceError(
      '--api needs AWS credentials to sign requests (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or SSO); `sluice serve` accepts any',
      { cause: error },
    );
  }
}

export class ApiClient {
  private readonly base: URL;
  private readonly signer: SignatureV4;
  private readonly clock: () => Date;

  public constructor(options: ApiClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    } catch (error) {
      throw new SluiceError(
        `--api must be a URL such as https://abc123.execute-api.eu-west-1.amazonaws.com, not "${options.url}"`,
        {
          cause: error,
        },
      );
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new SluiceError(`--api must be an http(s) URL, not "${options.url}"`);
    }
    this.base = base;
    const region = options.region ?? regionOf(base);
    const given = options.credentials;
    this.signer = new SignatureV4({
      service: 'execute-api',
      region,
      sha256: Sha256,
      credentials:
        typeof given === 'function' ? given : given ? async () => given : () => defaultCredentials(region),
    });
    this.clock = options.clock ?? (() => new Date());
  }

  /** Sends one signed request; answers the parsed body, or throws ApiError with the API's message. */
  public async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signed = await this.signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: {
          host: url.host,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: payload }),
      },
      { signingDate: this.clock() },
    );
    const { host: _host, ...headers } = signed.headers;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
    } catch (error) {
      throw new SluiceError(`the API at ${this.base.origin} does not answer: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)
        ?.error;
      // API Gateway's own refusals (e.g. a bad signature) answer {"message": …}.
      const message = error?.message ?? (parsed as { message?: string } | undefined)?.message ?? text;
      throw new ApiError(
        response.status,
        error?.code ?? response.statusText,
        message || 'no message',
        error?.field,
      );
    }
    return parsed;
  }

  /** Every item of a paginated list, following `nextToken`. */
  public async all<T>(path: string, max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page = (await this.request(
        'GET',
        token ? `${path}${separator}nextToken=${encodeURIComponent(token)}` : path,
      )) as { items: T[]; nextToken?: string };
      items.push(...page.items);
      token = page.nextToken;
    } while (token && items.length < max);
    return items.slice(0, max);
  }
}
