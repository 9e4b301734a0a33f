/**
 * The connector under the real engine (local lake, DuckDB queries): two
 * syncs, the second incremental, with exact row counts from the query engine.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3FilesConfig, s3FilesConnector } from '../../../../connectors/s3-files/index.js';
import type { Connector } from '../../../../connectors/sdk/types.js';
import { openTestLake, type TestLake } from '../../../support/lake.js';
import { createBucket, emptyAndDeleteBucket, put, testClient, uniqueBucket } from './support.js';

const bucket = uniqueBucket('engine');
let client: S3Client;
let lake: TestLake;

const config: S3FilesConfig = {
  bucket,
  prefix: 'drop',
  forcePathStyle: true,
  streams: [
    { name: 'orders', glob: '**/*.csv', format: 'csv', primaryKey: ['id'], writeDisposition: 'merge' },
    { name: 'events', glob: '**/*.jsonl', format: 'jsonl' },
    { name: 'readings', glob: 'readings/*.parquet', format: 'parquet' },
  ],
};

async function putBatch(from: number, files: number): Promise<void> {
  for (let f = from; f < from + files; f++) {
    const rows = Array.from({ length: 10 }, (_, i) => `${f * 10 + i},${f}`).join('\n');
    await put(client, bucket, `drop/orders/f-${String(f).padStart(3, '0')}.csv`, `id,file\n${rows}\n`);
    await put(
      client,
      bucket,
      `drop/events/f-${String(f).padStart(3, '0')}.jsonl`,
      `{"file":${f}}\n{"file":${f}}\n`,
    );
  }
}

beforeAll(async () => {
  client = testClient();
  await createBucket(client, bucket);
  const now = new Date().toISOString();
  lake = await openTestLake(
    {
      name: 'files',
      type: 's3-files',
      config: config as unknown as Record<string, unknown>,
      createdAt: now,
      updatedAt: now,
    },
    s3FilesConnector as unknown as Connector<never>,
    config,
  );
});

afterAll(async () => {
  await lake?.dispose();
  await emptyAndDeleteBucket(client, bucket);
  client.destroy();
});

describe('s3-files through the engine', () => {
  it('lands every file once across two syncs, the second incremental', async () => {
    // Prepare + Act: 12 files per stream (many sharing a LastModified), sync; 5 more, sync.
    await putBatch(0, 12);
    const first = await lake.sync();
    await putBatch(12, 5);
    const second = await lake.sync();
    const third = await lake.sync();

    // Assess
    const [orders] = await lake.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM files.orders');
    const [events] = await lake.query(
      'SELECT count(*) AS n, count(DISTINCT _file_key) AS files FROM files.events',
    );
    expect(first.status).toBe('SUCCEEDED');
    expect(first.streams.orders?.rows).toBe(120);
    expect(second.streams.orders?.rows).toBe(50);
    expect(second.streams.events?.rows).toBe(10);
    expect(second.streams.orders?.incremental).toBe(true);
    expect(third.streams.orders?.rows ?? 0).toBe(0);
    expect(Number(orders!.n)).toBe(170);
    expect(Number(orders!.ids)).toBe(170);
    expect(Number(events!.n)).toBe(34);
    expect(Number(events!.files)).toBe(17);
  });

  it('lands Parquet timestamps exact to the microsecond in an inferred timestamp column', async () => {
    // Prepare: a file written by DuckDB, which is also the oracle for what it holds.
    const dir = await mkdtemp(join(tmpdir(), 's3-files-readings-'));
    const path = join(dir, 'r.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    let expected: Record<string, unknown>[];
    try {
      await connection.run(`COPY (SELECT * FROM (VALUES
          (1, TIMESTAMPTZ '2026-03-01 10:00:00.123456+00'),
          (2, TIMESTAMPTZ '1969-12-31 23:59:59.999999+00'),
          (3, TIMESTAMPTZ '2500-06-30 12:00:00.000001+00')) t(id, read_at)) TO '${path}' (FORMAT parquet)`);
      expected = (
        await connection.runAndReadAll(
          `SELECT id, epoch_us(read_at) AS us FROM read_parquet('${path}') ORDER BY id`,
        )
      ).getRowObjectsJS();
      await put(client, bucket, 'drop/readings/r.parquet', new Uint8Array(await readFile(path)));
    } finally {
      connection.closeSync();
      db.closeSync();
      await rm(dir, { recursive: true, force: true });
    }

    // Act
    const run = await lake.sync();

    // Assess
    expect(run.streams.readings?.rows).toBe(3);
    const landed = await lake.query(
      'SELECT id, epoch_us(read_at) AS us, typeof(read_at) AS type FROM files.readings ORDER BY id',
    );
    expect(landed.map((r) => [Number(r.id), BigInt(r.us as string | number | bigint)])).toEqual(
      expected.map((e) => [Number(e.id), e.us]),
    );
    expect(new Set(landed.map((r) => r.type))).toEqual(new Set(['TIMESTAMP WITH TIME ZONE']));
  });
});
