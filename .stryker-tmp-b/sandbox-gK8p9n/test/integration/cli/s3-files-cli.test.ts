/**
 * The s3-files connector through the real `sluice` CLI against the S3
 * emulator the integration setup started (AWS_ENDPOINT_URL): two syncs, the
 * second incremental, with exact counts from the query engine. The secret
 * access key must stay in the secret store.
 */
// @ts-nocheck

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addSource,
  cliOk,
  fileCount,
  filesContaining,
  latestRunSlices,
  query,
  sync,
  tableRows,
} from '../../support/connectors-cli.js';
import {
  createBucket,
  emptyAndDeleteBucket,
  emulatorUrl,
  put,
  testClient,
  uniqueBucket,
} from '../connectors/s3-files/support.js';

const bucket = uniqueBucket('cli');
/** Any key works on the emulator; a distinctive one can be searched for in the home. */
const secretAccessKey = `s3secret${randomBytes(16).toString('hex')}`;
let client: S3Client;
let home: string;

const ORDERS_PER_FILE = 50;
const EVENTS_PER_FILE = 25;

function ordersCsv(file: number, version = 1): string {
  const lines = Array.from({ length: ORDERS_PER_FILE }, (_, i) => {
    const id = file * ORDERS_PER_FILE + i;
    return `${id},${(id * 1.5 * version).toFixed(2)},"note ${id}, v${version}"`;
  });
  return `order_id,amount,note\n${lines.join('\n')}\n`;
}

function eventsJsonl(file: number): string {
  return Array.from({ length: EVENTS_PER_FILE }, (_, i) =>
    JSON.stringify({ event_id: `${file}-${i}`, kind: i % 2 === 0 ? 'click' : 'view', at: file * 100 + i }),
  )
    .map((line) => `${line}\n`)
    .join('');
}

/** Both tables in one query (each CLI call costs a process start). */
const COUNTS = `
  SELECT o.*, e.* FROM
    (SELECT count(*) AS orders, count(DISTINCT _file_key) AS order_files, count(DISTINCT order_id) AS order_ids,
            count(*) FILTER (WHERE note LIKE '%, v2') AS v2
       FROM landing.orders) AS o,
    (SELECT count(*) AS events, count(DISTINCT event_id) AS event_ids FROM landing.events) AS e`;

const orderKey = (file: number): string => `landing/orders/2026/03/part-${String(file).padStart(3, '0')}.csv`;
const eventKey = (file: number): string => `landing/events/e-${String(file).padStart(3, '0')}.jsonl`;

beforeAll(async () => {
  client = testClient();
  await createBucket(client, bucket);
  home = await mkdtemp(join(tmpdir(), 'sluice-s3-files-cli-'));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await emptyAndDeleteBucket(client, bucket);
  client.destroy();
});

describe('s3-files source through the CLI', () => {
  it('is a registered connector type', async () => {
    const result = await cliOk(['connectors', '--json'], home);
    const types = (JSON.parse(result.stdout) as { type: string }[]).map((c) => c.type);
    expect(types).toContain('s3-files');
  });

  it('syncs CSV and JSON Lines files twice, the second run reading only new and replaced files', async () => {
    // Prepare: 6 CSV files (300 orders) and 4 JSON Lines files (100 events), put at once so many
    // share a LastModified second, plus a file outside both globs.
    for (let f = 0; f < 6; f++) await put(client, bucket, orderKey(f), ordersCsv(f));
    for (let f = 0; f < 4; f++) await put(client, bucket, eventKey(f), eventsJsonl(f));
    await put(client, bucket, 'landing/orders/README.txt', 'not data\n');
    await addSource(home, {
      name: 'landing',
      type: 's3-files',
      config: {
        bucket,
        prefix: 'landing',
        endpoint: emulatorUrl(),
        forcePathStyle: true,
        region: process.env.AWS_REGION ?? 'us-east-1',
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
        secretAccessKey,
        streams: [
          { name: 'orders', glob: 'orders/**/*.csv', format: 'csv' },
          { name: 'events', glob: 'events/*.jsonl', format: 'jsonl' },
        ],
      },
    });

    // Act: first sync
    const first = await sync(home, 'landing');
    const [counts1] = await query(home, COUNTS);

    // Assess
    expect(first.status, first.text).toBe('SUCCEEDED');
    expect(first.streams).toEqual({
      orders: { sync: 'full', rows: 300, skipped: 0 },
      events: { sync: 'full', rows: 100, skipped: 0 },
    });
    expect(counts1).toEqual({
      orders: 300,
      order_files: 6,
      order_ids: 300,
      v2: 0,
      events: 100,
      event_ids: 100,
    });

    // Prepare: 3 new CSV files, one CSV file replaced by a new version, 2 new JSON Lines files.
    for (let f = 6; f < 9; f++) await put(client, bucket, orderKey(f), ordersCsv(f));
    await put(client, bucket, orderKey(0), ordersCsv(0, 2));
    for (let f = 4; f < 6; f++) await put(client, bucket, eventKey(f), eventsJsonl(f));

    // Act: second sync
    const second = await sync(home, 'landing');
    const [counts2] = await query(home, COUNTS);

    // Assess: the replaced file lands again in full as a new version.
    expect(second.status, second.text).toBe('SUCCEEDED');
    expect(second.streams).toEqual({
      orders: { sync: 'incremental', rows: 200, skipped: 0 },
      events: { sync: 'incremental', rows: 50, skipped: 0 },
    });
    expect(counts2).toEqual({
      orders: 500,
      order_files: 9,
      order_ids: 450,
      v2: 50,
      events: 150,
      event_ids: 150,
    });
  });

  it('lands, run after run, the same rows in tiny slices as in one slice, maxFilesPerRun counting the whole run', async () => {
    // Prepare: a home synced in one slice per run and one in slices of at most 7 rows (every
    // slice ends after a page of 20 records), reading at most 4 files per run
    const homes = await Promise.all([
      mkdtemp(join(tmpdir(), 'sluice-s3-one-slice-')),
      mkdtemp(join(tmpdir(), 'sluice-s3-tiny-slices-')),
    ]);
    const [oneHome, tinyHome] = homes;
    const slicedKey = (file: number): string => `sliced/orders/part-${String(file).padStart(3, '0')}.csv`;
    try {
      for (let f = 0; f < 6; f++) await put(client, bucket, slicedKey(f), ordersCsv(f));
      for (let f = 0; f < 3; f++) await put(client, bucket, `sliced/events/e-${f}.jsonl`, eventsJsonl(f));
      const definition = {
        name: 'sliced',
        type: 's3-files',
        config: {
          bucket,
          prefix: 'sliced',
          endpoint: emulatorUrl(),
          forcePathStyle: true,
          region: process.env.AWS_REGION ?? 'us-east-1',
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
          secretAccessKey,
          maxFilesPerRun: 4,
          pageSize: 20,
          streams: [
            { name: 'orders', glob: 'orders/*.csv', format: 'csv' },
            { name: 'events', glob: 'events/*.jsonl', format: 'jsonl' },
          ],
        },
      };
      await addSource(oneHome!, definition);
      await addSource(tinyHome!, definition);
      const syncBoth = async (): Promise<void> => {
        for (const [target, args] of [
          [oneHome!, []],
          [tinyHome!, ['--slice-rows', '7']],
        ] as const) {
          const report = await sync(target, 'sliced', args);
          expect(report.status, report.text).toBe('SUCCEEDED');
        }
      };

      // Act: three runs, the bucket changing after the first (2 new files, one replaced)
      await syncBoth();
      const firstSlices = await latestRunSlices(tinyHome!, 'sliced');
      const [firstOrders] = await query<{ n: number }>(tinyHome!, 'SELECT count(*) AS n FROM sliced.orders');
      for (let f = 6; f < 8; f++) await put(client, bucket, slicedKey(f), ordersCsv(f));
      await put(client, bucket, slicedKey(1), ordersCsv(1, 2));
      await syncBoth();
      await syncBoth();
      const tables = await Promise.all(
        [oneHome!, tinyHome!].flatMap((h) => [tableRows(h, 'sliced.orders'), tableRows(h, 'sliced.events')]),
      );

      // Assess: 4 files in the first run however many slices it took; then every file and the
      // replaced one again; the lakes equal row for row
      expect(firstSlices).toBeGreaterThan(10);
      expect(firstOrders).toEqual({ n: 4 * ORDERS_PER_FILE });
      expect(tables[0]).toHaveLength(9 * ORDERS_PER_FILE);
      expect(tables[2]).toEqual(tables[0]);
      expect(tables[1]).toHaveLength(3 * EVENTS_PER_FILE);
      expect(tables[3]).toEqual(tables[1]);
    } finally {
      await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
    }
  });

  it('keeps the secret access key out of `sources show`, the state files and the rest of the home', async () => {
    // Act
    const shown = await cliOk(['sources', 'show', 'landing'], home);

    // Assess
    expect(shown.stdout).toContain(`"bucket": "${bucket}"`);
    expect(shown.stdout).not.toContain(secretAccessKey);
    expect(await fileCount(join(home, 'state'))).toBeGreaterThan(0);
    expect(await filesContaining(join(home, 'state'), secretAccessKey)).toEqual([]);
    const everywhere = await filesContaining(home, secretAccessKey);
    expect(everywhere).toHaveLength(1);
    expect(everywhere[0]).toMatch(/^secrets\//);
  });
});
