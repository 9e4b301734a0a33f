/**
 * The `rest` connector's config: a JSON document that declares an HTTP/JSON
 * API (base URL, headers, auth) and its streams (path, records selector,
 * pagination, incremental cursor, limits). `parseRestConfig` validates it
 * against the schema, then checks what a JSON schema subset cannot say
 * (fields required by one auth type or pagination style) and resolves every
 * default, so the rest of the connector works on a complete, typed value.
 */

import { parseColumnType } from '../sdk/column-types.js';
import { validateConfig } from '../sdk/config.js';
import { normalizeCursor } from '../sdk/cursor.js';
import { ConfigError } from '../sdk/errors.js';
import type {
  ColumnType,
  ConfigProperty,
  ConfigSchema,
  CursorValue,
  WriteDisposition,
} from '../sdk/types.js';

export const AuthType = {
  none: 'none',
  bearer: 'bearer',
  apiKey: 'apiKey',
  basic: 'basic',
  oauth2: 'oauth2',
} as const;
export type AuthType = (typeof AuthType)[keyof typeof AuthType];

export const PaginationType = {
  none: 'none',
  page: 'page',
  offset: 'offset',
  cursor: 'cursor',
  nextUrl: 'nextUrl',
  link: 'link',
} as const;
export type PaginationType = (typeof PaginationType)[keyof typeof PaginationType];

/** How records carry their cursor value. */
export const CursorFormat = {
  iso8601: 'iso8601',
  unixSeconds: 'unixSeconds',
  unixMs: 'unixMs',
  number: 'number',
  string: 'string',
} as const;
export type CursorFormat = (typeof CursorFormat)[keyof typeof CursorFormat];

/** How the cursor is written into the request parameter. */
export const ParamFormat = {
  raw: 'raw',
  iso8601: 'iso8601',
  unixSeconds: 'unixSeconds',
  unixMs: 'unixMs',
  date: 'date',
} as const;
export type ParamFormat = (typeof ParamFormat)[keyof typeof ParamFormat];

export type ParamValue = string | number | boolean;

export interface RestAuthConfig {
  readonly type: AuthType;
  /** bearer: the token. Secret. */
  readonly token?: string;
  /** apiKey: header or query parameter name. */
  readonly name?: string;
  /** apiKey: the key. Secret. */
  readonly apiKey?: string;
  /** apiKey: where the key goes. @default 'header' */
  readonly in?: 'header' | 'query';
  /** apiKey (header only): text before the key, e.g. `Token `. @default '' */
  readonly prefix?: string;
  /** basic: user name. */
  readonly username?: string;
  /** basic: password. Secret. @default '' */
  readonly password?: string;
  /** oauth2: token endpoint (absolute URL). */
  readonly tokenUrl?: string;
  readonly clientId?: string;
  /** oauth2: client secret. Secret. */
  readonly clientSecret?: string;
  readonly scope?: string;
  readonly audience?: string;
  /** oauth2: how the client authenticates at the token endpoint. @default 'basic' */
  readonly clientAuth?: 'basic' | 'body';
  /** oauth2: extra form fields for the token request. */
  readonly tokenParams?: Readonly<Record<string, string>>;
}

export interface RestPaginationConfig {
  readonly type: PaginationType;
  /** page: request parameter carrying the page number. @default 'page' */
  readonly pageParam?: string;
  /** page: number of the first page. @default 1 */
  readonly startPage?: number;
  /** offset: request parameter carrying the offset. @default 'offset' */
  readonly offsetParam?: string;
  /** Request parameter carrying the page size (offset: @default 'limit'). */
  readonly pageSizeParam?: string;
  /** Records per page; required for offset; enables the short-page stop. */
  readonly pageSize?: number;
  /** cursor: request parameter carrying the token. @default 'cursor' */
  readonly cursorParam?: string;
  /** cursor: dotted path of the next token in the body. */
  readonly cursorPath?: string;
  /** cursor: dotted path of a "has more" flag; stops when it is false. */
  readonly hasMorePath?: string;
  /** nextUrl: dotted path of the next page's URL in the body. */
  readonly nextUrlPath?: string;
  /** link: `rel` of the Link header entry to follow. @default 'next' */
  readonly rel?: string;
  /** Stop at a page without records. @default true */
  readonly stopOnEmptyPage?: boolean;
  /** Stop at a page with fewer than `pageSize` records. @default true for page and offset */
  readonly stopOnShortPage?: boolean;
}

export interface RestIncrementalConfig {
  /** Top-level field of each record that only grows. */
  readonly cursorField: string;
  /** How records carry the cursor. @default 'iso8601' */
  readonly cursorFormat?: CursorFormat;
  /** Start of the first sync (ISO-8601 for time cursors, or a number as text). */
  readonly initialValue: string;
  /** Request parameter that asks the API for records at or after the cursor. */
  readonly requestParam?: string;
  /** How the cursor is written into `requestParam`. @default 'raw' */
  readonly requestFormat?: ParamFormat;
  /** Seconds (time cursors) or units (number cursors) to re-read before the committed cursor. @default 0 */
  readonly lag?: number;
  /**
   * The API returns records sorted ascending by the cursor across all pages,
   * so the stream may stop (and commit) between any two records. @default false
   */
  readonly sortedByCursor?: boolean;
}

/** Limits that may be set for the whole source and overridden per stream. */
export interface RestLimitsConfig {
  /** Requests per second at most (fractions allowed). @default unlimited */
  readonly maxRequestsPerSecond?: number;
  /** Per-request timeout, body included. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Tries per request before giving up on 5xx, 429, timeouts and network errors. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles each attempt, with jitter. @default 1000 */
  readonly backoffInitialMs?: number;
  /** Largest backoff delay. @default 60000 */
  readonly backoffMaxMs?: number;
  /** A longer Retry-After fails the request (transient) instead of sleeping. @default 300000 */
  readonly maxRetryAfterMs?: number;
}

export interface RestStreamConfig extends RestLimitsConfig {
  readonly name: string;
  /** Path under `baseUrl` (or an absolute URL). */
  readonly path: string;
  readonly params?: Readonly<Record<string, ParamValue>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Dotted path of the records array in the body (`data.items`); empty means the body. */
  readonly recordsPath?: string;
  readonly primaryKey?: readonly string[];
  readonly writeDisposition?: WriteDisposition;
  readonly pagination?: RestPaginationConfig;
  readonly incremental?: RestIncrementalConfig;
  /** Declared column types by record field (`timestamp`, `decimal(12,2)`, …); others are inferred. */
  readonly columns?: Readonly<Record<string, string>>;
}

export interface RestConfig extends RestLimitsConfig {
  readonly baseUrl: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly auth?: RestAuthConfig;
  readonly streams: readonly RestStreamConfig[];
}

// ---------- schema ----------

const limitProperties: Record<string, ConfigProperty> = {
  maxRequestsPerSecond: {
    type: 'number',
    minimum: 0.001,
    description: 'Requests per second at most, retries included (fractions allowed). Unlimited when absent.',
  },
  requestTimeoutMs: {
    type: 'integer',
    minimum: 1,
    description: 'Timeout of one request, reading the body included. Default 30000.',
  },
  maxAttempts: {
    type: 'integer',
    minimum: 1,
    maximum: 100,
    description: 'Tries per request on 429, 5xx, timeouts and network errors before failing. Default 5.',
  },
  backoffInitialMs: {
    type: 'integer',
    minimum: 0,
    description:
      'First retry delay when the API gives no Retry-After; doubles per attempt, with jitter. Default 1000.',
  },
  backoffMaxMs: { type: 'integer', minimum: 0, description: 'Largest retry delay. Default 60000.' },
  maxRetryAfterMs: {
    type: 'integer',
    minimum: 0,
    description:
      'A Retry-After longer than this fails the request as transient (the next run retries) instead of sleeping. Default 300000.',
  },
};

const stringMap: ConfigProperty = { type: 'object', additionalProperties: { type: 'string' } };

const authSchema: ConfigProperty = {
  type: 'object',
  description: 'How requests authenticate. Default: none.',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: {
      type: 'string',
      enum: Object.values(AuthType),
      description: 'none | bearer | apiKey | basic | oauth2.',
    },
    token: {
      type: 'string',
      secret: true,
      description: 'bearer: the token sent as `Authorization: Bearer …`.',
    },
    name: { type: 'string', description: 'apiKey: the header or query parameter name, e.g. `X-API-Key`.' },
    apiKey: { type: 'string', secret: true, description: 'apiKey: the key.' },
    in: {
      type: 'string',
      enum: ['header', 'query'],
      default: 'header',
      description: 'apiKey: header or query.',
    },
    prefix: { type: 'string', description: 'apiKey in a header: text before the key, e.g. `Token `.' },
    username: { type: 'string', description: 'basic: user name.' },
    password: { type: 'string', secret: true, description: 'basic: password (may be empty).' },
    tokenUrl: { type: 'string', description: 'oauth2: the token endpoint (client-credentials grant).' },
    clientId: { type: 'string', description: 'oauth2: client id.' },
    clientSecret: { type: 'string', secret: true, description: 'oauth2: client secret.' },
    scope: { type: 'string', description: 'oauth2: space-separated scopes to request.' },
    audience: { type: 'string', description: 'oauth2: audience to request (Auth0-style APIs).' },
    clientAuth: {
      type: 'string',
      enum: ['basic', 'body'],
      default: 'basic',
      description: 'oauth2: send the client credentials as HTTP Basic (RFC 6749) or as form fields.',
    },
    tokenParams: { ...stringMap, description: 'oauth2: extra form fields for the token request.' },
  },
};

const paginationSchema: ConfigProperty = {
  type: 'object',
  description: 'How to walk the pages of a stream. Default: none (one request).',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: {
      type: 'string',
      enum: Object.values(PaginationType),
      description: 'none | page | offset | cursor | nextUrl | link.',
    },
    pageParam: { type: 'string', description: 'page: parameter with the page number. Default `page`.' },
    startPage: { type: 'integer', description: 'page: number of the first page. Default 1.' },
    offsetParam: { type: 'string', description: 'offset: parameter with the offset. Default `offset`.' },
    pageSizeParam: {
      type: 'string',
      description: 'Parameter with the page size, sent on the first request (offset: default `limit`).',
    },
    pageSize: {
      type: 'integer',
      minimum: 1,
      description: 'Records per page. Required for offset; enables the short-page stop.',
    },
    cursorParam: {
      type: 'string',
      description: 'cursor: parameter that carries the token. Default `cursor`.',
    },
    cursorPath: { type: 'string', description: 'cursor: dotted path of the next token in the body.' },
    hasMorePath: { type: 'string', description: 'cursor: dotted path of a boolean "more pages" flag.' },
    nextUrlPath: { type: 'string', description: "nextUrl: dotted path of the next page's URL in the body." },
    rel: { type: 'string', description: 'link: the Link header relation to follow. Default `next`.' },
    stopOnEmptyPage: { type: 'boolean', description: 'Stop at a page without records. Default true.' },
    stopOnShortPage: {
      type: 'boolean',
      description: 'Stop at a page with fewer than pageSize records. Default true for page and offset.',
    },
  },
};

const incrementalSchema: ConfigProperty = {
  type: 'object',
  description: 'Read only what changed since the last sync.',
  additionalProperties: false,
  required: ['cursorField', 'initialValue'],
  properties: {
    cursorField: {
      type: 'string',
      description: 'Top-level record field that only grows, e.g. `updated_at`.',
    },
    cursorFormat: {
      type: 'string',
      enum: Object.values(CursorFormat),
      default: 'iso8601',
      description: 'How records carry the cursor: iso8601 | unixSeconds | unixMs | number | string.',
    },
    initialValue: {
      type: 'string',
      description:
        'Where the first sync starts: an ISO-8601 timestamp for time cursors (also for unix ones), or a number or string as text.',
    },
    requestParam: {
      type: 'string',
      description: 'Query parameter asking for records at or after the cursor, e.g. `updated_since`.',
    },
    requestFormat: {
      type: 'string',
      enum: Object.values(ParamFormat),
      default: 'raw',
      description:
        'How the cursor is written into requestParam: raw | iso8601 | unixSeconds | unixMs | date.',
    },
    lag: {
      type: 'number',
      minimum: 0,
      default: 0,
      description: 'Re-read this many seconds (units for number cursors) before the committed cursor.',
    },
    sortedByCursor: {
      type: 'boolean',
      default: false,
      description:
        'The API returns records sorted ascending by cursorField across all pages (e.g. `sort=updated_at`): a long sync may then stop and commit between any two records. Checked while reading. Default false.',
    },
  },
};

const streamSchema: ConfigProperty = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'path'],
  properties: {
    name: { type: 'string', description: 'snake_case stream (table) name, unique in the source.' },
    path: { type: 'string', description: 'Path under baseUrl, e.g. `/v1/users` (or an absolute URL).' },
    params: {
      type: 'object',
      additionalProperties: true,
      description: 'Query parameters sent with the first request (strings, numbers or booleans).',
    },
    headers: { ...stringMap, description: 'Headers for this stream, over the source headers.' },
    recordsPath: {
      type: 'string',
      default: '',
      description: 'Dotted path of the records array in the JSON body, e.g. `data.items`; empty: the body.',
    },
    primaryKey: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Top-level record fields forming the primary key.',
    },
    writeDisposition: {
      type: 'string',
      enum: ['append', 'replace', 'merge'],
      description: 'append | replace | merge. Default: merge with a primary key, append without.',
    },
    pagination: paginationSchema,
    incremental: incrementalSchema,
    columns: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'Column types by record field: boolean | int | bigint | double | string | timestamp | date | json | decimal(p,s). ISO-8601 strings land as timestamps in a timestamp column; other fields are inferred.',
    },
    ...limitProperties,
  },
};

export const restConfigSchema: ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl', 'streams'],
  properties: {
    baseUrl: { type: 'string', description: 'Root URL of the API, e.g. `https://api.example.com/v1`.' },
    headers: { ...stringMap, description: 'Headers sent with every request (not for secrets: use auth).' },
    auth: authSchema,
    streams: { type: 'array', items: streamSchema, description: 'The endpoints to sync, one table each.' },
    ...limitProperties,
  },
};

// ---------- resolved config ----------

export interface RequestPolicy {
  readonly maxRequestsPerSecond: number | undefined;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_POLICY: RequestPolicy = {
  maxRequestsPerSecond: undefined,
  requestTimeoutMs: 30_000,
  maxAttempts: 5,
  backoffInitialMs: 1_000,
  backoffMaxMs: 60_000,
  maxRetryAfterMs: 300_000,
};

export type ResolvedAuth =
  | { readonly type: 'none' }
  | { readonly type: 'bearer'; readonly token: string }
  | {
      readonly type: 'apiKey';
      readonly name: string;
      readonly apiKey: string;
      readonly in: 'header' | 'query';
      readonly prefix: string;
    }
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | {
      readonly type: 'oauth2';
      readonly tokenUrl: URL;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope: string | undefined;
      readonly audience: string | undefined;
      readonly clientAuth: 'basic' | 'body';
      readonly tokenParams: Readonly<Record<string, string>>;
    };

export type ResolvedPagination =
  | { readonly type: 'none' }
  | (PageSizing & { readonly type: 'page'; readonly pageParam: string; readonly startPage: number })
  | (PageSizing & { readonly type: 'offset'; readonly offsetParam: string })
  | (PageSizing & {
      readonly type: 'cursor';
      readonly cursorParam: string;
      readonly cursorPath: string;
      readonly hasMorePath: string | undefined;
    })
  | (PageSizing & { readonly type: 'nextUrl'; readonly nextUrlPath: string })
  | (PageSizing & { readonly type: 'link'; readonly rel: string });

export interface PageSizing {
  readonly pageSizeParam: string | undefined;
  readonly pageSize: number | undefined;
  readonly stopOnEmptyPage: boolean;
  readonly stopOnShortPage: boolean;
}

export interface ResolvedIncremental {
  readonly cursorField: string;
  readonly cursorFormat: CursorFormat;
  /** In the records' own form: a number for unix and number cursors, else a string. */
  readonly initialValue: CursorValue;
  readonly requestParam: string | undefined;
  readonly requestFormat: ParamFormat;
  /** In the SDK's unit: seconds for timestamp strings, cursor units for numbers. */
  readonly lag: number;
  readonly sortedByCursor: boolean;
}

export interface ResolvedStream {
  readonly index: number;
  readonly name: string;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly recordsPath: string;
  readonly primaryKey: readonly string[];
  readonly writeDisposition: WriteDisposition;
  readonly pagination: ResolvedPagination;
  readonly incremental: ResolvedIncremental | undefined;
  readonly policy: RequestPolicy;
  /** Declared column types; undefined when the stream declares none. */
  readonly columns: Readonly<Record<string, ColumnType>> | undefined;
}

export interface ResolvedRestConfig {
  readonly baseUrl: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: ResolvedAuth;
  readonly policy: RequestPolicy;
  readonly streams: readonly ResolvedStream[];
}

const SNAKE_CASE = /^[a-z][a-z0-9_]*$/;
/** Stands in for a URL already reported as invalid; never requested. */
const PLACEHOLDER_URL = new URL('http://invalid.invalid');
const NUMERIC = /^-?\d+(\.\d+)?$/;

/** Validates a raw config and resolves every default; throws ConfigError naming each bad field. */
export function parseRestConfig(raw: unknown): ResolvedRestConfig {
  const config = validateConfig<RestConfig>(restConfigSchema, raw);
  const problems: string[] = [];
  const baseUrl = parseUrl(config.baseUrl, 'baseUrl', problems);
  const auth = resolveAuth(config.auth ?? { type: 'none' }, problems);
  const policy = resolvePolicy(DEFAULT_POLICY, config);
  if (config.streams.length === 0) problems.push('"streams" must declare at least one stream');
  const names = new Set<string>();
  const streams: ResolvedStream[] = [];
  config.streams.forEach((stream, index) => {
    const at = `streams[${index}]`;
    if (!SNAKE_CASE.test(stream.name)) {
      problems.push(`"${at}.name" must be snake_case (lowercase letters, digits, _), got "${stream.name}"`);
    }
    if (names.has(stream.name)) problems.push(`"${at}.name" repeats the stream name "${stream.name}"`);
    names.add(stream.name);
    // With a bad baseUrl, still check the streams so every problem is reported at once.
    const resolved = resolveStream(stream, index, baseUrl ?? PLACEHOLDER_URL, policy, problems);
    if (resolved) streams.push(resolved);
  });
  if (problems.length > 0 || !baseUrl) throw new ConfigError(`invalid config: ${problems.join('; ')}`);
  return { baseUrl, headers: config.headers ?? {}, auth, policy, streams };
}

function parseUrl(value: string, field: string, problems: string[]): URL | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  problems.push(`"${field}" must be an absolute http(s) URL`);
  return undefined;
}

function resolvePolicy(base: RequestPolicy, limits: RestLimitsConfig): RequestPolicy {
  return {
    maxRequestsPerSecond: limits.maxRequestsPerSecond ?? base.maxRequestsPerSecond,
    requestTimeoutMs: limits.requestTimeoutMs ?? base.requestTimeoutMs,
    maxAttempts: limits.maxAttempts ?? base.maxAttempts,
    backoffInitialMs: limits.backoffInitialMs ?? base.backoffInitialMs,
    backoffMaxMs: limits.backoffMaxMs ?? base.backoffMaxMs,
    maxRetryAfterMs: limits.maxRetryAfterMs ?? base.maxRetryAfterMs,
  };
}

function resolveAuth(auth: RestAuthConfig, problems: string[]): ResolvedAuth {
  const need = (field: keyof RestAuthConfig): string => {
    const value = auth[field];
    if (typeof value !== 'string' || value === '') {
      problems.push(`"auth.${field}" is required when "auth.type" is "${auth.type}"`);
      return '';
    }
    return value;
  };
  switch (auth.type) {
    case 'none':
      return { type: 'none' };
    case 'bearer':
      return { type: 'bearer', token: need('token') };
    case 'apiKey':
      return {
        type: 'apiKey',
        name: need('name'),
        apiKey: need('apiKey'),
        in: auth.in ?? 'header',
        prefix: auth.prefix ?? '',
      };
    case 'basic':
      return { type: 'basic', username: need('username'), password: auth.password ?? '' };
    case 'oauth2': {
      const tokenUrl = need('tokenUrl');
      return {
        type: 'oauth2',
        tokenUrl: (tokenUrl && parseUrl(tokenUrl, 'auth.tokenUrl', problems)) || PLACEHOLDER_URL,
        clientId: need('clientId'),
        clientSecret: need('clientSecret'),
        scope: auth.scope,
        audience: auth.audience,
        clientAuth: auth.clientAuth ?? 'basic',
        tokenParams: auth.tokenParams ?? {},
      };
    }
  }
}

/** Joins a stream path onto the base URL, keeping the base path (`/v1`) and query. */
export function streamUrl(baseUrl: URL, path: string): URL {
  if (/^https?:\/\//i.test(path)) return new URL(path);
  const [pathPart = '', query] = path.split('?', 2);
  const url = new URL(baseUrl.href);
  const base = url.pathname.replace(/\/+$/, '');
  const tail = pathPart.replace(/^\/+/, '');
  url.pathname = tail === '' ? base || '/' : `${base}/${tail}`;
  if (query) for (const [key, value] of new URLSearchParams(query)) url.searchParams.append(key, value);
  return url;
}

function resolveStream(
  stream: RestStreamConfig,
  index: number,
  baseUrl: URL,
  sourcePolicy: RequestPolicy,
  problems: string[],
): ResolvedStream | undefined {
  const at = `streams[${index}]`;
  let url: URL | undefined;
  try {
    url = streamUrl(baseUrl, stream.path);
  } catch {
    problems.push(`"${at}.path" does not form a valid URL with "baseUrl"`);
  }
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(stream.params ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      params[key] = String(value);
    } else {
      problems.push(`"${at}.params.${key}" must be a string, number or boolean`);
    }
  }
  const primaryKey = stream.primaryKey ?? [];
  const writeDisposition = stream.writeDisposition ?? (primaryKey.length > 0 ? 'merge' : 'append');
  if (writeDisposition === 'merge' && primaryKey.length === 0) {
    problems.push(`"${at}.primaryKey" is required when "${at}.writeDisposition" is "merge"`);
  }
  const pagination = resolvePagination(stream.pagination ?? { type: 'none' }, `${at}.pagination`, problems);
  const incremental =
    stream.incremental && resolveIncremental(stream.incremental, `${at}.incremental`, problems);
  const columns = resolveColumns(stream.columns, `${at}.columns`, problems);
  if (!url) return undefined;
  return {
    index,
    name: stream.name,
    url,
    params,
    headers: stream.headers ?? {},
    recordsPath: stream.recordsPath ?? '',
    primaryKey,
    writeDisposition,
    pagination,
    incremental,
    policy: resolvePolicy(sourcePolicy, stream),
    columns,
  };
}

function resolveColumns(
  columns: Readonly<Record<string, string>> | undefined,
  at: string,
  problems: string[],
): Readonly<Record<string, ColumnType>> | undefined {
  if (columns === undefined || Object.keys(columns).length === 0) return undefined;
  const resolved: Record<string, ColumnType> = {};
  for (const [field, text] of Object.entries(columns)) {
    const type = parseColumnType(text);
    if (type === undefined) {
      problems.push(
        `"${at}.${field}" must be boolean, int, bigint, double, string, timestamp, date, json or decimal(p,s) with 1 ≤ p ≤ 38 and s ≤ p, got ${JSON.stringify(text)}`,
      );
    } else resolved[field] = type;
  }
  return resolved;
}

function resolvePagination(p: RestPaginationConfig, at: string, problems: string[]): ResolvedPagination {
  const sizing = (defaultParam: string | undefined, shortPageDefault: boolean): PageSizing => ({
    pageSizeParam: p.pageSizeParam ?? defaultParam,
    pageSize: p.pageSize,
    stopOnEmptyPage: p.stopOnEmptyPage ?? true,
    stopOnShortPage: p.pageSize !== undefined && (p.stopOnShortPage ?? shortPageDefault),
  });
  const need = (field: 'cursorPath' | 'nextUrlPath'): string => {
    const value = p[field];
    if (!value) problems.push(`"${at}.${field}" is required when "${at}.type" is "${p.type}"`);
    return value ?? '';
  };
  switch (p.type) {
    case 'none':
      return { type: 'none' };
    case 'page':
      return {
        type: 'page',
        pageParam: p.pageParam ?? 'page',
        startPage: p.startPage ?? 1,
        ...sizing(undefined, true),
      };
    case 'offset':
      if (p.pageSize === undefined)
        problems.push(`"${at}.pageSize" is required when "${at}.type" is "offset"`);
      return { type: 'offset', offsetParam: p.offsetParam ?? 'offset', ...sizing('limit', true) };
    case 'cursor':
      return {
        type: 'cursor',
        cursorParam: p.cursorParam ?? 'cursor',
        cursorPath: need('cursorPath'),
        hasMorePath: p.hasMorePath,
        ...sizing(undefined, false),
      };
    case 'nextUrl':
      return { type: 'nextUrl', nextUrlPath: need('nextUrlPath'), ...sizing(undefined, false) };
    case 'link':
      return { type: 'link', rel: p.rel ?? 'next', ...sizing(undefined, false) };
  }
}

function resolveIncremental(
  inc: RestIncrementalConfig,
  at: string,
  problems: string[],
): ResolvedIncremental | undefined {
  const cursorFormat = inc.cursorFormat ?? 'iso8601';
  const requestFormat = inc.requestFormat ?? 'raw';
  const lagSeconds = inc.lag ?? 0;
  const initialValue = parseInitialValue(inc.initialValue, cursorFormat);
  if (initialValue === undefined) {
    const expected =
      cursorFormat === 'number'
        ? 'a number'
        : cursorFormat === 'string'
          ? 'a string'
          : 'an ISO-8601 timestamp (or a number for unix cursors)';
    problems.push(`"${at}.initialValue" must be ${expected} for cursorFormat "${cursorFormat}"`);
    return undefined;
  }
  const timeCursor = cursorFormat !== 'number';
  if (requestFormat !== 'raw' && !timeCursor) {
    problems.push(
      `"${at}.requestFormat" "${requestFormat}" needs a time cursor; use "raw" for number cursors`,
    );
  }
  if (requestFormat !== 'raw' && !inc.requestParam) {
    problems.push(`"${at}.requestFormat" is set but "${at}.requestParam" is not`);
  }
  // The SDK lowers numbers by `lag` units and ISO strings by `lag` seconds.
  const lag = cursorFormat === 'unixMs' ? lagSeconds * 1000 : lagSeconds;
  return {
    cursorField: inc.cursorField,
    cursorFormat,
    initialValue,
    requestParam: inc.requestParam,
    requestFormat,
    lag,
    sortedByCursor: inc.sortedByCursor ?? false,
  };
}

function parseInitialValue(value: string, format: CursorFormat): CursorValue | undefined {
  const text = value.trim();
  switch (format) {
    case 'string':
      return value;
    case 'number':
      // Exact beyond 2^53, as the engine reads a number cursor.
      return NUMERIC.test(text) ? normalizeCursor(text, 'initialValue', 'number') : undefined;
    case 'iso8601': {
      const t = Date.parse(text);
      return Number.isNaN(t) ? undefined : new Date(t).toISOString();
    }
    case 'unixSeconds':
    case 'unixMs': {
      if (NUMERIC.test(text)) return Number(text);
      const t = Date.parse(text);
      if (Number.isNaN(t)) return undefined;
      return format === 'unixSeconds' ? Math.floor(t / 1000) : t;
    }
  }
}
