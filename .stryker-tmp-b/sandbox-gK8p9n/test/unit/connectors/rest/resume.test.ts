// @ts-nocheck
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RestConfig, RestStreamConfig } from '../../../../connectors/rest/index.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import { ResumeUnavailableError } from '../../../../connectors/sdk/types.js';
import { readInSlices, readPiece } from '../../../support/resume.js';
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

function config(stream: Omit<RestStreamConfig, 'name'>): RestConfig {
  return { baseUrl: api.url, streams: [{ name: 'items', primaryKey: ['id'], ...stream }] };
}

const incremental = {
  cursorField: 'updated_at',
  initialValue: '2026-01-01T00:00:00Z',
  requestParam: 'updated_since',
} as const;

const styles: Record<string, Omit<RestStreamConfig, 'name'>> = {
  page: {
    path: '/page/items',
    recordsPath: 'data.items',
    pagination: { type: 'page', pageSizeParam: 'per_page', pageSize: 5 },
  },
  offset: { path: '/offset/items', recordsPath: 'results', pagination: { type: 'offset', pageSize: 5 } },
  cursor: {
    path: '/cursor/items',
    recordsPath: 'items',
    pagination: { type: 'cursor', cursorPath: 'meta.next_cursor', hasMorePath: 'meta.has_more' },
  },
  nextUrl: {
    path: '/next/items',
    recordsPath: 'results',
    pagination: { type: 'nextUrl', nextUrlPath: 'links.next' },
  },
  link: { path: '/link/items', recordsPath: '', pagination: { type: 'link' } },
};

describe('rest: reading a stream in slices', () => {
  it.each(Object.keys(styles))(
    'reads in pieces of 1 and 2 pages exactly what one read gets (%s pagination, incremental window)',
    async (style) => {
      // Prepare
      const stream = await onlyStream(config({ ...styles[style]!, incremental }));
      const since = '2026-01-01T00:02:00.000Z';
      const whole = await readStream(stream, { since });

      // Act
      const byOne = await readInSlices(stream, 1, { since });
      const byTwo = await readInSlices(stream, 2, { since });

      // Assess
      expect(whole.map((r) => r.id)).toEqual(Array.from({ length: 19 }, (_, i) => i + 5));
      expect(byOne.records).toEqual(whole);
      expect(byTwo.records).toEqual(whole);
      expect(byOne.slices).toBeGreaterThanOrEqual(4);
      // Every request, resumed ones included, carried the window the read started with.
      expect(api.requests.every((r) => r.url.searchParams.get('updated_since') === since)).toBe(true);
    },
  );

  it('resumes a one-request stream after its page as finished, without asking again', async () => {
    const stream = await onlyStream(config({ path: '/link/items', recordsPath: '' }));
    const first = await readPiece(stream, { stopAtCheckpoint: 1 });
    api.requests.length = 0;

    const rest = await readPiece(stream, { resumeFrom: first.stoppedAt! });

    expect(first.records).toHaveLength(5);
    expect(first.stoppedAt).toMatchObject({ style: 'none', done: true });
    expect(rest.records).toEqual([]);
    expect(api.requests).toHaveLength(0);
  });

  it('keeps the window of the position when the engine passes a later since (cursor advanced)', async () => {
    const stream = await onlyStream(config({ ...styles.offset!, incremental }));
    const whole = await readStream(stream);
    const first = await readPiece(stream, { stopAtCheckpoint: 2 });
    api.requests.length = 0;

    const rest = await readPiece(stream, {
      resumeFrom: first.stoppedAt!,
      since: String(first.records.at(-1)!.updated_at),
    });

    expect([...first.records, ...rest.records]).toEqual(whole);
    expect(api.requests[0]!.url.searchParams.get('updated_since')).toBe('2026-01-01T00:00:00.000Z');
    expect(api.requests[0]!.url.searchParams.get('offset')).toBe('10');
  });

  it('declares cursor-ascending only when the config says the API sorts by the cursor', async () => {
    const sorted = await onlyStream(
      config({ ...styles.page!, incremental: { ...incremental, sortedByCursor: true } }),
    );
    const plain = await onlyStream(config({ ...styles.page!, incremental }));

    expect(sorted.order).toBe('cursor-ascending');
    expect(plain.order).toBe('unordered');
  });

  it('fails a sortedByCursor stream whose API returns a cursor below an earlier one', async () => {
    api.intercept = (req, res, self) => {
      if (req.url.pathname !== '/offset/items') return false;
      const offset = Number(req.url.searchParams.get('offset'));
      // The second page comes from the start again: its cursors go back in time.
      const items = self.items.slice(offset === 0 ? 0 : offset - 5, offset === 0 ? 5 : offset);
      sendJson(res, 200, { results: offset >= 10 ? [] : items });
      return true;
    };
    const stream = await onlyStream(
      config({ ...styles.offset!, incremental: { ...incremental, sortedByCursor: true } }),
    );

    const error = await rejection(readStream(stream));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('declares "streams[0].incremental.sortedByCursor"');
    expect(error.message).toContain('"2026-01-01T00:00:00.000Z" after "2026-01-01T00:02:00.000Z"');
  });
});

describe('rest: positions that cannot be resumed', () => {
  it('throws ResumeUnavailableError naming stream and position when the API refuses an expired token', async () => {
    // Tokens expire: the API answers 410 for any token issued before `expiredBefore`.
    let generation = 1;
    api.intercept = (req, res) => {
      if (req.url.pathname !== '/tokens') return false;
      const token = req.url.searchParams.get('cursor');
      const [gen, at] = token ? token.split(':').map(Number) : [generation, 0];
      if (gen !== generation) {
        sendJson(res, 410, { error: 'cursor expired' });
        return true;
      }
      const items = api.items.slice(at!, at! + 5);
      const next = at! + 5 < api.items.length ? `${generation}:${at! + 5}` : null;
      sendJson(res, 200, { items, next });
      return true;
    };
    const stream = await onlyStream(
      config({ path: '/tokens', recordsPath: 'items', pagination: { type: 'cursor', cursorPath: 'next' } }),
    );
    const first = await readPiece(stream, { stopAtCheckpoint: 2 });
    generation = 2;

    const error = await rejection(readPiece(stream, { resumeFrom: first.stoppedAt! }));

    expect(first.stoppedAt).toEqual({ style: 'cursor', since: null, next: '1:10' });
    expect(error).toBeInstanceOf(ResumeUnavailableError);
    expect(error.message).toContain(
      'stream "items" cannot resume from {"style":"cursor","since":null,"next":"1:10"}',
    );
    expect(error.message).toContain('returned 410');
    expect(error.cause).toBeInstanceOf(ConfigError);
  });

  it('keeps a 401 on a resumed request a credentials problem, not an unavailable position', async () => {
    const stream = await onlyStream(config(styles.offset!));
    const first = await readPiece(stream, { stopAtCheckpoint: 1 });
    api.intercept = (_req, res) => {
      sendJson(res, 401, { error: 'who are you' });
      return true;
    };

    const error = await rejection(readPiece(stream, { resumeFrom: first.stoppedAt! }));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(ResumeUnavailableError);
  });

  it('throws ResumeUnavailableError for a position written under another pagination config', async () => {
    const offset = await onlyStream(config(styles.offset!));
    const first = await readPiece(offset, { stopAtCheckpoint: 1 });
    const paged = await onlyStream(config(styles.page!));
    api.requests.length = 0;

    const error = await rejection(readPiece(paged, { resumeFrom: first.stoppedAt! }));

    expect(error).toBeInstanceOf(ResumeUnavailableError);
    expect(error.message).toContain('does not fit "streams[0].pagination" (page)');
    expect(api.requests).toHaveLength(0);
  });
});

describe('rest: positions hold no secrets', () => {
  it('drops an API key sent as a query parameter from next-URL positions, and still sends it on resume', async () => {
    api.intercept = (req, res) => {
      if (req.url.pathname !== '/keyed') return false;
      if (req.url.searchParams.get('api_key') !== 'key_secret_42') {
        sendJson(res, 401, { error: 'no key' });
        return true;
      }
      const after = Number(req.url.searchParams.get('after') ?? 0);
      const next = new URL(req.url.href);
      next.searchParams.set('after', String(after + 5));
      const items = api.items.slice(after, after + 5);
      // The API echoes the key in its next link, as some do.
      sendJson(res, 200, { items, next: after + 5 < api.items.length ? next.href : null });
      return true;
    };
    const stream = await onlyStream({
      ...config({
        path: '/keyed',
        recordsPath: 'items',
        pagination: { type: 'nextUrl', nextUrlPath: 'next' },
      }),
      auth: { type: 'apiKey', name: 'api_key', apiKey: 'key_secret_42', in: 'query' },
    });
    const whole = await readStream(stream);

    const sliced = await readInSlices(stream, 1);
    const first = await readPiece(stream, { stopAtCheckpoint: 1 });

    expect(sliced.records).toEqual(whole);
    expect(whole).toHaveLength(23);
    expect(JSON.stringify(first.stoppedAt)).not.toContain('key_secret_42');
    expect(first.stoppedAt).toMatchObject({ style: 'nextUrl', next: expect.stringContaining('after=5') });
  });
});
