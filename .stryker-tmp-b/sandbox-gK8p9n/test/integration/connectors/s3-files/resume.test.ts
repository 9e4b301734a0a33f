/**
 * s3-files read in slices against moto S3: stop at a checkpoint, read again
 * with `resumeFrom`, and the pieces equal one uninterrupted read record for
 * record — across file ends, mid-file (text) and inside a Parquet file, where
 * row groups before the position are not fetched.
 */
// @ts-nocheck

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3FilesConfig } from '../../../../connectors/s3-files/index.js';
import { ResumeUnavailableError } from '../../../../connectors/sdk/types.js';
import { readInSlices, readPiece } from '../../../support/resume.js';
import {
  createBucket,
  emptyAndDeleteBucket,
  emulatorUrl,
  put,
  readStream,
  sleep,
  startProxy,
  streamOf,
  testClient,
  uniqueBucket,
} from './support.js';

const bucket = uniqueBucket('resume');
let client: S3Client;
let dir: string;

function config(
  prefix: string,
  streams: S3FilesConfig['streams'],
  extra: Partial<S3FilesConfig> = {},
): S3FilesConfig {
  return { bucket, prefix, forcePathStyle: true, pageSize: 5, streams, ...extra };
}

function csv(from: number, count: number): string {
  return `id,name\n${Array.from({ length: count }, (_, i) => `${from + i},n${from + i}`).join('\n')}\n`;
}

beforeAll(async () => {
  client = testClient();
  dir = await mkdtemp(join(tmpdir(), 's3-files-resume-'));
  await createBucket(client, bucket);
});

afterAll(async () => {
  await emptyAndDeleteBucket(client, bucket);
  client.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('s3-files: reading in slices (resumeFrom)', () => {
  it('reads CSV and JSON Lines files in pieces of 1, 2 and 3 checkpoints exactly as one read', async () => {
    // Prepare: files of 17, 5 and 0 records, one JSON Lines file, with page size 5.
    await put(client, bucket, 'text/a.csv', csv(1, 17));
    await put(client, bucket, 'text/b.csv', csv(100, 5));
    await put(client, bucket, 'text/c.csv', 'id,name\n');
    const jsonl = Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: 200 + i })).join('\n');
    await put(client, bucket, 'text/d.jsonl', `${jsonl}\n`);
    const streams = [
      { name: 'csv', glob: '*.csv', format: 'csv' as const },
      { name: 'jsonl', glob: '*.jsonl', format: 'jsonl' as const },
    ];
    for (const name of ['csv', 'jsonl']) {
      const stream = await streamOf(config('text', streams), name);
      const whole = await readStream(stream, undefined);

      // Act
      const pieces = await Promise.all([1, 2, 3].map((every) => readInSlices(stream, every)));

      // Assess
      expect(whole.length, name).toBe(name === 'csv' ? 22 : 8);
      for (const piece of pieces) expect(piece.records, name).toEqual(whole);
      expect(stream.order).toBe('cursor-ascending');
    }
  });

  it('yields a checkpoint after every page and at every file end, with (LastModified, key, line)', async () => {
    await put(client, bucket, 'marks/a.csv', csv(1, 12));
    await put(client, bucket, 'marks/b.csv', 'id,name\n');
    const stream = await streamOf(
      config('marks', [{ name: 'marks', glob: '*.csv', format: 'csv' }]),
      'marks',
    );

    const piece = await readPiece(stream);

    const modified = (piece.records[0]!._file_modified_at as Date).toISOString();
    expect(piece.positions.slice(0, 3)).toEqual([
      { modified, key: 'marks/a.csv', line: 6, files: 1 },
      { modified, key: 'marks/a.csv', line: 11, files: 1 },
      { modified, key: 'marks/a.csv', line: 'eof', files: 1 },
    ]);
    expect(piece.positions[3]).toMatchObject({ key: 'marks/b.csv', line: 'eof', files: 2 });
    expect(piece.positions).toHaveLength(4);
  });

  it('keeps maxFilesPerRun for the whole run, not per slice', async () => {
    for (const name of ['a', 'b', 'c', 'd']) await put(client, bucket, `limit/${name}.csv`, csv(1, 7));
    const stream = await streamOf(
      config('limit', [{ name: 'limit', glob: '*.csv', format: 'csv' }], { maxFilesPerRun: 2 }),
      'limit',
    );
    const whole = await readStream(stream, undefined);

    const sliced = await readInSlices(stream, 1);

    expect(new Set(whole.map((r) => r._file_key))).toEqual(new Set(['limit/a.csv', 'limit/b.csv']));
    expect(sliced.records).toEqual(whole);
  });

  it('resumes inside a Parquet file at its row group and row, without fetching the groups before', async () => {
    // Prepare: 20,000 rows in 10 row groups of 2,000; pages of 500 rows.
    const path = join(dir, 'groups.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    await connection.run(
      `COPY (SELECT i AS id, 'name-' || i AS name FROM range(20000) t(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2000)`,
    );
    connection.closeSync();
    db.closeSync();
    await put(client, bucket, 'pq/big.parquet', new Uint8Array(await readFile(path)));
    const proxy = await startProxy(emulatorUrl());
    try {
      const stream = await streamOf(
        config('pq', [{ name: 'pq', glob: '*.parquet', format: 'parquet' }], {
          endpoint: proxy.url,
          pageSize: 500,
        }),
        'pq',
      );
      const gets = () =>
        proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('big.parquet')).length;
      const whole = await readStream(stream, undefined);
      const wholeGets = gets();
      // 23 pages of 500 rows: the position is row 11,500, inside the 6th row group.
      const first = await readPiece(stream, { stopAtCheckpoint: 23 });
      const before = gets();

      // Act
      const rest = await readPiece(stream, { resumeFrom: first.stoppedAt! });

      // Assess
      expect(first.stoppedAt).toMatchObject({ key: 'pq/big.parquet', line: 11_500 });
      expect(rest.records[0]).toMatchObject({ id: 11_500, _file_line: 11_501 });
      expect([...first.records, ...rest.records]).toEqual(whole);
      expect(whole).toHaveLength(20_000);
      // Five row groups skipped: fewer ranged GETs than the whole read needed.
      expect(gets() - before).toBeLessThanOrEqual(wholeGets - 5);
    } finally {
      await proxy.close();
    }
  });

  it('reads a file replaced between slices whole, as the new file it is', async () => {
    await put(client, bucket, 'replaced/a.csv', csv(1, 12));
    const stream = await streamOf(config('replaced', [{ name: 'r', glob: '*.csv', format: 'csv' }]), 'r');
    const first = await readPiece(stream, { stopAtCheckpoint: 1 });
    await sleep(1100); // LastModified has whole seconds
    await put(client, bucket, 'replaced/a.csv', csv(500, 3));

    const rest = await readPiece(stream, { resumeFrom: first.stoppedAt! });

    expect(first.records.map((r) => r.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(rest.records.map((r) => r.id)).toEqual(['500', '501', '502']);
  });

  it('throws ResumeUnavailableError for a position that is not an s3-files position', async () => {
    await put(client, bucket, 'bad/a.csv', csv(1, 3));
    const stream = await streamOf(config('bad', [{ name: 'bad', glob: '*.csv', format: 'csv' }]), 'bad');

    const error = await readPiece(stream, { resumeFrom: { page: 3 } }).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(ResumeUnavailableError);
    expect((error as Error).message).toContain('stream "bad" cannot resume from {"page":3}');
  });
});
