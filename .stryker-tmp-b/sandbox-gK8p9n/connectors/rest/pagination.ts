/**
 * Pagination styles. A Paginator holds no state of its own (Airbyte's
 * `next_page_token(…, last_page_token_value)` style): the read loop keeps the
 * page token, asks `url` for the request that token stands for, and `next`
 * turns the page just read and its token into the next token, or undefined
 * when the stop condition holds. A token is small and JSON-serialisable, so
 * it is the stream's resume position:
 *
 * | style   | token                        | next request                         | stops when                              |
 * |---------|------------------------------|--------------------------------------|-----------------------------------------|
 * | none    | null                         | -                                    | after the first page                    |
 * | page    | page number                  | page number + 1                      | empty page; short page (pageSize known) |
 * | offset  | offset                       | offset + records on the page         | empty page; short page                  |
 * | cursor  | token from the body (null: first page) | token as a parameter       | no token; `hasMorePath` false; empty    |
 * | nextUrl | URL to request               | URL from the body                    | no URL; empty page                      |
 * | link    | URL to request               | RFC 8288 `Link` header, rel="next"   | no such link; empty page                |
 *
 * A request URL that repeats within one read would loop forever: the read
 * loop turns it into a ConfigError (`repeatedWhat` names what repeated).
 */
// @ts-nocheck

import type { ResolvedPagination } from './config.js';

export interface Page {
  /** The URL that answered. */
  readonly url: URL;
  readonly headers: Headers;
  readonly body: unknown;
  /** Records on the page, before any client-side filtering. */
  readonly count: number;
}

/** Where the next request goes: a page number, an offset, a cursor token or a URL; null for none. */
export type PageToken = number | string | null;

export interface Paginator {
  /** The token of the first page. */
  readonly start: PageToken;
  /** The request URL for `token`; `base` is the stream URL with its parameters and the incremental window. */
  url(base: URL, token: PageToken): URL;
  /** The token after the page just read (requested with `token`), or undefined at the last page. */
  next(page: Page, token: PageToken): PageToken | undefined;
  /** Whether `token` has the shape this style uses (a resume position may come from another config). */
  accepts(token: unknown): token is PageToken;
  /** What repeated when a request URL comes round again, for the error message. */
  readonly repeatedWhat: string;
}

/** Marker for a dotted path that leads nowhere (distinct from a null value). */
export const MISSING: unique symbol = Symbol('missing');

/** Follows a dotted path (`data.items`, `pages.0.next`) into parsed JSON; '' is the value itself. */
export function valueAt(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) {
      current = current[Number(segment)];
    } else if (typeof current === 'object' && current !== null && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return MISSING;
    }
    if (current === undefined) return MISSING;
  }
  return current;
}

export interface LinkValue {
  readonly url: string;
  readonly rel: readonly string[];
  readonly params: Readonly<Record<string, string>>;
}

/** Parses an RFC 8288 `Link` header: `<url>; rel="next", <url>; rel="last"`. */
export function parseLinkHeader(header: string | null | undefined): LinkValue[] {
  if (!header) return [];
  const links: LinkValue[] = [];
  // A link is <uri-reference> followed by ;-separated params; values may be quoted and hold , or ;.
  const pattern = /<([^>]*)>((?:\s*;\s*[^\s;,=]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)/g;
  for (const match of header.matchAll(pattern)) {
    const params: Record<string, string> = {};
    const paramPattern = /;\s*([^\s;,=]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^;,]*))?/g;
    for (const param of (match[2] ?? '').matchAll(paramPattern)) {
      const name = param[1]!.toLowerCase();
      let value = (param[2] ?? '').trim();
      if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      // RFC 8288 §3: only the first occurrence of a parameter counts.
      if (!(name in params)) params[name] = value;
    }
    const rel = (params.rel ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    links.push({ url: match[1]!.trim(), rel, params });
  }
  return links;
}

function withParam(url: URL, name: string, value: string | number): URL {
  const out = new URL(url.href);
  out.searchParams.set(name, String(value));
  return out;
}

const isCount = (token: unknown): token is number => typeof token === 'number' && Number.isInteger(token);

export function createPaginator(pagination: ResolvedPagination): Paginator {
  if (pagination.type === 'none') {
    return {
      start: null,
      url: (base) => base,
      next: () => undefined,
      accepts: (token): token is null => token === null,
      repeatedWhat: 'page',
    };
  }
  const { pageSize, pageSizeParam, stopOnEmptyPage, stopOnShortPage } = pagination;
  const sized = (url: URL): URL =>
    pageSizeParam && pageSize !== undefined ? withParam(url, pageSizeParam, pageSize) : url;
  const stop = (page: Page): boolean =>
    (stopOnEmptyPage && page.count === 0) ||
    (stopOnShortPage && pageSize !== undefined && page.count < pageSize);

  switch (pagination.type) {
    case 'page':
      return {
        start: pagination.startPage,
        url: (base, token) => withParam(sized(base), pagination.pageParam, Number(token)),
        next: (page, token) => (stop(page) ? undefined : Number(token) + 1),
        accepts: isCount,
        repeatedWhat: 'page',
      };
    case 'offset':
      return {
        start: 0,
        url: (base, token) => withParam(sized(base), pagination.offsetParam, Number(token)),
        next: (page, token) => (stop(page) ? undefined : Number(token) + page.count),
        accepts: isCount,
        repeatedWhat: 'offset',
      };
    case 'cursor':
      return {
        start: null,
        url: (base, token) =>
          token === null ? sized(base) : withParam(sized(base), pagination.cursorParam, String(token)),
        next: (page) => {
          if (stop(page)) return undefined;
          if (pagination.hasMorePath) {
            const more = valueAt(page.body, pagination.hasMorePath);
            if (more === false || more === 'false' || more === 0 || more === null || more === MISSING)
              return undefined;
          }
          const token = valueAt(page.body, pagination.cursorPath);
          if (token === MISSING || token === null || token === '' || typeof token === 'object')
            return undefined;
          return String(token);
        },
        accepts: (token): token is string | null => token === null || typeof token === 'string',
        repeatedWhat: `cursor token at "${pagination.cursorPath}"`,
      };
    case 'nextUrl':
      return {
        start: null,
        url: (base, token) => (token === null ? sized(base) : new URL(String(token))),
        next: (page) => {
          if (stop(page)) return undefined;
          const next = valueAt(page.body, pagination.nextUrlPath);
          if (typeof next !== 'string' || next.trim() === '') return undefined;
          return new URL(next.trim(), page.url).href;
        },
        accepts: (token): token is string | null => token === null || typeof token === 'string',
        repeatedWhat: `next URL at "${pagination.nextUrlPath}"`,
      };
    case 'link':
      return {
        start: null,
        url: (base, token) => (token === null ? sized(base) : new URL(String(token))),
        next: (page) => {
          if (stop(page)) return undefined;
          const link = parseLinkHeader(page.headers.get('link')).find((l) => l.rel.includes(pagination.rel));
          if (!link || link.url === '') return undefined;
          return new URL(link.url, page.url).href;
        },
        accepts: (token): token is string | null => token === null || typeof token === 'string',
        repeatedWhat: `Link rel="${pagination.rel}"`,
      };
  }
}
