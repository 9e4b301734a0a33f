/**
 * ObjectStore on one S3 bucket, optionally under a key prefix.
 *
 * - Keys are the engine's deterministic keys, so a retried put overwrites
 *   the same object instead of adding one.
 * - Every write carries a CRC32 checksum that S3 verifies on receipt
 *   (single PUTs and each multipart part alike).
 * - Streamed bodies go through `@aws-sdk/lib-storage` `Upload`: memory stays
 *   at `queueSize × partSize` whatever the object's size, and a failed upload
 *   aborts its multipart upload so no parts are left behind.
 * - `move` is copy then delete and may be repeated after a crash between the
 *   two: when `from` is gone and `to` exists, the move already happened.
 */
// @ts-nocheck

import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NotFoundError } from '../../engine/errors.js';
import type { ObjectInfo, ObjectStore } from '../../engine/ports.js';
import { AwsService, clientConfig } from './config.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface S3ObjectStoreOptions {
  readonly bucket: string;
  /** Key prefix under which every key lives (`lake/` → `s3://bucket/lake/raw/...`). @default '' */
  readonly prefix?: string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: S3Client;
  /** Multipart part size for streamed puts (S3 minimum 5 MiB). @default 8 MiB */
  readonly partSize?: number;
  /** Parts uploaded in parallel; memory is bounded by `queueSize × partSize`. @default 4 */
  readonly queueSize?: number;
  /** @default 'CRC32' */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  /** Objects larger than this are moved with a multipart copy (CopyObject stops at 5 GiB). @default 5 GiB */
  readonly multipartCopyThreshold?: number;
  /** Part size of a multipart copy. @default 512 MiB */
  readonly copyPartSize?: number;
  /** Keys per ListObjectsV2 page (S3's maximum is 1000). @default 1000 */
  readonly listPageSize?: number;
}

export class S3ObjectStore implements ObjectStore {
  public readonly bucket: string;
  public readonly prefix: string;
  public readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly checksumAlgorithm: ChecksumAlgorithm;
  private readonly multipartCopyThreshold: number;
  private readonly copyPartSize: number;
  private readonly listPageSize: number;

  public constructor(options: S3ObjectStoreOptions) {
    if (!options.bucket) throw new Error('S3ObjectStore needs a bucket name');
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix);
    this.client = options.client ?? new S3Client(clientConfig(AwsService.s3));
    this.partSize = options.partSize ?? 8 * MiB;
    if (this.partSize < 5 * MiB)
      throw new Error('S3ObjectStore partSize must be at least 5 MiB (the S3 minimum)');
    this.queueSize = options.queueSize ?? 4;
    this.checksumAlgorithm = options.checksumAlgorithm ?? 'CRC32';
    this.multipartCopyThreshold = options.multipartCopyThreshold ?? 5 * GiB;
    this.copyPartSize = options.copyPartSize ?? 512 * MiB;
    this.listPageSize = Math.min(Math.max(options.listPageSize ?? 1000, 1), 1000);
    if (this.copyPartSize < 5 * MiB || this.copyPartSize > 5 * GiB) {
      throw new Error('S3ObjectStore copyPartSize must be between 5 MiB and 5 GiB');
    }
  }

  public async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<number> {
    const Key = this.keyOf(key);
    const ContentType = contentTypeOf(key);
    if (body instanceof Uint8Array && body.byteLength <= this.partSize) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: body,
          ContentLength: body.byteLength,
          ContentType,
          ChecksumAlgorithm: this.checksumAlgorithm,
        }),
      );
      return body.byteLength;
    }
    let bytes = 0;
    const counted = async function* (source: AsyncIterable<Uint8Array> | Uint8Array) {
      if (source instanceof Uint8Array) {
        bytes += source.byteLength;
        yield source;
        return;
      }
      for await (const chunk of source) {
        bytes += chunk.byteLength;
        yield chunk;
      }
    };
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key,
        Body: Readable.from(counted(body), { objectMode: false }),
        ContentType,
        ChecksumAlgorithm: this.checksumAlgorithm,
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    await upload.done();
    return bytes;
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), ChecksumMode: 'ENABLED' }),
      );
      if (!response.Body) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  public async list(prefix: string): Promise<ObjectInfo[]> {
    const objects: ObjectInfo[] = [];
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: this.listPageSize },
      { Bucket: this.bucket, Prefix: this.keyOf(prefix) },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        objects.push({ key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 });
      }
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  public async move(from: string, to: string): Promise<void> {
    if (from === to) {
      if ((await this.size(from)) === undefined)
        throw new NotFoundError(`cannot move ${this.uri(from)}: it does not exist`);
      return;
    }
    const size = await this.size(from);
    if (size === undefined) {
      await this.assertMoved(from, to);
      return;
    }
    try {
      if (size > this.multipartCopyThreshold) await this.multipartCopy(from, to, size);
      else {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: this.keyOf(to),
            CopySource: this.copySource(from),
            ChecksumAlgorithm: this.checksumAlgorithm,
          }),
        );
      }
    } catch (error) {
      // Another mover (a concurrent recovery) may have finished the move between our HEAD and COPY.
      if (isNotFound(error)) {
        await this.assertMoved(from, to);
        return;
      }
      throw error;
    }
    await this.delete(from);
  }

  public async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }

  public async deletePrefix(prefix: string, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const deleted: string[] = [];
    for (const object of await this.list(prefix)) {
      if (keep.has(object.key)) continue;
      await this.delete(object.key);
      deleted.push(object.key);
    }
    // A writer killed mid-upload leaves a multipart upload (S3's partial write): abort it.
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.keyOf(prefix),
          ...(keyMarker ? { KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker } : {}),
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId) continue;
        await this.client
          .send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          )
          .catch((error: unknown) => {
            if (!isNotFound(error)) throw error;
          });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.NextUploadIdMarker;
    } while (keyMarker);
    return deleted;
  }

  public uri(key: string): string {
    return `s3://${this.bucket}/${this.keyOf(key)}`;
  }

  /** The full S3 key of a store key (with the store's prefix). */
  public keyOf(key: string): string {
    return `${this.prefix}${key}`;
  }

  /** The object's size in bytes, or undefined when it does not exist. */
  public async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }),
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async assertMoved(from: string, to: string): Promise<void> {
    if ((await this.size(to)) !== undefined) return;
    throw new NotFoundError(`cannot move ${this.uri(from)} to ${this.uri(to)}: neither exists`);
  }

  private copySource(key: string): string {
    return `${this.bucket}/${this.keyOf(key).split('/').map(encodeURIComponent).join('/')}`;
  }

  private async multipartCopy(from: string, to: string, size: number): Promise<void> {
    const Key = this.keyOf(to);
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key,
        ContentType: contentTypeOf(to),
        ChecksumAlgorithm: this.checksumAlgorithm,
      }),
    );
    const UploadId = created.UploadId;
    if (!UploadId) throw new Error(`S3 returned no UploadId for ${this.uri(to)}`);
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, PartNumber = 1; start < size; start += this.copyPartSize, PartNumber++) {
        const end = Math.min(start + this.copyPartSize, size) - 1;
        const copied = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            PartNumber,
            CopySource: this.copySource(from),
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({
          PartNumber,
          ETag: copied.CopyPartResult?.ETag,
          ...checksumOf(this.checksumAlgorithm, copied.CopyPartResult),
        });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }
}

function normalizePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const trimmed = prefix.replace(/^\/+/, '');
  if (!trimmed) return '';
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}

type PartChecksums = {
  ChecksumCRC32?: string;
  ChecksumCRC32C?: string;
  ChecksumCRC64NVME?: string;
  ChecksumSHA1?: string;
  ChecksumSHA256?: string;
};

/** The part's checksum, which CompleteMultipartUpload wants back for a checksummed upload. */
function checksumOf(algorithm: ChecksumAlgorithm, result: PartChecksums | undefined): PartChecksums {
  const field = `Checksum${algorithm}` as keyof PartChecksums;
  const value = result?.[field];
  return value === undefined ? {} : { [field]: value };
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.parquet')) return 'application/vnd.apache.parquet';
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.csv')) return 'text/csv';
  return 'application/octet-stream';
}
