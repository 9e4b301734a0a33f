/**
 * Pagination styles. A Paginator is made per read: `first` gives the URL of
 * the first page, `next` looks at the page just read and gives the next URL,
 * or undefined when the stop condition holds:
 *
 * | style   | next request                         | stops when                              |
 * |---------|--------------------------------------|-----------------------------------------|
 * | none    | -                                    | after the first page                    |
 * | page    | page number + 1                      | empty page; short page (pageSize known) |
 * | offset  | offset + records on the page         | empty page; short page                  |
 * | cursor  | token from the body as a parameter   | no token; `hasMorePath` false; empty    |
 * | nextUrl | URL from the body                    | no URL; empty page                      |
 * | link    | RFC 8288 `Link` header, rel="next"   | no such link; empty page                |
 *
 * A token or URL that repeats would loop forever: it is a ConfigError.
 */
import { ConfigError } from '../sdk/errors.js';
import type { ResolvedPagination } from './config.js';

export interface Page {
  /** The URL that answered. */
  readonly url: URL;
  readonly headers: Headers;
  readonly body: unknown;
  /** Records on the page, before any client-side filtering. */
  readonly count: number;
}

export interface Paginator {
  first(url: URL): URL;
  next(page: Page): URL | undefined;
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

export function createPaginator(pagination: ResolvedPagination, at: string): Paginator {
  if (pagination.type === 'none') return { first: (url) => url, next: () => undefined };
  const { pageSize, pageSizeParam, stopOnEmptyPage, stopOnShortPage } = pagination;
  const sized = (url: URL): URL =>
    pageSizeParam && pageSize !== undefined ? withParam(url, pageSizeParam, pageSize) : url;
  const stop = (page: Page): boolean =>
    (stopOnEmptyPage && page.count === 0) ||
    (stopOnShortPage && pageSize !== undefined && page.count < pageSize);
  const seen = new Set<string>();
  const once = (key: string, what: string): void => {
    if (seen.has(key)) {
      throw new ConfigError(
        `pagination of "${at}" did not advance (the API returned the same ${what} twice); check "${at}".`,
      );
    }
    seen.add(key);
  };
  // URL-following styles remember the first URL too, so a next link pointing back at it is caught.
  const sizedAndSeen = (url: URL): URL => {
    const first = sized(url);
    seen.add(first.href);
    return first;
  };
  let firstUrl: URL | undefined;

  switch (pagination.type) {
    case 'page': {
      let page = pagination.startPage;
      return {
        first: (url) => {
          firstUrl = sized(url);
          return withParam(firstUrl, pagination.pageParam, page);
        },
        next: (current) => {
          if (stop(current)) return undefined;
          page += 1;
          return withParam(firstUrl ?? current.url, pagination.pageParam, page);
        },
      };
    }
    case 'offset': {
      let offset = 0;
      return {
        first: (url) => {
          firstUrl = sized(url);
          return withParam(firstUrl, pagination.offsetParam, offset);
        },
        next: (current) => {
          if (stop(current)) return undefined;
          offset += current.count;
          return withParam(firstUrl ?? current.url, pagination.offsetParam, offset);
        },
      };
    }
    case 'cursor':
      return {
        first: (url) => {
          firstUrl = sized(url);
          return firstUrl;
        },
        next: (current) => {
          if (stop(current)) return undefined;
          if (pagination.hasMorePath) {
            const more = valueAt(current.body, pagination.hasMorePath);
            if (more === false || more === 'false' || more === 0 || more === null || more === MISSING)
              return undefined;
          }
          const token = valueAt(current.body, pagination.cursorPath);
          if (token === MISSING || token === null || token === '' || typeof token === 'object')
            return undefined;
          once(String(token), `cursor token at "${pagination.cursorPath}"`);
          return withParam(firstUrl ?? current.url, pagination.cursorParam, String(token));
        },
      };
    case 'nextUrl':
      return {
        first: sizedAndSeen,
        next: (current) => {
          if (stop(current)) return undefined;
          const next = valueAt(current.body, pagination.nextUrlPath);
          if (typeof next !== 'string' || next.trim() === '') return undefined;
          const url = new URL(next.trim(), current.url);
          once(url.href, `next URL at "${pagination.nextUrlPath}"`);
          return url;
        },
      };
    case 'link':
      return {
        first: sizedAndSeen,
        next: (current) => {
          if (stop(current)) return undefined;
          const link = parseLinkHeader(current.headers.get('link')).find((l) =>
            l.rel.includes(pagination.rel),
          );
          if (!link || link.url === '') return undefined;
          const url = new URL(link.url, current.url);
          once(url.href, `Link rel="${pagination.rel}"`);
          return url;
        },
      };
  }
}
