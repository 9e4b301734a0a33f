// @ts-nocheck
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3FilesConfig } from '../../../../connectors/s3-files/index.js';
import { isCheckpoint, type SourceRecord } from '../../../../connectors/sdk/types.js';
import {
  capturingLogger,
  createBucket,
  emptyAndDeleteBucket,
  emulatorUrl,
  put,
  startProxy,
  streamOf,
  type TestProxy,
  testClient,
  uniqueBucket,
} from './support.js';

const bucket = uniqueBucket('large');
const LINES = 200_000;
const GATE_BYTES = 1024 * 1024;
let client: S3Client;
let size = 0;

beforeAll(async () => {
  client = testClient();
  await createBucket(client, bucket);
  const lines = ['id,customer,amount,note'];
  for (let i = 1; i <= LINES; i++) {
    lines.push(
      `${i},customer-${i % 977},${(i * 1.37).toFixed(2)},"note ${i}, with a comma and ""quotes"" inside"`,
    );
  }
  const body = Buffer.from(`${lines.join('\n')}\n`);
  size = body.length;
  await put(client, bucket, 'big/orders.csv', body);
});

afterAll(async () => {
  await emptyAndDeleteBucket(client, bucket);
  client.destroy();
});

function config(endpoint: string): S3FilesConfig {
  return {
    bucket,
    prefix: 'big',
    endpoint,
    forcePathStyle: true,
    pageSize: 1000,
    streams: [{ name: 'orders', glob: '*.csv', format: 'csv' }],
  };
}

describe('s3-files large files', () => {
  it('streams a 200k-line file: records arrive while most of the body is still held back', async () => {
    // Prepare: a proxy that sends the first MiB of the body, then waits.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const proxy = await startProxy(emulatorUrl(), {
      gate: (req) =>
        req.method === 'GET' && req.url?.includes('orders.csv')
          ? { afterBytes: GATE_BYTES, release: released }
          : undefined,
    });
    try {
      const stream = await streamOf(config(proxy.url), 'orders');
      const pages = stream
        .read({
          since: undefined,
          committedCursor: undefined,
          signal: new AbortController().signal,
          logger: capturingLogger(),
        })
        [Symbol.asyncIterator]();

      // Act: the first page must come while the proxy still holds the body back.
      const first = await pages.next();
      const get = bodyRequest(proxy);
      const sentAtFirstPage = get.bytesSent;
      const finishedAtFirstPage = get.finished;
      release();
      let count = (first.value as SourceRecord[]).length;
      let last: SourceRecord | undefined;
      for (let next = await pages.next(); !next.done; next = await pages.next()) {
        if (isCheckpoint(next.value)) continue;
        const page = next.value as SourceRecord[];
        expect(page.length).toBeLessThanOrEqual(1000);
        count += page.length;
        last = page.at(-1);
      }

      // Assess
      expect(size).toBeGreaterThan(10 * GATE_BYTES);
      expect(finishedAtFirstPage).toBe(false);
      expect(sentAtFirstPage).toBeLessThanOrEqual(GATE_BYTES);
      expect((first.value as SourceRecord[])[0]).toMatchObject({ id: '1', _file_line: 2 });
      expect(count).toBe(LINES);
      expect(last).toMatchObject({
        id: String(LINES),
        note: `note ${LINES}, with a comma and "quotes" inside`,
        _file_line: LINES + 1,
      });
    } finally {
      release();
      await proxy.close();
    }
  });

  it('stops promptly and drops the connection when aborted in the middle of a file', async () => {
    const proxy = await startProxy(emulatorUrl());
    try {
      const stream = await streamOf(config(proxy.url), 'orders');
      const controller = new AbortController();
      let pages = 0;
      const started = Date.now();
      const error = await (async () => {
        for await (const item of stream.read({
          since: undefined,
          committedCursor: undefined,
          signal: controller.signal,
          logger: capturingLogger(),
        })) {
          if (isCheckpoint(item)) continue;
          pages++;
          if (pages === 3) controller.abort();
        }
      })().catch((e: unknown) => e);
      expect((error as Error).name).toBe('AbortError');
      expect(pages).toBe(3);
      expect(Date.now() - started).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 100));
      expect(bodyRequest(proxy).finished).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});

function bodyRequest(proxy: TestProxy) {
  const request = proxy.requests.find((r) => r.method === 'GET' && r.url.includes('orders.csv'));
  if (!request) throw new Error('no GET of the body went through the proxy');
  return request;
}
