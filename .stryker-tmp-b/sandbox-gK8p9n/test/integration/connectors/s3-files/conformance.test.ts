// @ts-nocheck
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { type S3FilesConfig, s3FilesConnector } from '../../../../connectors/s3-files/index.js';
import { describeConformance } from '../../../../connectors/sdk/conformance.js';
import { createBucket, emptyAndDeleteBucket, put, sleep, testClient, uniqueBucket } from './support.js';

const bucket = uniqueBucket('conformance');
let client: S3Client;
let added = 0;

beforeAll(async () => {
  client = testClient();
  await createBucket(client, bucket);
  for (let day = 1; day <= 3; day++) {
    const rows = Array.from({ length: 20 }, (_, i) => `${day * 100 + i},${day},${i * 10}`);
    await put(
      client,
      bucket,
      `landing/orders/2026/01/0${day}/orders.csv`,
      `id,day,amount\n${rows.join('\n')}\n`,
    );
    const events = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ id: `e${day}-${i}`, day, kind: 'view' }),
    );
    await put(client, bucket, `landing/events/day=${day}/part-0.jsonl`, `${events.join('\n')}\n`);
  }
});

afterAll(async () => {
  await emptyAndDeleteBucket(client, bucket);
  client.destroy();
});

const config: S3FilesConfig = {
  bucket,
  prefix: 'landing',
  forcePathStyle: true,
  pageSize: 7,
  streams: [
    { name: 'orders', glob: 'orders/**/*.csv', format: 'csv', primaryKey: ['id'], writeDisposition: 'merge' },
    { name: 'events', glob: 'events/day=*/*.jsonl', format: 'jsonl' },
  ],
};

describeConformance('s3-files', {
  connector: s3FilesConnector,
  config: () => config,
  expectedStreams: ['orders', 'events'],
  minRecords: 30,
  mutate: async () => {
    // A second later, so the new files' LastModified is after everything committed.
    await sleep(1100);
    added++;
    await put(
      client,
      bucket,
      `landing/orders/2026/02/0${added}/orders.csv`,
      `id,day,amount\n${9000 + added},${added},1\n`,
    );
    await put(client, bucket, `landing/events/day=${10 + added}/part-0.jsonl`, `{"id":"new-${added}"}\n`);
  },
});
