// @ts-nocheck
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RestConfig, RestStreamConfig } from '../../../../connectors/rest/index.js';
import {
  createPaginator,
  MISSING,
  parseLinkHeader,
  valueAt,
} from '../../../../connectors/rest/pagination.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import { ItemsApi, makeItems, sendJson } from './fixtures/api.js';
import { onlyStream, readStream, rejection } from './fixtures/read.js';

const api = new ItemsApi(makeItems(23));

beforeAll(async () => {
  await api.start();
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => {
  api.reset(makeItems(23));
});

function config(stream: Omit<RestStreamConfig, 'name'>, extra: Partial<RestConfig> = {}): RestConfig {
  return { baseUrl: api.url, streams: [{ name: 'items', primaryKey: ['id'], ...stream }], ...extra };
}

const allIds = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('rest pagination against a live server', () => {
  it('walks page numbers and stops at the first short page', async () => {
    // Prepare
    const stream = await onlyStream(
      config({
        path: '/page/items',
        recordsPath: 'data.items',
        pagination: { type: 'page', pageSizeParam: 'per_page', pageSize: 5 },
      }),
    );

    // Act
    const records = await readStream(stream);

    // Assess
    expect(records.map((r) => r.id)).toEqual(allIds(23));
    const pages = api.hits('/page/items').map((r) => r.url.searchParams.get('page'));
    expect(pages).toEqual(['1', '2', '3', '4', '5']);
    expect(api.hits('/page/items').every((r) => r.url.searchParams.get('per_page') === '5')).toBe(true);
  });

  it('walks page numbers until an empty page when the page size is unknown', async () => {
    api.reset(makeItems(20));
    const stream = await onlyStream(
      config({ path: '/page/items', recordsPath: 'data.items', pagination: { type: 'page', startPage: 1 } }),
    );

    const records = await readStream(stream);

    expect(records.map((r) => r.id)).toEqual(allIds(20));
    // 4 full pages of the server's default size, then the empty page that stops it.
    expect(api.hits('/page/items')).toHaveLength(5);
  });

  it('walks offset/limit and stops at a short page', async () => {
    const stream = await onlyStream(
      config({ path: '/offset/items', recordsPath: 'results', pagination: { type: 'offset', pageSize: 5 } }),
    );

    const records = await readStream(stream);

    expect(records.map((r) => r.id)).toEqual(allIds(23));
    const offsets = api.hits('/offset/items').map((r) => r.url.searchParams.get('offset'));
    expect(offsets).toEqual(['0', '5', '10', '15', '20']);
    expect(api.hits('/offset/items').every((r) => r.url.searchParams.get('limit') === '5')).toBe(true);
  });

  it('walks offset/limit until an empty page when the records fill the last page exactly', async () => {
    api.reset(makeItems(20));
    const stream = await onlyStream(
      config({ path: '/offset/items', recordsPath: 'results', pagination: { type: 'offset', pageSize: 5 } }),
    );

    const records = await readStream(stream);

    expect(records.map((r) => r.id)).toEqual(allIds(20));
    expect(api.hits('/offset/items')).toHaveLength(5);
  });

  it('follows a cursor token from the body and stops when there is none', async () => {
    const stream = await onlyStream(
      config({
        path: '/cursor/items',
        recordsPath: 'items',
        params: { sort: 'updated_at' },
        pagination: { type: 'cursor', cursorPath: 'meta.next_cursor', pageSizeParam: 'limit', pageSize: 5 },
      }),
    );

    const records = await readStream(stream);

    expect(records.map((r) => r.id)).toEqual(allIds(23));
    const hits = api.hits('/cursor/items');
    expect(hits.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, '5', '10', '15', '20']);
    // The stream's own parameters go with every page.
    expect(hits.every((r) => r.url.searchParams.get('sort') === 'updated_at')).toBe(true);
  });

  it('stops a cursor walk when the has-more flag is false', async () => {
    api.reset(makeItems(10));
    const stream = await onlyStream(
      config({
        path: '/cursor/items',
        recordsPath: 'items',
        pagination: { type: 'cursor', cursorPath: 'meta.next_cursor', hasMorePath: 'meta.has_more' },
      }),
    );

    const records = await readStream(stream);

    expect(records).toHaveLength(10);
    expect(api.hits('/cursor/items')).toHaveLength(2);
  });

  it('follows a (relative) next URL from the body and stops when it is null', async () => {
    const stream = await onlyStream(
      config({
        path: '/next/items',
        recordsPath: 'results',
        pagination: { type: 'nextUrl', nextUrlPath: 'links.next', pageSizeParam: 'limit', pageSize: 5 },
      }),
    );

    const records = await readStream(stream);

    expect(records.map((r) => r.id)).toEqual(allIds(23));
    expect(api.hits('/next/items').map((r) => r.url.searchParams.get('after'))).toEqual([
      null,
      '5',
      '10',
      '15',
      '20',
    ]);
  });

  it('follows RFC 8288 Link headers (rel="next") and stops at the last page', async () => {
    const stream = await onlyStream(
      config({ path: '/link/items', pagination: { type: 'link', pageSizeParam: 'per_page', pageSize: 5 } }),
    );

    const records = await readStream(stream);

    expect(records.map((r) => r.id)).toEqual(allIds(23));
    expect(api.hits('/link/items').map((r) => r.url.searchParams.get('page'))).toEqual([
      null,
      '2',
      '3',
      '4',
      '5',
    ]);
  });

  it('reads one request when the stream has no pagination', async () => {
    const stream = await onlyStream(config({ path: '/link/items' }));

    const records = await readStream(stream);

    expect(records).toHaveLength(5);
    expect(api.hits('/link/items')).toHaveLength(1);
  });

  it('yields one array per page so the engine can checkpoint at page ends', async () => {
    const stream = await onlyStream(
      config({ path: '/offset/items', recordsPath: 'results', pagination: { type: 'offset', pageSize: 10 } }),
    );
    const sizes: number[] = [];

    await readStream(stream, { onPage: (page) => sizes.push(page.length) });

    expect(sizes).toEqual([10, 10, 3]);
  });

  it('fails with a ConfigError when a cursor token repeats instead of looping forever', async () => {
    api.intercept = (req, res) => {
      if (req.url.pathname !== '/stuck') return false;
      sendJson(res, 200, { items: [{ id: 1 }], next: 'same' });
      return true;
    };
    const stream = await onlyStream(
      config({ path: '/stuck', recordsPath: 'items', pagination: { type: 'cursor', cursorPath: 'next' } }),
    );

    const error = await rejection(readStream(stream));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('did not advance');
    expect(error.message).toContain('streams[0].pagination');
    expect(api.hits('/stuck')).toHaveLength(2);
  });

  it('refuses to send credentials to a next link on another origin', async () => {
    api.intercept = (req, res) => {
      if (req.url.pathname !== '/away') return false;
      sendJson(res, 200, { items: [{ id: 1 }], next: 'http://127.0.0.2:9/steal' });
      return true;
    };
    const stream = await onlyStream(
      config(
        { path: '/away', recordsPath: 'items', pagination: { type: 'nextUrl', nextUrlPath: 'next' } },
        { auth: { type: 'bearer', token: 'tok_secret_123' } },
      ),
    );

    const error = await rejection(readStream(stream));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('another origin');
    expect(api.hits('/away')).toHaveLength(1);
  });
});

describe('rest pagination helpers', () => {
  it('parses Link headers with several relations, quoted values and commas in URLs', () => {
    const links = parseLinkHeader(
      '<https://api.test/items?page=2&f=a,b>; rel="next prefetch"; title="a, b; c", <https://api.test/items?page=9>; rel=last',
    );

    expect(links).toEqual([
      {
        url: 'https://api.test/items?page=2&f=a,b',
        rel: ['next', 'prefetch'],
        params: { rel: 'next prefetch', title: 'a, b; c' },
      },
      { url: 'https://api.test/items?page=9', rel: ['last'], params: { rel: 'last' } },
    ]);
    expect(parseLinkHeader(null)).toEqual([]);
  });

  it('selects values by dotted path, array indexes included', () => {
    const body = { data: { items: [{ id: 1 }], pages: [{ next: 'x' }] }, nil: null };

    expect(valueAt(body, 'data.items')).toEqual([{ id: 1 }]);
    expect(valueAt(body, 'data.pages.0.next')).toBe('x');
    expect(valueAt(body, '')).toBe(body);
    expect(valueAt(body, 'nil')).toBeNull();
    expect(valueAt(body, 'data.missing')).toBe(MISSING);
  });

  it('stops page-number pagination at an empty page even when a page size is set', () => {
    const paginator = createPaginator({
      type: 'page',
      pageParam: 'p',
      startPage: 0,
      pageSizeParam: 'n',
      pageSize: 2,
      stopOnEmptyPage: true,
      stopOnShortPage: false,
    });
    const base = new URL('http://api.test/x?a=1');
    const first = paginator.url(base, paginator.start);
    const page = (count: number) => ({ url: first, headers: new Headers(), body: {}, count });

    expect(first.search).toBe('?a=1&n=2&p=0');
    const next = paginator.next(page(1), paginator.start);
    expect(next).toBe(1);
    expect(paginator.url(base, next!).searchParams.get('p')).toBe('1');
    expect(paginator.next(page(0), 1)).toBeUndefined();
  });

  it('keeps no state: the same page and token always give the same next token', () => {
    const paginator = createPaginator({
      type: 'offset',
      offsetParam: 'offset',
      pageSizeParam: 'limit',
      pageSize: 5,
      stopOnEmptyPage: true,
      stopOnShortPage: true,
    });
    const page = { url: new URL('http://api.test/x'), headers: new Headers(), body: {}, count: 5 };

    expect(paginator.next(page, 10)).toBe(15);
    expect(paginator.next(page, 10)).toBe(15);
    expect(paginator.next({ ...page, count: 3 }, 15)).toBeUndefined();
  });
});
