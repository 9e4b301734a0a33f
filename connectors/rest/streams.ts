/**
 * Streams of a `rest` source. Building them is cheap (objects only); `read`
 * walks the pages lazily: it asks the API for records at or after `ctx.since`
 * (the request parameter), selects the records from each JSON body, drops
 * any whose cursor is before `since` (for APIs that ignore the parameter) and
 * yields one array per page, so the engine can checkpoint at page ends.
 */
import { compareCursor } from '../sdk/cursor.js';
import { ConfigError } from '../sdk/errors.js';
import type {
  ColumnType,
  CursorValue,
  Incremental,
  Logger,
  ReadContext,
  SourceRecord,
  Stream,
  WriteDisposition,
} from '../sdk/types.js';
import { type Authenticator, createAuthenticator } from './auth.js';
import { type JsonResponse, RateLimiter, RestClient, type StatusAdvice } from './client.js';
import type { CursorFormat, ResolvedIncremental, ResolvedRestConfig, ResolvedStream } from './config.js';
import { createPaginator, MISSING, valueAt } from './pagination.js';
import { Redactor } from './redact.js';

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** A cursor value in a form `compareCursor` orders correctly (numeric text becomes a number). */
export function comparableCursor(value: unknown, format: CursorFormat): CursorValue | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (format !== 'iso8601' && format !== 'string' && NUMERIC.test(value.trim())) return Number(value.trim());
  return value;
}

function instantMs(value: CursorValue, format: CursorFormat): number {
  switch (format) {
    case 'unixSeconds':
      return Number(value) * 1000;
    case 'unixMs':
      return Number(value);
    case 'number':
      return Number.NaN;
    default:
      return Date.parse(String(value));
  }
}

/** Writes a cursor value the way the API's request parameter expects it. */
export function formatCursorParam(value: CursorValue, incremental: ResolvedIncremental): string | undefined {
  const { requestFormat, cursorFormat } = incremental;
  if (requestFormat === 'raw') return String(value);
  const ms = instantMs(value, cursorFormat);
  if (!Number.isFinite(ms)) return undefined;
  switch (requestFormat) {
    case 'iso8601':
      return new Date(ms).toISOString();
    case 'unixSeconds':
      return String(Math.floor(ms / 1000));
    case 'unixMs':
      return String(Math.floor(ms));
    case 'date':
      return new Date(ms).toISOString().slice(0, 10);
  }
}

export interface RestSource {
  readonly redactor: Redactor;
  readonly streams: readonly RestStream[];
}

/** Builds the streams of one source; they share the auth (and its token cache) and the rate limiter. */
export function createRestSource(config: ResolvedRestConfig): RestSource {
  const redactor = new Redactor();
  const auth = createAuthenticator(config.auth, redactor, config.policy);
  const sourceRps = config.policy.maxRequestsPerSecond;
  const sourceLimiter = sourceRps ? new RateLimiter(sourceRps) : undefined;
  const streams = config.streams.map((spec) => {
    const rps = spec.policy.maxRequestsPerSecond;
    const limiter = rps === sourceRps ? sourceLimiter : rps ? new RateLimiter(rps) : undefined;
    const client = new RestClient({
      auth,
      headers: { ...config.headers, ...spec.headers },
      policy: spec.policy,
      limiter,
      redactor,
      advice: adviceFor(spec, config, auth),
    });
    return new RestStream(spec, client, auth, redactor);
  });
  return { redactor, streams };
}

function adviceFor(spec: ResolvedStream, config: ResolvedRestConfig, auth: Authenticator): StatusAdvice {
  const at = `streams[${spec.index}]`;
  return {
    unauthorized:
      config.auth.type === 'none'
        ? 'the API wants credentials: set "auth"'
        : `the API rejected the credentials; check ${auth.fields}`,
    forbidden: `the credentials were accepted but may not read this resource; check the permissions behind ${auth.fields} and "${at}.path"`,
    notFound: `check "baseUrl" and "${at}.path"`,
    rejected: `the API rejected the request; check "${at}.params", "${at}.pagination" and "${at}.incremental"`,
    notJson: `check that "baseUrl" and "${at}.path" point at a JSON API`,
  };
}

export class RestStream implements Stream {
  public readonly name: string;
  public readonly primaryKey: readonly string[];
  public readonly writeDisposition: WriteDisposition;
  public readonly incremental?: Incremental;
  public readonly columns?: Readonly<Record<string, ColumnType>>;
  private readonly at: string;

  public constructor(
    private readonly spec: ResolvedStream,
    private readonly client: RestClient,
    private readonly auth: Authenticator,
    private readonly redactor: Redactor,
  ) {
    this.name = spec.name;
    this.primaryKey = spec.primaryKey;
    this.writeDisposition = spec.writeDisposition;
    this.at = `streams[${spec.index}]`;
    if (spec.columns) this.columns = spec.columns;
    if (spec.incremental) {
      const { cursorField, initialValue, lag } = spec.incremental;
      this.incremental = { cursorField, initialValue, lag };
    }
  }

  public read(ctx: ReadContext): AsyncIterable<SourceRecord[]> {
    return this.pages(ctx);
  }

  /** Requests the first page and checks it holds records where `recordsPath` says: for `check`. */
  public async probe(signal: AbortSignal, logger: Logger): Promise<number> {
    const url = this.firstUrl(this.spec.incremental?.initialValue);
    const response = await this.client.getJson(url, signal, logger);
    return this.records(response).length;
  }

  private async *pages(ctx: ReadContext): AsyncGenerator<SourceRecord[]> {
    const incremental = this.spec.incremental;
    const since = incremental ? (ctx.since ?? incremental.initialValue) : undefined;
    const sinceComparable =
      incremental && since !== undefined ? comparableCursor(since, incremental.cursorFormat) : undefined;
    const paginator = createPaginator(this.spec.pagination, `${this.at}.pagination`);
    let url: URL | undefined = paginator.first(this.firstUrl(since));
    let pages = 0;
    while (url) {
      ctx.signal.throwIfAborted();
      this.assertSameOrigin(url);
      const response = await this.client.getJson(url, ctx.signal, ctx.logger);
      const records = this.records(response);
      pages += 1;
      url = paginator.next({
        url: response.url,
        headers: response.headers,
        body: response.body,
        count: records.length,
      });
      const kept =
        incremental && sinceComparable !== undefined
          ? records.filter((record) => !isBefore(record, incremental, sinceComparable))
          : records;
      ctx.logger.debug('rest: page read', {
        stream: this.name,
        page: pages,
        records: records.length,
        droppedBeforeCursor: records.length - kept.length,
      });
      ctx.signal.throwIfAborted();
      if (kept.length > 0) yield kept;
    }
  }

  private firstUrl(since: CursorValue | undefined): URL {
    const url = new URL(this.spec.url.href);
    for (const [name, value] of Object.entries(this.spec.params)) url.searchParams.set(name, value);
    const incremental = this.spec.incremental;
    if (incremental?.requestParam && since !== undefined) {
      const value = formatCursorParam(since, incremental);
      if (value === undefined) {
        throw new ConfigError(
          `cursor value ${JSON.stringify(since)} of "${this.at}.incremental.cursorField" cannot be written as ${incremental.requestFormat}; check "${this.at}.incremental.cursorFormat" and "requestFormat".`,
        );
      }
      url.searchParams.set(incremental.requestParam, value);
    }
    return url;
  }

  private assertSameOrigin(url: URL): void {
    if (this.auth.sendsCredentials && url.origin !== this.spec.url.origin) {
      throw new ConfigError(
        `pagination of "${this.at}" leads to another origin (${this.redactor.url(url)}), where Sluice does not send the credentials; check "${this.at}.pagination".`,
      );
    }
  }

  private records(response: JsonResponse): SourceRecord[] {
    const { recordsPath } = this.spec;
    if (response.body === null) return [];
    const value = valueAt(response.body, recordsPath);
    const where = `GET ${this.redactor.url(response.url)} returned ${response.status}`;
    if (value === MISSING) {
      const body = response.body;
      const keys =
        typeof body === 'object' && body !== null && !Array.isArray(body)
          ? `top-level keys: ${Object.keys(body).slice(0, 10).join(', ') || 'none'}`
          : `the body is ${Array.isArray(body) ? 'an array' : typeof body}`;
      throw new ConfigError(
        `${where} but the body has nothing at "${recordsPath}" (${keys}); fix "${this.at}.recordsPath".`,
      );
    }
    if (value === null) return [];
    const list = Array.isArray(value) ? value : [value];
    for (const item of list) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        const shown = recordsPath === '' ? 'the body' : `"${recordsPath}"`;
        throw new ConfigError(
          `${where} but ${shown} holds ${item === null ? 'null' : Array.isArray(item) ? 'array' : typeof item} items, not objects; point "${this.at}.recordsPath" at an array of objects.`,
        );
      }
    }
    return list as SourceRecord[];
  }
}

function isBefore(record: SourceRecord, incremental: ResolvedIncremental, since: CursorValue): boolean {
  const value = comparableCursor(record[incremental.cursorField], incremental.cursorFormat);
  // A record without a cursor cannot be placed; keep it rather than lose it.
  if (value === undefined) return false;
  return compareCursor(value, since) < 0;
}
