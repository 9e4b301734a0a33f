import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3FilesConfig } from '../../../../connectors/s3-files/index.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import { PreciseDate } from '../../../../connectors/sdk/precise-date.js';
import { isCheckpoint, type SourceRecord } from '../../../../connectors/sdk/types.js';
import {
  capturingLogger,
  committedAfter,
  createBucket,
  emptyAndDeleteBucket,
  emulatorUrl,
  put,
  readStream,
  startProxy,
  streamOf,
  testClient,
  uniqueBucket,
} from './support.js';

const bucket = uniqueBucket('parquet');
let client: S3Client;
let dir: string;

/** Writes a Parquet file with DuckDB (test-only: the connector reads it with parquet-wasm). */
async function parquetFixture(name: string, select: string, rowGroupSize = 122_880): Promise<Uint8Array> {
  const path = join(dir, name);
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    await connection.run(`COPY (${select}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`);
  } finally {
    connection.closeSync();
    db.closeSync();
  }
  return new Uint8Array(await readFile(path));
}

function config(streams: S3FilesConfig['streams'], extra: Partial<S3FilesConfig> = {}): S3FilesConfig {
  return { bucket, prefix: 'lake', forcePathStyle: true, streams, ...extra };
}

beforeAll(async () => {
  client = testClient();
  dir = await mkdtemp(join(tmpdir(), 's3-files-parquet-'));
  await createBucket(client, bucket);
});

afterAll(async () => {
  await emptyAndDeleteBucket(client, bucket);
  client.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('s3-files parquet', () => {
  it('converts Parquet values to plain JS values', async () => {
    // Prepare
    const bytes = await parquetFixture(
      'types.parquet',
      `SELECT 1::INTEGER AS i, 9007199254740993::BIGINT AS big, 42::BIGINT AS small_big, 2.5::DOUBLE AS d,
              12.34::DECIMAL(10,2) AS dec, 12345678901234567890.5::DECIMAL(38,1) AS wide_dec, 'x' AS s, true AS b,
              NULL::VARCHAR AS n, TIMESTAMPTZ '2026-03-01 10:00:00.123+00' AS ts, DATE '2026-03-01' AS day,
              TIME '10:11:12.5' AS t, [1, 2] AS list, {'a': 1, 'b': 'two'} AS st, MAP {'k': 1} AS m,
              'hi'::BLOB AS bin`,
    );
    await put(client, bucket, 'lake/types/one.parquet', bytes);

    // Act
    const [record] = await readStream(
      await streamOf(config([{ name: 'types', glob: 'types/*.parquet', format: 'parquet' }]), 'types'),
      undefined,
    );

    // Assess
    const { _file_key, _file_modified_at, _file_cursor, ...values } = record!;
    expect(values).toEqual({
      i: 1,
      big: 9007199254740993n,
      small_big: 42,
      d: 2.5,
      dec: 12.34,
      wide_dec: '12345678901234567890.5',
      s: 'x',
      b: true,
      n: null,
      ts: new PreciseDate(1_772_359_200_123_000n),
      day: '2026-03-01',
      t: '10:11:12.500000',
      list: [1, 2],
      st: { a: 1, b: 'two' },
      m: { k: 1 },
      bin: Buffer.from('hi').toString('base64'),
      _file_line: 1,
    });
    expect(_file_key).toBe('lake/types/one.parquet');
    expect(_file_modified_at).toBeInstanceOf(Date);
    expect(_file_cursor).toBe(`${(_file_modified_at as Date).toISOString()}|lake/types/one.parquet|eof`);
  });

  it('reads timestamps exact to the microsecond whatever their unit, nanoseconds floored', async () => {
    // Prepare: DuckDB writes each unit as its own Parquet TIMESTAMP (MICROS, NANOS, MILLIS).
    const bytes = await parquetFixture(
      'units.parquet',
      `SELECT * FROM (VALUES
         (1, TIMESTAMP '2026-03-01 10:00:00.123456', TIMESTAMP_NS '2026-03-01 10:00:00.123456789', TIMESTAMP_MS '2026-03-01 10:00:00.123'),
         (2, TIMESTAMP '1969-12-31 23:59:59.999999', TIMESTAMP_NS '1969-12-31 23:59:59.999999999', TIMESTAMP_MS '1969-12-31 23:59:59.999'),
         (3, TIMESTAMP '9999-12-31 23:59:59.999999', TIMESTAMP_NS '2262-04-11 23:47:16.854775', TIMESTAMP_MS '0001-01-01 00:00:00.001'),
         (4, TIMESTAMP '0001-01-01 00:00:00.000001', NULL, NULL)
       ) t(id, us, ns, ms) ORDER BY id`,
    );
    await put(client, bucket, 'lake/units/one.parquet', bytes);
    // The oracle: DuckDB's own reading of the same file, in integers.
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const expected = (
      await connection.runAndReadAll(
        `SELECT epoch_us(us) AS us, epoch_ns(ns) AS ns, epoch_us(ms) AS ms FROM read_parquet('${join(dir, 'units.parquet')}') ORDER BY id`,
      )
    ).getRowObjectsJS() as { us: bigint; ns: bigint | null; ms: bigint | null }[];
    connection.closeSync();
    db.closeSync();
    const floorMicros = (ns: bigint): bigint => (ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n));

    // Act
    const records = await readStream(
      await streamOf(config([{ name: 'units', glob: 'units/*.parquet', format: 'parquet' }]), 'units'),
      undefined,
    );

    // Assess
    const micros = (value: unknown): bigint | null => {
      if (value === null) return null;
      expect(value).toBeInstanceOf(PreciseDate);
      return (value as PreciseDate).micros;
    };
    expect(records.map((r) => micros(r.us))).toEqual(expected.map((e) => e.us));
    expect(records.map((r) => micros(r.ns))).toEqual(
      expected.map((e) => (e.ns === null ? null : floorMicros(e.ns))),
    );
    expect(records.map((r) => micros(r.ms))).toEqual(expected.map((e) => e.ms));
    expect(micros(records[0]!.us)).toBe(1_772_359_200_123_456n);
    expect(micros(records[1]!.ns)).toBe(-1n);
  });

  it('reads text and 64-bit integers exactly as DuckDB does, across row groups and batches', async () => {
    // Prepare: ASCII, accented, emoji and empty text, nulls, and integers at every edge of 2^53 and 2^63.
    const edges = [
      '0',
      '-1',
      '9007199254740991',
      '-9007199254740991',
      '9007199254740992',
      '-9007199254740992',
      '9007199254740993',
      '9223372036854775807',
      '-9223372036854775807 - 1',
      '4294967296',
      '-4294967297',
    ];
    const texts = ["'plain'", "'Chloé Müller'", "'🦆 duck'", "''", 'NULL', '\'Nørgaard, "q"\''];
    const select = `SELECT i, CASE i % 6 ${texts.map((t, k) => `WHEN ${k} THEN ${t}`).join(' ')} END AS s,
        CASE i % 11 ${edges.map((e, k) => `WHEN ${k} THEN (${e})::BIGINT`).join(' ')} END AS n,
        CASE WHEN i % 7 = 0 THEN NULL ELSE i::BIGINT * 1000003 END AS m,
        (18446744073709551615 - i * 4294967296)::UBIGINT AS u
      FROM range(5000) t(i)`;
    await put(client, bucket, 'lake/edges/one.parquet', await parquetFixture('edges.parquet', select, 1500));
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const expected = (
      await connection.runAndReadAll(
        `SELECT s, CAST(n AS VARCHAR) AS n, CAST(m AS VARCHAR) AS m, CAST(u AS VARCHAR) AS u FROM read_parquet('${join(dir, 'edges.parquet')}') ORDER BY i`,
      )
    ).getRowObjectsJS() as { s: string | null; n: string | null; m: string | null; u: string }[];
    connection.closeSync();
    db.closeSync();

    // Act: pages of 700 rows, so batches cut across the row groups of 1,500.
    const records = await readStream(
      await streamOf(
        config([{ name: 'edges', glob: 'edges/*.parquet', format: 'parquet' }], { pageSize: 700 }),
        'edges',
      ),
      undefined,
    );

    // Assess
    const text = (v: unknown) => (v === null ? null : String(v));
    expect(records.map((r) => r.s)).toEqual(expected.map((e) => e.s));
    expect(records.map((r) => text(r.n))).toEqual(expected.map((e) => e.n));
    expect(records.map((r) => text(r.m))).toEqual(expected.map((e) => e.m));
    // Unsigned 64-bit stays on apache-arrow's path: 2^64 − 1 is not −1.
    expect(records.map((r) => text(r.u))).toEqual(expected.map((e) => e.u));
    // Numbers while a double holds them exactly, BigInt beyond.
    for (const r of records) {
      if (r.n === null) continue;
      const exact =
        Number.isSafeInteger(Number(r.n)) && BigInt(r.n as number | bigint) === BigInt(Number(r.n));
      expect(typeof r.n).toBe(exact ? 'number' : 'bigint');
    }
  });

  it('names values by the file columns, odd names and "__proto__" included, in file order', async () => {
    // Prepare
    const bytes = await parquetFixture(
      'names.parquet',
      `SELECT 1 AS id, 'p' AS "__proto__", 'q' AS "a ""q""", 'c' AS "constructor", 'ü' AS "ünï"`,
    );
    await put(client, bucket, 'lake/names/one.parquet', bytes);

    // Act
    const [record] = await readStream(
      await streamOf(config([{ name: 'names', glob: 'names/*.parquet', format: 'parquet' }]), 'names'),
      undefined,
    );

    // Assess
    expect(Object.keys(record!).slice(0, 5)).toEqual(['id', '__proto__', 'a "q"', 'constructor', 'ünï']);
    expect(Object.getOwnPropertyDescriptor(record, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(record).toMatchObject({ id: 1, 'a "q"': 'q', constructor: 'c', ünï: 'ü' });
  });

  it('reads one row group at a time with ranged GETs, never the whole object', async () => {
    // Prepare: 20,000 rows in 10 row groups, read through a proxy that logs every request.
    const bytes = await parquetFixture(
      'groups.parquet',
      `SELECT i AS id, 'name-' || i AS name, random() AS noise FROM range(20000) t(i)`,
      2000,
    );
    await put(client, bucket, 'lake/groups/big.parquet', bytes);
    const proxy = await startProxy(emulatorUrl());
    try {
      const stream = await streamOf(
        config([{ name: 'groups', glob: 'groups/*.parquet', format: 'parquet' }], {
          endpoint: proxy.url,
          pageSize: 500,
        }),
        'groups',
      );
      const gets = () => proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('big.parquet'));

      // Act: note how many ranges were fetched when the first page arrived.
      let rangesAtFirstPage = -1;
      let count = 0;
      let lastId = -1;
      let ordered = true;
      for await (const item of stream.read({
        since: undefined,
        committedCursor: undefined,
        signal: new AbortController().signal,
        logger: capturingLogger(),
      })) {
        if (isCheckpoint(item)) continue;
        const page = item as SourceRecord[];
        if (rangesAtFirstPage < 0) rangesAtFirstPage = gets().length;
        for (const record of page) {
          ordered &&= Number(record.id) === lastId + 1 && record._file_line === Number(record.id) + 1;
          lastId = Number(record.id);
          count++;
        }
        expect(page.length).toBeLessThanOrEqual(500);
      }

      // Assess
      expect(count).toBe(20_000);
      expect(ordered).toBe(true);
      const ranges = gets();
      expect(ranges.every((r) => r.range?.startsWith('bytes='))).toBe(true);
      expect(ranges.every((r) => r.bytesSent < bytes.length / 2)).toBe(true);
      expect(ranges.length).toBeGreaterThanOrEqual(10);
      expect(rangesAtFirstPage).toBeLessThan(ranges.length);
    } finally {
      await proxy.close();
    }
  });

  it('reads new Parquet files incrementally', async () => {
    const streams = [{ name: 'inc', glob: 'inc/*.parquet', format: 'parquet' as const }];
    await put(client, bucket, 'lake/inc/a.parquet', await parquetFixture('a.parquet', 'SELECT 1 AS id'));
    const first = await readStream(await streamOf(config(streams), 'inc'), undefined);
    await put(
      client,
      bucket,
      'lake/inc/b.parquet',
      await parquetFixture('b.parquet', 'SELECT 2 AS id UNION ALL SELECT 3'),
    );
    const second = await readStream(await streamOf(config(streams), 'inc'), committedAfter(first));
    expect(first.map((r) => r.id)).toEqual([1]);
    expect(second.map((r) => r.id).sort()).toEqual([2, 3]);
  });

  it('fails on a corrupt Parquet file naming it, or skips and counts it', async () => {
    await put(client, bucket, 'lake/corrupt/bad.parquet', 'this is not parquet at all');
    await put(
      client,
      bucket,
      'lake/corrupt/good.parquet',
      await parquetFixture('good.parquet', 'SELECT 7 AS id'),
    );
    const streams = (onMalformed: 'fail' | 'skip') =>
      config([{ name: 'corrupt', glob: 'corrupt/*.parquet', format: 'parquet', onMalformed }]);
    const error = await readStream(await streamOf(streams('fail'), 'corrupt'), undefined).catch(
      (e: unknown) => e,
    );
    const logger = capturingLogger();
    const records = await readStream(await streamOf(streams('skip'), 'corrupt'), undefined, logger);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      `Malformed Parquet in s3://${bucket}/lake/corrupt/bad.parquet`,
    );
    expect(records.map((r) => r.id)).toEqual([7]);
    expect(logger.entries.find((e) => e.message === 's3-files: read files')?.extra).toMatchObject({
      malformed: 1,
    });
  });
});
