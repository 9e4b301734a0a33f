import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type RestConfig,
  type RestIncrementalConfig,
  restConnector,
} from '../../../../connectors/rest/index.js';
import { compareCursor, cursorOf } from '../../../../connectors/sdk/cursor.js';
import { RetriesExhaustedError } from '../../../../connectors/sdk/errors.js';
import type { Connector, CursorValue, SourceRecord } from '../../../../connectors/sdk/types.js';
import type { RunRecord } from '../../../../engine/ports.js';
import { openTestLake } from '../../../support/lake.js';
import { BASE_TIME, ItemsApi, makeItems, sendJson } from './fixtures/api.js';
import { onlyStream, readStream, rejection } from './fixtures/read.js';

const api = new ItemsApi(makeItems(30));

beforeAll(async () => {
  await api.start();
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => {
  api.reset(makeItems(30));
});

const iso = (minutes: number): string => new Date(BASE_TIME + minutes * 60_000).toISOString();

function config(
  incremental: Partial<RestIncrementalConfig> = {},
  extra: Partial<RestConfig> = {},
): RestConfig {
  return {
    baseUrl: api.url,
    maxAttempts: 3,
    backoffInitialMs: 5,
    backoffMaxMs: 20,
    streams: [
      {
        name: 'items',
        path: '/page/items',
        recordsPath: 'data.items',
        primaryKey: ['id'],
        pagination: { type: 'page', pageSizeParam: 'per_page', pageSize: 5 },
        incremental: {
          cursorField: 'updated_at',
          initialValue: '2025-01-01T00:00:00Z',
          requestParam: 'updated_since',
          ...incremental,
        },
      },
    ],
    ...extra,
  };
}

/** One version of an item, as the server or the lake holds it: id, name, cursor instant. */
function versionOf(item: Record<string, unknown> | { id: number; name: string; updated_at: string }): string {
  const record = item as Record<string, unknown>;
  return `${Number(record.id)}|${String(record.name)}|${new Date(String(record.updated_at)).toISOString()}`;
}

function maxCursor(records: readonly SourceRecord[]): CursorValue | undefined {
  let max: CursorValue | undefined;
  for (const record of records) {
    const value = cursorOf(record, 'updated_at');
    if (value !== undefined && (max === undefined || compareCursor(value, max) > 0)) max = value;
  }
  return max;
}

describe('rest incremental reads', () => {
  it('declares the cursor, initial value and lag to the engine', async () => {
    const stream = await onlyStream(config({ lag: 90 }));

    expect(stream.incremental).toEqual({
      cursorField: 'updated_at',
      initialValue: '2025-01-01T00:00:00.000Z',
      lag: 90,
      cursorType: 'auto',
      onMissingCursor: 'land',
    });
    expect(stream.writeDisposition).toBe('merge');
  });

  it('converts the initial value and lag into the unit of unix cursors', async () => {
    const seconds = await onlyStream(config({ cursorFormat: 'unixSeconds', lag: 5 }));
    const millis = await onlyStream(
      config({ cursorFormat: 'unixMs', initialValue: '2026-01-01T00:00:00Z', lag: 5 }),
    );
    const numeric = await onlyStream(
      config({ cursorFormat: 'number', initialValue: '17', requestFormat: 'raw' }),
    );

    expect(seconds.incremental).toMatchObject({ initialValue: 1_735_689_600, lag: 5 });
    expect(millis.incremental).toMatchObject({ initialValue: BASE_TIME, lag: 5000 });
    expect(numeric.incremental).toMatchObject({ initialValue: 17, lag: 0 });
  });

  it('sends the initial value as the request parameter on the first sync', async () => {
    const stream = await onlyStream(config());

    const records = await readStream(stream, { since: undefined });

    expect(records).toHaveLength(30);
    expect(api.requests[0]!.url.searchParams.get('updated_since')).toBe('2025-01-01T00:00:00.000Z');
    // The parameter goes with every page.
    expect(
      api.requests.every((r) => r.url.searchParams.get('updated_since') === '2025-01-01T00:00:00.000Z'),
    ).toBe(true);
  });

  it('sends ctx.since (inclusive) and returns the records at or after it, ties included', async () => {
    const stream = await onlyStream(config());

    const records = await readStream(stream, { since: iso(10) });

    // Items 21 and 22 share minute 10.
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    expect(api.requests[0]!.url.searchParams.get('updated_since')).toBe(iso(10));
  });

  it('formats the request parameter as unix seconds or a date when asked', async () => {
    const seconds = await onlyStream(config({ requestFormat: 'unixSeconds' }));
    const dates = await onlyStream(config({ requestFormat: 'date' }));

    const fromSeconds = await readStream(seconds, { since: iso(10) });
    const secondsParam = api.requests[0]!.url.searchParams.get('updated_since');
    api.reset();
    await readStream(dates, { since: '2026-01-01T00:10:00.000Z' });
    const dateParam = api.requests[0]!.url.searchParams.get('updated_since');

    expect(secondsParam).toBe(String((BASE_TIME + 600_000) / 1000));
    expect(fromSeconds).toHaveLength(10);
    expect(dateParam).toBe('2026-01-01');
  });

  it('drops records before since when the API ignores the parameter (client-side guard)', async () => {
    api.honoursSince = false;
    const stream = await onlyStream(config());

    const records = await readStream(stream, { since: iso(10) });

    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    // It still had to walk every page.
    expect(api.requests).toHaveLength(7);
  });

  it('guards unix-second cursors numerically, also when the API sends them as text', async () => {
    const times = [100, 99, '1000', 101, 5];
    api.intercept = (req, res) => {
      if (req.url.pathname !== '/unix') return false;
      sendJson(
        res,
        200,
        times.map((t, i) => ({ id: i, updated: t })),
      );
      return true;
    };
    const stream = await onlyStream({
      baseUrl: api.url,
      streams: [
        {
          name: 'events',
          path: '/unix',
          primaryKey: ['id'],
          incremental: {
            cursorField: 'updated',
            cursorFormat: 'unixSeconds',
            initialValue: '0',
            requestParam: 'since',
            requestFormat: 'iso8601',
          },
        },
      ],
    });

    const records = await readStream(stream, { since: 100 });

    expect(records.map((r) => r.id)).toEqual([0, 2, 3]);
    expect(api.requests[0]!.url.searchParams.get('since')).toBe('1970-01-01T00:01:40.000Z');
  });

  it('re-reads from the committed cursor, inclusively, exactly what the server holds from there', async () => {
    // Prepare: page 4 fails with 500 on every attempt during the first read.
    let broken = true;
    api.intercept = (req, res) => {
      if (!broken || req.url.searchParams.get('page') !== '4') return false;
      sendJson(res, 500, { error: 'database unavailable' });
      return true;
    };
    const stream = await onlyStream(config());
    const firstRead: SourceRecord[] = [];

    // Act: the first read fails midway; the second starts from the highest cursor the first one saw.
    const error = await rejection(readStream(stream, { onPage: (page) => firstRead.push(...page) }));
    const committed = maxCursor(firstRead);
    broken = false;
    api.requests.length = 0;
    const resumed = await readStream(stream, { since: committed });

    // Assess: the server's own answer from that cursor on, record by record, duplicates kept
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.message).toContain('gave up after 3 attempts');
    expect(firstRead.map((r) => r.id)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    // Item 15 and 16 share a cursor: the inclusive re-read finds 16, which the first read never reached.
    expect(committed).toBe(iso(7));
    expect(api.requests[0]!.url.searchParams.get('updated_since')).toBe(iso(7));
    const serverFromCursor = api.items.filter((item) => item.updated_at >= iso(7));
    expect(resumed.map(versionOf)).toEqual(serverFromCursor.map(versionOf));
  });

  it('lands every version the server showed exactly once through the engine, across a failed sync', async () => {
    // Prepare: a local lake with the rest source; page 4 fails on every attempt during the first sync.
    const now = new Date().toISOString();
    const restConfig = config();
    const lake = await openTestLake(
      { name: 'api', type: 'rest', config: { ...restConfig }, createdAt: now, updatedAt: now },
      restConnector as Connector<never>,
      restConfig,
    );
    const shown: string[][] = [];
    const sync = async (): Promise<RunRecord> => {
      const snapshot = api.items.map(versionOf);
      const run = await lake.sync({ maxStreamAttempts: 1 });
      shown.push(snapshot);
      return run;
    };
    let broken = true;
    api.intercept = (req, res) => {
      if (!broken || req.url.searchParams.get('page') !== '4') return false;
      sendJson(res, 500, { error: 'database unavailable' });
      return true;
    };

    try {
      // Act: a failed sync, its retry, then changes at and after the committed cursor and one more sync
      const failed = await rejection(sync());
      broken = false;
      const retry = await sync();
      const last = api.items.at(-1)!;
      api.items = [
        ...api.items.map((item) =>
          item.id <= 3 ? { ...item, name: `${item.name} v2`, updated_at: iso(100) } : item,
        ),
        { id: 31, name: 'tie at the committed cursor', updated_at: last.updated_at },
        { id: 32, name: 'new', updated_at: iso(101) },
      ];
      const third = await sync();
      const rows = await lake.query('SELECT id, name, updated_at FROM api.items');

      // Assess: every distinct version the server held at a successful sync, once each (no folding by id)
      expect(failed.message).toContain('database unavailable');
      expect(retry.status).toBe('SUCCEEDED');
      expect(third.status).toBe('SUCCEEDED');
      const expected = [...new Set(shown.flat())].sort();
      expect(rows.map(versionOf).sort()).toEqual(expected);
      expect(expected).toHaveLength(30 + 3 + 2);
    } finally {
      await lake.dispose();
    }
  });
});

describe('rest incremental cursors through the engine', () => {
  /** Records the test sets, served at /events filtered by `since` as numbers (as an API would). */
  let events: Record<string, unknown>[] = [];

  beforeEach(() => {
    events = [];
    api.intercept = (req, res) => {
      if (req.url.pathname !== '/events') return false;
      const since = Number(req.url.searchParams.get('since') ?? Number.NEGATIVE_INFINITY);
      sendJson(
        res,
        200,
        events.filter((e) => e.seq === null || e.seq === undefined || Number(e.seq) >= since),
      );
      return true;
    };
  });

  function eventsConfig(incremental: Partial<RestIncrementalConfig>): RestConfig {
    return {
      baseUrl: api.url,
      streams: [
        {
          name: 'events',
          path: '/events',
          primaryKey: ['id'],
          incremental: { cursorField: 'seq', initialValue: '0', requestParam: 'since', ...incremental },
        },
      ],
    };
  }

  async function eventsLake(incremental: Partial<RestIncrementalConfig>) {
    const now = new Date().toISOString();
    const restConfig = eventsConfig(incremental);
    return openTestLake(
      { name: 'api', type: 'rest', config: { ...restConfig }, createdAt: now, updatedAt: now },
      restConnector as Connector<never>,
      restConfig,
    );
  }

  it('lands the next sync\'s records when a number cursor comes as JSON strings ("10" after "9")', async () => {
    // Prepare
    const lake = await eventsLake({ cursorFormat: 'number' });
    events = [8, 9].map((n) => ({ id: `a${n}`, seq: String(n) }));

    try {
      // Act
      const first = await lake.sync();
      events.push(...[10, 11, 12].map((n) => ({ id: `a${n}`, seq: String(n) })));
      const second = await lake.sync();
      const rows = await lake.query('SELECT id, seq FROM api.events ORDER BY id');
      const { cursor } = await lake.backend.state.getCursor('api', 'events');

      // Assess: the new records land once, with the API's values unchanged; the cursor moves to 12
      expect(first.status).toBe('SUCCEEDED');
      expect(second.status).toBe('SUCCEEDED');
      expect(second.streams.events!.rows).toBe(3);
      expect(rows).toEqual(['a10', 'a11', 'a12', 'a8', 'a9'].map((id) => ({ id, seq: id.slice(1) })));
      expect(cursor?.value).toBe(12);
    } finally {
      await lake.dispose();
    }
  });

  it('lands a number cursor of JSON integers beyond 2^53 exactly, where JSON.parse would make them one value', async () => {
    // Prepare: ids two apart at 2^62, sent as JSON numbers and filtered by the API as 64-bit integers.
    const base = 2n ** 62n;
    let seqs: bigint[] = [base + 1n, base + 3n];
    api.intercept = (req, res) => {
      if (req.url.pathname !== '/events') return false;
      const since = BigInt(req.url.searchParams.get('since') ?? '0');
      const body = seqs.filter((n) => n >= since).map((n) => `{"id": "e${n}", "seq": ${n}}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`[${body.join(',')}]`);
      return true;
    };
    const lake = await eventsLake({ cursorFormat: 'number' });

    try {
      // Act
      const first = await lake.sync();
      seqs = [...seqs, base + 2n, base + 5n];
      const second = await lake.sync();
      const rows = await lake.query('SELECT CAST(seq AS VARCHAR) AS seq FROM api.events ORDER BY seq');
      const { cursor } = await lake.backend.state.getCursor('api', 'events');

      // Assess: base + 2 came after the cursor (base + 3) and is not read; base + 5 lands; nothing twice.
      expect(first.streams.events!.rows).toBe(2);
      expect(second.streams.events!.rows).toBe(1);
      expect(rows.map((r) => r.seq)).toEqual([base + 1n, base + 3n, base + 5n].map(String));
      expect(String(cursor?.value)).toBe(String(base + 5n));
    } finally {
      await lake.dispose();
    }
  });

  it('orders a cursor committed as the string "9" numerically when the next sync reads "10"', async () => {
    // Prepare: the first sync committed 9; an older version committed such cursors as text.
    const lake = await eventsLake({ cursorFormat: 'number' });
    events = [8, 9].map((n) => ({ id: `a${n}`, seq: String(n) }));

    try {
      await lake.sync();
      const { cursor, version } = await lake.backend.state.getCursor('api', 'events');
      await lake.backend.state.commitCursor('api', 'events', version, { ...cursor!, value: '9' });
      events.push(...[10, 11].map((n) => ({ id: `a${n}`, seq: String(n) })));

      // Act
      const second = await lake.sync();
      const rows = await lake.query('SELECT id FROM api.events ORDER BY id');

      // Assess: 9 is not landed again (tie key), 10 and 11 land
      expect(second.status).toBe('SUCCEEDED');
      expect(second.streams.events!.rows).toBe(2);
      expect(rows.map((r) => r.id)).toEqual(['a10', 'a11', 'a8', 'a9']);
    } finally {
      await lake.dispose();
    }
  });

  it('lands records without a cursor value and moves the cursor only by the others', async () => {
    // Prepare: one record with a null cursor, one without the field.
    const lake = await eventsLake({ cursorFormat: 'number' });
    events = [{ id: 'a1', seq: 1 }, { id: 'n1', seq: null }, { id: 'n2' }, { id: 'a2', seq: 2 }];

    try {
      // Act
      const run = await lake.sync();
      const rows = await lake.query('SELECT id FROM api.events ORDER BY id');
      const { cursor } = await lake.backend.state.getCursor('api', 'events');

      // Assess
      expect(run.status).toBe('SUCCEEDED');
      expect(rows.map((r) => r.id)).toEqual(['a1', 'a2', 'n1', 'n2']);
      expect(cursor?.value).toBe(2);
    } finally {
      await lake.dispose();
    }
  });

  it('lands records whose number cursor is unreadable text, moving the cursor only by numbers', async () => {
    // Prepare: an empty string (no number), and an exponent form (a number).
    const lake = await eventsLake({ cursorFormat: 'number' });
    events = [
      { id: 'a1', seq: 1 },
      { id: 'blank', seq: '' },
      { id: 'exp', seq: '1.5e1' },
    ];

    try {
      // Act
      const run = await lake.sync();
      const rows = await lake.query('SELECT id FROM api.events ORDER BY id');
      const { cursor } = await lake.backend.state.getCursor('api', 'events');

      // Assess
      expect(run.status).toBe('SUCCEEDED');
      expect(rows.map((r) => r.id)).toEqual(['a1', 'blank', 'exp']);
      expect(cursor?.value).toBe(15);
    } finally {
      await lake.dispose();
    }
  });

  it('lands records without a cursor value in a sortedByCursor stream without failing the order check', async () => {
    // Prepare
    const lake = await eventsLake({ cursorFormat: 'number', sortedByCursor: true });
    events = [
      { id: 'a1', seq: 1 },
      { id: 'n1', seq: null },
      { id: 'a2', seq: 2 },
    ];

    try {
      // Act
      const run = await lake.sync();
      const rows = await lake.query('SELECT id FROM api.events ORDER BY id');

      // Assess
      expect(run.status).toBe('SUCCEEDED');
      expect(rows.map((r) => r.id)).toEqual(['a1', 'a2', 'n1']);
    } finally {
      await lake.dispose();
    }
  });

  it('asks for an integer when a fractional lag lowers a unixSeconds cursor', async () => {
    // Prepare
    const lake = await eventsLake({ cursorFormat: 'unixSeconds', lag: 1.5 });
    events = [{ id: 'a1', seq: 1_767_225_600 }];

    try {
      // Act
      await lake.sync();
      api.requests.length = 0;
      const second = await lake.sync();

      // Assess: 1767225600 − 1.5 s, rounded down
      expect(second.status).toBe('SUCCEEDED');
      expect(api.requests[0]!.url.searchParams.get('since')).toBe('1767225598');
    } finally {
      await lake.dispose();
    }
  });
});
