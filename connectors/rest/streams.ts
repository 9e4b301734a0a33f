/**
 * Streams of a `rest` source. Building them is cheap (objects only); `read`
 * walks the pages lazily: it asks the API for records at or after `ctx.since`
 * (the request parameter), selects the records from each JSON body, drops
 * any whose cursor is before `since` (for APIs that ignore the parameter) and
 * yields one array per page followed by a checkpoint whose position is the
 * next page's token plus the incremental window the read started with
 * (`RestPosition`), so a later slice continues with the next page.
 */
import { compareCursor, normalizeCursor } from '../sdk/cursor.js';
import { ConfigError } from '../sdk/errors.js';
import {
  type ColumnType,
  type CursorType,
  type CursorValue,
  checkpoint,
  type Incremental,
  type Logger,
  type ReadContext,
  type ReadOrder,
  ResumeUnavailableError,
  type SourceRecord,
  type Stream,
  type StreamItem,
  type StreamPosition,
  type WriteDisposition,
} from '../sdk/types.js';
import { type Authenticator, createAuthenticator } from './auth.js';
import {
  type JsonResponse,
  RateLimiter,
  RequestRejectedError,
  RestClient,
  type StatusAdvice,
} from './client.js';
import type {
  CursorFormat,
  PaginationType,
  ResolvedIncremental,
  ResolvedRestConfig,
  ResolvedStream,
} from './config.js';
import { createPaginator, MISSING, type PageToken, type Paginator, valueAt } from './pagination.js';
import { Redactor } from './redact.js';

/** How the engine reads and orders the values of a cursor in this format (the same rules as here). */
export function cursorTypeOf(format: CursorFormat): CursorType {
  return format === 'iso8601' || format === 'string' ? 'auto' : 'number';
}

/**
 * A cursor value in a form `compareCursor` orders correctly, read as the
 * engine reads it (numeric text of a number format becomes a number);
 * undefined when the record has none or one that cannot be read (the engine
 * then says what is wrong).
 */
export function comparableCursor(value: unknown, format: CursorFormat): CursorValue | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  // A JSON integer beyond 2^53 arrives as a bigint (sdk/json.ts); a time cursor that large is no time.
  if (typeof value === 'bigint')
    return cursorTypeOf(format) === 'number' ? normalizeCursor(value, 'cursor', 'number') : undefined;
  if (typeof value !== 'string') return undefined;
  if (cursorTypeOf(format) === 'auto') return value;
  try {
    return normalizeCursor(value, 'cursor', 'number');
  } catch {
    return undefined;
  }
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

/**
 * Where a read of a `rest` stream stands after a page: the token of the next
 * page (`next`), or `done` after the last page; the pagination style it
 * belongs to; and the incremental window (`since`) the read's requests carry,
 * which a resumed read keeps so page numbers and offsets mean the same rows.
 */
export type RestPosition = StreamPosition &
  (
    | {
        readonly style: PaginationType;
        readonly since: CursorValue | null;
        readonly next: PageToken;
      }
    | { readonly style: PaginationType; readonly since: CursorValue | null; readonly done: true }
  );

export interface RestSource {
  readonly redactor: Redactor;
  readonly streams: readonly RestStream[];
}

/** Builds the streams of one source; they share the auth (and its token cache) and the rate limiter. */
export function createRestSource(config: ResolvedRestConfig): RestSource {
  const redactor = new Redactor();
  const auth = createAuthenticator(config.auth, redactor, config.policy);
  const configHosts = new Set([config.baseUrl.hostname, ...config.streams.map((s) => s.url.hostname)]);
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
      configHosts,
    });
    const credentialParam =
      config.auth.type === 'apiKey' && config.auth.in === 'query' ? config.auth.name : undefined;
    return new RestStream(spec, client, auth, redactor, credentialParam);
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
  public readonly order: ReadOrder;
  public readonly columns?: Readonly<Record<string, ColumnType>>;
  private readonly at: string;

  public constructor(
    private readonly spec: ResolvedStream,
    private readonly client: RestClient,
    private readonly auth: Authenticator,
    private readonly redactor: Redactor,
    /** Query parameter that carries an API key: kept out of positions (auth adds it to every request). */
    private readonly credentialParam?: string,
  ) {
    this.name = spec.name;
    this.primaryKey = spec.primaryKey;
    this.writeDisposition = spec.writeDisposition;
    this.at = `streams[${spec.index}]`;
    if (spec.columns) this.columns = spec.columns;
    if (spec.incremental) {
      const { cursorField, initialValue, lag, cursorFormat } = spec.incremental;
      // Records without a cursor value are kept by the read, so the engine lands them too.
      this.incremental = {
        cursorField,
        initialValue,
        lag,
        cursorType: cursorTypeOf(cursorFormat),
        onMissingCursor: 'land',
      };
    }
    // Only the config can promise the API's order; the read checks the promise as it goes.
    this.order = spec.incremental?.sortedByCursor ? 'cursor-ascending' : 'unordered';
  }

  public read(ctx: ReadContext): AsyncIterable<StreamItem> {
    return this.pages(ctx);
  }

  /** Requests the first page and checks it holds records where `recordsPath` says: for `check`. */
  public async probe(signal: AbortSignal, logger: Logger): Promise<number> {
    const url = this.firstUrl(this.spec.incremental?.initialValue);
    const response = await this.client.getJson(url, signal, logger);
    return this.records(response).length;
  }

  private async *pages(ctx: ReadContext): AsyncGenerator<StreamItem> {
    const incremental = this.spec.incremental;
    const paginator = createPaginator(this.spec.pagination);
    const resumed = ctx.resumeFrom ? this.resumePoint(ctx.resumeFrom, paginator) : undefined;
    if (resumed === 'done') return;
    const since = resumed ? resumed.since : incremental ? (ctx.since ?? incremental.initialValue) : undefined;
    const sinceComparable =
      incremental && since !== undefined ? comparableCursor(since, incremental.cursorFormat) : undefined;
    const base = this.firstUrl(since);
    const position = (rest: { next: PageToken } | { done: true }): RestPosition => ({
      style: this.spec.pagination.type,
      since: since ?? null,
      ...rest,
    });
    // Request URLs of this read: one that comes round again would loop forever.
    const requested = new Set<string>();
    let token: PageToken | undefined = resumed ? resumed.next : paginator.start;
    let lastCursor: CursorValue | undefined;
    let pages = 0;
    while (token !== undefined) {
      ctx.signal.throwIfAborted();
      const url = paginator.url(base, token);
      if (requested.has(url.href)) {
        throw new ConfigError(
          `pagination of "${this.at}.pagination" did not advance (the API returned the same ${paginator.repeatedWhat} twice); check "${this.at}.pagination".`,
        );
      }
      requested.add(url.href);
      this.assertSameOrigin(url);
      const response = await this.fetchPage(url, ctx, pages === 0 ? ctx.resumeFrom : undefined);
      const records = this.records(response);
      pages += 1;
      token = this.withoutCredential(
        paginator.next(
          { url: response.url, headers: response.headers, body: response.body, count: records.length },
          token,
        ),
      );
      const kept =
        incremental && sinceComparable !== undefined
          ? records.filter((record) => !isBefore(record, incremental, sinceComparable))
          : records;
      if (this.order === 'cursor-ascending' && incremental)
        lastCursor = this.assertAscending(kept, lastCursor);
      ctx.logger.debug('rest: page read', {
        stream: this.name,
        page: pages,
        records: records.length,
        droppedBeforeCursor: records.length - kept.length,
      });
      ctx.signal.throwIfAborted();
      if (kept.length > 0) yield kept;
      yield checkpoint(position(token === undefined ? { done: true } : { next: token }));
    }
  }

  /** Checks `resumeFrom` fits this stream's pagination; `done` when the read had finished. */
  private resumePoint(
    from: StreamPosition,
    paginator: Paginator,
  ): { since: CursorValue | undefined; next: PageToken } | 'done' {
    const since = from.since;
    const sinceOk =
      since === null ||
      (this.spec.incremental !== undefined && (typeof since === 'string' || typeof since === 'number'));
    const fits = from.style === this.spec.pagination.type && sinceOk;
    if (fits && from.done === true) return 'done';
    if (fits && 'next' in from && paginator.accepts(from.next)) {
      return { since: since === null ? undefined : (since as CursorValue), next: from.next };
    }
    throw new ResumeUnavailableError(
      `stream "${this.name}" cannot resume from ${this.shown(from)}: it does not fit "${this.at}.pagination" (${this.spec.pagination.type}) and "${this.at}.incremental" as configured now`,
    );
  }

  /**
   * GETs one page. The first request of a resumed read that the API refuses
   * (an expired page token: 400, 404, 410, 422 …) means the position is gone:
   * ResumeUnavailableError. 401 and 403 stay what they are (credentials).
   */
  private async fetchPage(
    url: URL,
    ctx: ReadContext,
    resumedFrom: StreamPosition | undefined,
  ): Promise<JsonResponse> {
    try {
      return await this.client.getJson(url, ctx.signal, ctx.logger);
    } catch (error) {
      if (
        resumedFrom &&
        error instanceof RequestRejectedError &&
        error.status !== 401 &&
        error.status !== 403
      ) {
        throw new ResumeUnavailableError(
          `stream "${this.name}" cannot resume from ${this.shown(resumedFrom)}: the API refused the resumed request (${error.message})`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** A next URL may echo an API key sent as a query parameter; positions are stored, so drop it. */
  private withoutCredential(token: PageToken | undefined): PageToken | undefined {
    const style = this.spec.pagination.type;
    if (!this.credentialParam || typeof token !== 'string' || (style !== 'nextUrl' && style !== 'link')) {
      return token;
    }
    const url = new URL(token);
    url.searchParams.delete(this.credentialParam);
    return url.href;
  }

  private shown(position: StreamPosition): string {
    return this.redactor.text(JSON.stringify(position));
  }

  /** Throws when a stream declared `sortedByCursor` yields a cursor below one it yielded before. */
  private assertAscending(
    records: readonly SourceRecord[],
    previous: CursorValue | undefined,
  ): CursorValue | undefined {
    const incremental = this.spec.incremental!;
    let last = previous;
    for (const record of records) {
      const value = comparableCursor(record[incremental.cursorField], incremental.cursorFormat);
      if (value === undefined) continue;
      if (last !== undefined && compareCursor(value, last, cursorTypeOf(incremental.cursorFormat)) < 0) {
        throw new ConfigError(
          `stream "${this.name}" declares "${this.at}.incremental.sortedByCursor" but the API returned ${incremental.cursorField} ${JSON.stringify(value)} after ${JSON.stringify(last)}; remove sortedByCursor (and reset the stream's cursor if a run committed past the unsorted records).`,
        );
      }
      last = value;
    }
    return last;
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
  return compareCursor(value, since, cursorTypeOf(incremental.cursorFormat)) < 0;
}
