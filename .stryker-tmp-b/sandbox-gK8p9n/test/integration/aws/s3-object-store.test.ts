// @ts-nocheck
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { S3ObjectStore } from '../../../adapters/aws/s3-object-store.js';
import { NotFoundError } from '../../../engine/errors.js';
import { bytesOf, chunks, createBucket, uniqueName } from './support.js';

const MiB = 1024 * 1024;
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
/** Compares by digest: vitest's deep equality is far too slow on megabytes. */
const digest = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : createHash('sha256').update(bytes).digest('hex');
const decode = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

describe('S3ObjectStore', () => {
  const bucket = uniqueName('sluice-objects');
  const s3 = new S3Client(clientConfig(AwsService.s3));
  let store: S3ObjectStore;

  beforeAll(async () => {
    await createBucket(bucket, s3);
    store = new S3ObjectStore({ bucket, prefix: 'lake', client: s3, partSize: 5 * MiB });
  });

  it('puts and gets an object, returning the bytes written', async () => {
    // Act
    const written = await store.put('raw/a/b/dt=2026-01-01/run-00000.parquet', text('hello parquet'));
    const read = await store.get('raw/a/b/dt=2026-01-01/run-00000.parquet');

    // Assess
    expect(written).toBe(13);
    expect(decode(read)).toBe('hello parquet');
  });

  it('returns undefined for a key that does not exist', async () => {
    expect(await store.get('nope/missing.json')).toBeUndefined();
  });

  it('stores keys under its prefix and reports s3:// URIs with it', async () => {
    // Prepare
    await store.put('uri/one.json', text('{}'));

    // Act
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'lake/uri/one.json' }));

    // Assess
    expect(head.ContentLength).toBe(2);
    expect(head.ContentType).toBe('application/json');
    expect(store.uri('uri/one.json')).toBe(`s3://${bucket}/lake/uri/one.json`);
  });

  it('writes a CRC32 checksum that S3 verified', async () => {
    // Prepare: the CRC32 of the body, computed apart from the AWS SDK (zlib), as S3 encodes it
    const body = bytesOf(1000);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));

    // Act
    await store.put('checksum/one.bin', body);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'lake/checksum/one.bin', ChecksumMode: 'ENABLED' }),
    );

    // Assess
    expect(head.ChecksumCRC32).toBe(crc.toString('base64'));
  });

  it('streams a body larger than 5 MiB as a multipart upload', async () => {
    // Prepare
    const size = 12 * MiB + 123;

    // Act
    const written = await store.put('multipart/big.parquet', chunks(size, 256 * 1024));
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'lake/multipart/big.parquet', ChecksumMode: 'ENABLED' }),
    );
    const read = await store.get('multipart/big.parquet');

    // Assess
    expect(written).toBe(size);
    expect(head.ContentLength).toBe(size);
    expect(head.ETag).toMatch(/-3"$/); // three parts of 5, 5 and 2 MiB
    expect(head.ChecksumCRC32).toBeDefined();
    expect(digest(read)).toBe(digest(bytesOf(size)));
  });

  it('uploads a large in-memory body in parts too', async () => {
    const body = bytesOf(6 * MiB, 7);
    expect(await store.put('multipart/in-memory.bin', body)).toBe(6 * MiB);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'lake/multipart/in-memory.bin' }),
    );
    expect(head.ETag).toMatch(/-2"$/);
    expect(digest(await store.get('multipart/in-memory.bin'))).toBe(digest(body));
  });

  it('writes an empty stream as an empty object', async () => {
    // Act
    const written = await store.put('empty/none.bin', chunks(0, 1024));

    // Assess
    expect(written).toBe(0);
    expect(await store.get('empty/none.bin')).toEqual(new Uint8Array());
  });

  it('overwrites the same key on a retried put instead of adding an object', async () => {
    // Act
    await store.put('retry/run-00000.parquet', text('first attempt, longer'));
    await store.put('retry/run-00000.parquet', text('second'));

    // Assess
    expect(await store.list('retry/')).toEqual([{ key: 'retry/run-00000.parquet', size: 6 }]);
    expect(decode(await store.get('retry/run-00000.parquet'))).toBe('second');
  });

  it('aborts a failed streamed upload without leaving an object or multipart parts', async () => {
    // Prepare
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* chunks(6 * MiB, MiB);
      throw new Error('source went away');
    }

    // Act
    const put = store.put('failed/half.parquet', failing());

    // Assess
    await expect(put).rejects.toThrow(/source went away/);
    expect(await store.get('failed/half.parquet')).toBeUndefined();
    const uploads = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'lake/failed/' }),
    );
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('lists every object under a prefix, sorted, across pages, relative to its own prefix', async () => {
    // Prepare
    const paged = new S3ObjectStore({ bucket, prefix: 'lake', client: s3, listPageSize: 2 });
    const keys = ['list/c.json', 'list/a.json', 'list/b/x.json', 'list/b/y.json', 'list/d.json'];
    for (const key of keys) await store.put(key, text(key));
    await store.put('listing-not-under-prefix.json', text('x'));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'other/list/z.json', Body: 'outside the store prefix' }),
    );

    // Act
    const listed = await paged.list('list/');

    // Assess
    expect(listed.map((o) => o.key)).toEqual([...keys].sort());
    expect(listed.find((o) => o.key === 'list/b/x.json')?.size).toBe('list/b/x.json'.length);
    expect(await paged.list('list/none/')).toEqual([]);
  });

  it('moves an object (copy then delete) and can repeat the move after a crash', async () => {
    // Prepare
    await store.put('_staging/src/run1/orders/00000.parquet', text('rows'));

    // Act
    await store.move(
      '_staging/src/run1/orders/00000.parquet',
      'raw/src/orders/dt=2026-01-01/run1-00000.parquet',
    );
    await store.move(
      '_staging/src/run1/orders/00000.parquet',
      'raw/src/orders/dt=2026-01-01/run1-00000.parquet',
    );

    // Assess
    expect(await store.get('_staging/src/run1/orders/00000.parquet')).toBeUndefined();
    expect(decode(await store.get('raw/src/orders/dt=2026-01-01/run1-00000.parquet'))).toBe('rows');
  });

  it('finishes a move interrupted between copy and delete', async () => {
    // Prepare: the copy happened, the delete did not.
    await store.put('half-moved/from.bin', text('both'));
    await store.put('half-moved/to.bin', text('both'));

    // Act
    await store.move('half-moved/from.bin', 'half-moved/to.bin');

    // Assess
    expect(await store.list('half-moved/')).toEqual([{ key: 'half-moved/to.bin', size: 4 }]);
  });

  it('moves keys with spaces and unicode', async () => {
    await store.put('odd keys/ä b+c.json', text('odd'));
    await store.move('odd keys/ä b+c.json', 'odd keys/moved ä b+c.json');
    expect(decode(await store.get('odd keys/moved ä b+c.json'))).toBe('odd');
    expect(await store.get('odd keys/ä b+c.json')).toBeUndefined();
  });

  it('fails a move when neither the source nor the target exists', async () => {
    await expect(store.move('ghost/from.bin', 'ghost/to.bin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('moves an object above the copy threshold with a multipart copy', async () => {
    // Prepare
    const copying = new S3ObjectStore({
      bucket,
      prefix: 'lake',
      client: s3,
      multipartCopyThreshold: 1,
      copyPartSize: 5 * MiB,
    });
    const body = bytesOf(6 * MiB + 17, 3);
    await copying.put('mpcopy/from.bin', body);

    // Act
    await copying.move('mpcopy/from.bin', 'mpcopy/to.bin');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'lake/mpcopy/to.bin' }));

    // Assess
    expect(head.ETag).toMatch(/-2"$/);
    expect(digest(await copying.get('mpcopy/to.bin'))).toBe(digest(body));
    expect(await copying.get('mpcopy/from.bin')).toBeUndefined();
  });

  it('deletes an object, and succeeds when it does not exist', async () => {
    // Prepare
    await store.put('delete/me.json', text('x'));

    // Act
    await store.delete('delete/me.json');
    await store.delete('delete/me.json');

    // Assess
    expect(await store.get('delete/me.json')).toBeUndefined();
  });

  it('keeps stores with different prefixes apart in one bucket', async () => {
    // Prepare
    const a = new S3ObjectStore({ bucket, prefix: 'tenant-a/', client: s3 });
    const b = new S3ObjectStore({ bucket, prefix: 'tenant-b', client: s3 });

    // Act
    await a.put('same/key.json', text('a'));
    await b.put('same/key.json', text('b'));

    // Assess
    expect(decode(await a.get('same/key.json'))).toBe('a');
    expect(decode(await b.get('same/key.json'))).toBe('b');
    expect(await a.list('same/')).toEqual([{ key: 'same/key.json', size: 1 }]);
  });
});
