/**
 * The REST and PostgreSQL connectors through the real `sluice` CLI, against
 * real servers (a local node:http API, a throwaway PostgreSQL): each source
 * syncs twice, the second run incremental, with exact counts from the query
 * engine. Secrets must stay in the secret store: never in `sources show`,
 * the state files or anywhere else in the home.
 */
// @ts-nocheck

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addSource,
  cliOk,
  fileCount,
  filesContaining,
  landedItemVersions,
  latestRunSlices,
  query,
  sync,
  tableRows,
  versionsShown,
} from '../support/connectors-cli.js';
import { connectTo, type PostgresServer, startPostgres } from '../support/postgres.js';
import { BASE_TIME, ItemsApi, makeItems, sendJson } from '../unit/connectors/rest/fixtures/api.js';

let home: string;
/** Homes of the tiny-slice tests: one synced in one slice per run, one in slices of a few rows. */
let oneSliceHome: string;
let tinySliceHome: string;
/** Slices of at most this many rows: every slice ends after one page or chunk. */
const TINY_SLICE = ['--slice-rows', '7'];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-connectors-cli-'));
  oneSliceHome = await mkdtemp(join(tmpdir(), 'sluice-one-slice-'));
  tinySliceHome = await mkdtemp(join(tmpdir(), 'sluice-tiny-slices-'));
});

afterAll(async () => {
  await Promise.all(
    [home, oneSliceHome, tinySliceHome].map((dir) => rm(dir, { recursive: true, force: true })),
  );
});

/** Registers the same source in both tiny-slice homes. */
async function addToBoth(definition: Record<string, unknown>): Promise<void> {
  await addSource(oneSliceHome, definition);
  await addSource(tinySliceHome, definition);
}

/** Secrets may only be in `<home>/secrets/`; the state directory must hold files and none with the secret. */
async function expectOnlyInSecretStore(secret: string): Promise<void> {
  expect(await fileCount(join(home, 'state'))).toBeGreaterThan(0);
  expect(await filesContaining(join(home, 'state'), secret)).toEqual([]);
  const everywhere = await filesContaining(home, secret);
  expect(everywhere).toHaveLength(1);
  expect(everywhere[0]).toMatch(/^secrets\//);
}

describe('rest source through the CLI', () => {
  const N = 500;
  const token = `sk_test_${randomBytes(16).toString('hex')}`;
  const api = new ItemsApi(makeItems(N));
  const minutes = (n: number): string => new Date(BASE_TIME + n * 60_000).toISOString();

  beforeAll(async () => {
    await api.start();
    // Only the bearer token opens the API, so a landed row proves the secret was resolved.
    api.intercept = (req, res) => {
      if (req.headers.authorization === `Bearer ${token}`) return false;
      sendJson(res, 401, { error: 'invalid_token' });
      return true;
    };
  });

  afterAll(async () => {
    await api.stop();
  });

  it('syncs a paginated API twice, the second run landing only the new and updated records', async () => {
    // Prepare: 500 items in pairs sharing updated_at (the last pair, ids 499 and 500, at minute 249).
    await addSource(home, {
      name: 'api',
      type: 'rest',
      config: {
        baseUrl: api.url,
        auth: { type: 'bearer', token },
        maxAttempts: 2,
        backoffInitialMs: 10,
        streams: [
          {
            name: 'items',
            path: '/page/items',
            recordsPath: 'data.items',
            primaryKey: ['id'],
            pagination: { type: 'page', pageSizeParam: 'per_page', pageSize: 50 },
            incremental: {
              cursorField: 'updated_at',
              initialValue: '2025-01-01T00:00:00Z',
              requestParam: 'updated_since',
            },
          },
        ],
      },
    });

    // Act: first sync
    const shownAtFirst = [...api.items];
    const first = await sync(home, 'api');
    const landedAfterFirst = await landedItemVersions(home, 'api.items');
    const firstRequests = api.hits('/page/items').length;
    const [afterFirst] = await query<{ n: number; ids: number }>(
      home,
      'SELECT count(*) AS n, count(DISTINCT id) AS ids FROM api.items',
    );

    // Assess
    expect(first.status, first.text).toBe('SUCCEEDED');
    expect(first.streams.items).toEqual({ sync: 'full', rows: N, skipped: 0 });
    expect(firstRequests).toBe(N / 50 + 1); // ten full pages, then an empty one
    expect(afterFirst).toEqual({ n: N, ids: N });
    expect(landedAfterFirst).toEqual(versionsShown([shownAtFirst]));

    // Prepare: 120 new items after the cursor, one new item at exactly the committed cursor
    // (a tie across runs), and 30 existing items updated with a newer cursor.
    const added = makeItems(120, N + 1);
    const tie = { id: 10_001, name: 'late tie', updated_at: minutes(249) };
    const updatedIds = new Set(Array.from({ length: 30 }, (_, i) => 101 + i));
    api.items = [
      ...api.items.map((item) =>
        updatedIds.has(item.id) ? { ...item, name: `${item.name} v2`, updated_at: minutes(10_000) } : item,
      ),
      ...added,
      tie,
    ];
    const M = added.length + 1 + updatedIds.size;
    const before = api.requests.length;

    // Act: second sync
    const shownAtSecond = [...api.items];
    const second = await sync(home, 'api');
    const landedAfterSecond = await landedItemVersions(home, 'api.items');
    const secondRequests = api.requests.slice(before);
    const [afterSecond] = await query<{ n: number; ids: number; v2: number; tie: number }>(
      home,
      `SELECT count(*) AS n, count(DISTINCT id) AS ids,
              count(*) FILTER (WHERE name LIKE '% v2') AS v2, count(*) FILTER (WHERE id = 10001) AS tie
         FROM api.items`,
    );

    // Assess: the committed pair (499, 500) is re-sent at the inclusive cursor and dropped.
    expect(second.status, second.text).toBe('SUCCEEDED');
    expect(second.streams.items).toEqual({ sync: 'incremental', rows: M, skipped: 2 });
    expect(secondRequests[0]?.url.searchParams.get('updated_since')).toBe(minutes(249));
    expect(afterSecond).toEqual({ n: N + M, ids: N + added.length + 1, v2: updatedIds.size, tie: 1 });
    // Against the server's own ground truth, version by version, duplicates kept
    expect(landedAfterSecond).toEqual(versionsShown([shownAtFirst, shownAtSecond]));
  });

  it('lands, run after run, the same rows in tiny slices as in one slice, each page requested once', async () => {
    // Prepare: an API sorted by cursor, walked by page number within the run's window
    const sorted = new ItemsApi(makeItems(300));
    await sorted.start();
    try {
      await addToBoth({
        name: 'sorted_api',
        type: 'rest',
        config: {
          baseUrl: sorted.url,
          maxAttempts: 2,
          backoffInitialMs: 10,
          streams: [
            {
              name: 'items',
              path: '/page/items',
              recordsPath: 'data.items',
              primaryKey: ['id'],
              pagination: { type: 'page', pageSizeParam: 'per_page', pageSize: 25 },
              incremental: {
                cursorField: 'updated_at',
                initialValue: '2025-01-01T00:00:00Z',
                requestParam: 'updated_since',
                sortedByCursor: true,
              },
            },
          ],
        },
      });
      const requests: number[] = [];
      const syncBoth = async (): Promise<void> => {
        for (const [target, args] of [
          [oneSliceHome, []],
          [tinySliceHome, TINY_SLICE],
        ] as const) {
          const before = sorted.requests.length;
          const report = await sync(target, 'sorted_api', args);
          expect(report.status, report.text).toBe('SUCCEEDED');
          requests.push(sorted.requests.length - before);
        }
      };

      // Act: a first run, then one after new items, a tie at the committed cursor and updates
      await syncBoth();
      const firstSlices = await latestRunSlices(tinySliceHome, 'sorted_api');
      sorted.items = [
        ...sorted.items.map((item) =>
          item.id % 10 === 0 ? { ...item, name: `${item.name} v2`, updated_at: minutes(5_000) } : item,
        ),
        ...makeItems(80, 301),
        { id: 10_001, name: 'late tie', updated_at: minutes(149) },
      ];
      await syncBoth();
      const secondSlices = await latestRunSlices(tinySliceHome, 'sorted_api');
      const [one, tiny] = await Promise.all([
        tableRows(oneSliceHome, 'sorted_api.items'),
        tableRows(tinySliceHome, 'sorted_api.items'),
      ]);

      // Assess: one page per slice, and the lakes equal row for row (300 + 80 new + 1 tie + 30 updated)
      expect(firstSlices).toBeGreaterThan(10);
      expect(secondSlices).toBeGreaterThan(3);
      expect(one).toHaveLength(300 + 80 + 1 + 30);
      expect(tiny).toEqual(one);
      expect(requests[1]).toBe(requests[0]);
      expect(requests[3]).toBe(requests[2]);
    } finally {
      await sorted.stop();
    }
  });

  it('keeps the bearer token out of `sources show`, the state files and the rest of the home', async () => {
    // Act
    const [shown, listed, runs] = await Promise.all([
      cliOk(['sources', 'show', 'api'], home),
      cliOk(['sources', 'list', '--json'], home),
      cliOk(['runs', 'api', '--json'], home),
    ]);

    // Assess
    expect((JSON.parse(shown.stdout) as { config: { auth: { type: string } } }).config.auth.type).toBe(
      'bearer',
    );
    for (const output of [shown, listed, runs]) {
      expect(output.stdout).not.toContain(token);
      expect(output.stderr).not.toContain(token);
    }
    await expectOnlyInSecretStore(token);
  });
});

describe('postgres source through the CLI', () => {
  let server: PostgresServer;
  let db: pg.Client;
  const T0 = '2026-01-01T00:00:00Z';
  /** The cursor value 600 rows share: the largest after the first fill. */
  const T1 = '2026-01-02T00:00:00Z';

  beforeAll(async () => {
    server = await startPostgres();
    db = await connectTo(server);
  });

  afterAll(async () => {
    await db?.end();
    await server?.stop();
  });

  it('syncs a table twice, the second run landing only inserted and updated rows, ties included', async () => {
    // Prepare: 900 rows with distinct cursors, then 600 rows sharing T1 (more than a chunk
    // and more than the engine keeps inline at a cursor value).
    await db.query(`
      CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
      CREATE INDEX ON items (updated_at, id);
      INSERT INTO items SELECT i, 'item ' || i, '${T0}'::timestamptz + i * interval '1 second'
        FROM generate_series(1, 900) AS i;
      INSERT INTO items SELECT i, 'item ' || i, '${T1}'::timestamptz FROM generate_series(901, 1500) AS i;
    `);
    await addSource(home, {
      name: 'shop_db',
      type: 'postgres',
      config: {
        host: server.host,
        port: server.port,
        database: server.database,
        user: server.user,
        password: server.password,
        ssl: { mode: 'disable' },
        tables: ['public.items'],
        chunkSize: 200,
      },
    });

    // Act: first sync
    const shownAtFirst = (await db.query('SELECT id, name, updated_at FROM items')).rows;
    const first = await sync(home, 'shop_db');
    const landedAfterFirst = await landedItemVersions(home, 'shop_db.public_items');
    const [afterFirst] = await query<{ n: number; ids: number; tied: number }>(
      home,
      `SELECT count(*) AS n, count(DISTINCT id) AS ids,
              count(*) FILTER (WHERE updated_at = TIMESTAMPTZ '${T1}') AS tied
         FROM shop_db.public_items`,
    );

    // Assess
    expect(first.status, first.text).toBe('SUCCEEDED');
    expect(first.streams.public_items).toEqual({ sync: 'full', rows: 1500, skipped: 0 });
    expect(afterFirst).toEqual({ n: 1500, ids: 1500, tied: 600 });
    expect(landedAfterFirst).toEqual(versionsShown([shownAtFirst]));

    // Prepare: 40 rows inserted at the committed cursor T1 (ties across runs), 100 rows after it,
    // and 25 existing rows updated to a newer cursor.
    await db.query(`
      INSERT INTO items SELECT i, 'item ' || i, '${T1}'::timestamptz FROM generate_series(1501, 1540) AS i;
      INSERT INTO items SELECT i, 'item ' || i, '${T1}'::timestamptz + (i - 1540) * interval '1 minute'
        FROM generate_series(1541, 1640) AS i;
      UPDATE items SET name = name || ' v2', updated_at = '${T1}'::timestamptz + interval '1 day'
        WHERE id BETWEEN 1 AND 25;
    `);

    // Act: second sync
    const shownAtSecond = (await db.query('SELECT id, name, updated_at FROM items')).rows;
    const second = await sync(home, 'shop_db');
    const landedAfterSecond = await landedItemVersions(home, 'shop_db.public_items');
    const [afterSecond] = await query<{ n: number; ids: number; tied: number; v2: number }>(
      home,
      `SELECT count(*) AS n, count(DISTINCT id) AS ids,
              count(*) FILTER (WHERE updated_at = TIMESTAMPTZ '${T1}') AS tied,
              count(*) FILTER (WHERE name LIKE '% v2') AS v2
         FROM shop_db.public_items`,
    );

    // Assess: the 600 rows at the committed T1 are read again and dropped, the 40 new ones kept.
    expect(second.status, second.text).toBe('SUCCEEDED');
    expect(second.streams.public_items).toEqual({ sync: 'incremental', rows: 165, skipped: 600 });
    expect(afterSecond).toEqual({ n: 1665, ids: 1640, tied: 640, v2: 25 });
    // Against the server's own ground truth, version by version, duplicates kept
    expect(landedAfterSecond).toEqual(versionsShown([shownAtFirst, shownAtSecond]));
  });

  it('lands, run after run, the same rows in tiny slices as in one slice', async () => {
    // Prepare: a keyed incremental table (cursor-ascending, ties across chunks) and a keyless full
    // load (unordered: its chunks stay staged until the table is read whole)
    await db.query(`
      CREATE TABLE sliced (id integer PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
      INSERT INTO sliced SELECT i, 'row ' || i, '${T0}'::timestamptz + (i / 3) * interval '1 second'
        FROM generate_series(1, 400) AS i;
      CREATE TABLE sliced_log (line text NOT NULL);
      INSERT INTO sliced_log SELECT 'line ' || i FROM generate_series(1, 120) AS i;
    `);
    await addToBoth({
      name: 'sliced_db',
      type: 'postgres',
      config: {
        host: server.host,
        port: server.port,
        database: server.database,
        user: server.user,
        password: server.password,
        ssl: { mode: 'disable' },
        tables: ['public.sliced', 'public.sliced_log'],
        chunkSize: 30,
      },
    });
    const syncBoth = async (): Promise<void> => {
      for (const [target, args] of [
        [oneSliceHome, []],
        [tinySliceHome, TINY_SLICE],
      ] as const) {
        const report = await sync(target, 'sliced_db', args);
        expect(report.status, report.text).toBe('SUCCEEDED');
      }
    };

    // Act: a first run, then one after inserts (some at the committed cursor) and updates
    await syncBoth();
    const firstSlices = await latestRunSlices(tinySliceHome, 'sliced_db');
    await db.query(`
      INSERT INTO sliced SELECT i, 'row ' || i, '${T0}'::timestamptz + (i / 3) * interval '1 second'
        FROM generate_series(401, 402) AS i;
      INSERT INTO sliced SELECT i, 'row ' || i, '${T1}'::timestamptz + i * interval '1 second'
        FROM generate_series(403, 460) AS i;
      UPDATE sliced SET name = name || ' v2', updated_at = '${T1}'::timestamptz + interval '1 day'
        WHERE id % 25 = 0 AND id <= 400;
      INSERT INTO sliced_log SELECT 'line ' || i FROM generate_series(121, 150) AS i;
    `);
    await syncBoth();
    const [one, tiny, oneLog, tinyLog] = await Promise.all([
      tableRows(oneSliceHome, 'sliced_db.public_sliced'),
      tableRows(tinySliceHome, 'sliced_db.public_sliced'),
      tableRows(oneSliceHome, 'sliced_db.public_sliced_log'),
      tableRows(tinySliceHome, 'sliced_db.public_sliced_log'),
    ]);

    // Assess: 400 + 2 ties + 58 new + 16 updated; the keyless table is loaded whole each run
    expect(firstSlices).toBeGreaterThan(10);
    expect(one).toHaveLength(400 + 2 + 58 + 16);
    expect(tiny).toEqual(one);
    expect(oneLog).toHaveLength(120 + 150);
    expect(tinyLog).toEqual(oneLog);
  });

  it('keeps the password out of `sources show`, the state files and the rest of the home', async () => {
    // Act
    const shown = await cliOk(['sources', 'show', 'shop_db'], home);

    // Assess
    expect(shown.stdout).toContain(`"user": "${server.user}"`);
    expect(shown.stdout).not.toContain(server.password);
    await expectOnlyInSecretStore(server.password);
  });
});
