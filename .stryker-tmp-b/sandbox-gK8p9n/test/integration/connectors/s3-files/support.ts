/**
 * Helpers for the s3-files tests: a bucket per test file on the emulator the
 * integration setup started (AWS_ENDPOINT_URL), readers that play the
 * engine's part (read from a committed cursor, commit the largest cursor
 * landed), a capturing logger, and a loopback proxy that can hold a body
 * back, log range requests or answer with an S3 error.
 */
// @ts-nocheck

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3FilesConfig } from '../../../../connectors/s3-files/index.js';
import { s3FilesConnector } from '../../../../connectors/s3-files/index.js';
import { compareCursor } from '../../../../connectors/sdk/cursor.js';
import {
  type CursorValue,
  isCheckpoint,
  type Logger,
  type SourceRecord,
  type Stream,
} from '../../../../connectors/sdk/types.js';

export function testClient(): S3Client {
  return new S3Client({ forcePathStyle: true, requestHandler: new NodeHttpHandler() });
}

/** A bucket name no other test file uses. */
export function uniqueBucket(label: string): string {
  return `s3files-${label}-${randomUUID().slice(0, 8)}`.toLowerCase();
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function emptyAndDeleteBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

export async function put(
  client: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
  extra: { contentEncoding?: string } = {},
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(extra.contentEncoding ? { ContentEncoding: extra.contentEncoding } : {}),
    }),
  );
}

export interface Listed {
  readonly key: string;
  readonly lastModified: Date;
}

export async function list(client: S3Client, bucket: string, prefix = ''): Promise<Listed[]> {
  const out: Listed[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, lastModified: o.LastModified! });
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra: Record<string, unknown> | undefined;
}

export function capturingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (message: string, extra?: Record<string, unknown>): void => {
      entries.push({ level, message, extra });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Reads a whole stream from `since` the way the engine does (since = committed cursor). */
export async function readStream(
  stream: Stream,
  since: CursorValue | undefined,
  logger: Logger = capturingLogger(),
  signal: AbortSignal = new AbortController().signal,
): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const ctx = { since: since ?? stream.incremental?.initialValue, committedCursor: since, signal, logger };
  for await (const item of stream.read(ctx)) {
    if (isCheckpoint(item)) continue;
    const page = Array.isArray(item) ? item : [item as SourceRecord];
    for (const record of page) records.push(record);
  }
  return records;
}

export async function streamOf(config: S3FilesConfig, name: string): Promise<Stream> {
  const stream = (await s3FilesConnector.streams(config)).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  return stream;
}

/** The cursor the engine would commit after landing these records: the largest `_file_cursor`. */
export function committedAfter(
  records: readonly SourceRecord[],
  previous?: CursorValue,
): CursorValue | undefined {
  let max = previous;
  for (const record of records) {
    const value = record._file_cursor as string;
    if (max === undefined || compareCursor(value, max) > 0) max = value;
  }
  return max;
}

export function keysOf(records: readonly SourceRecord[]): string[] {
  return [...new Set(records.map((r) => r._file_key as string))].sort();
}

// ---------- a loopback proxy in front of the emulator ----------

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly range: string | undefined;
  bytesSent: number;
  finished: boolean;
}

export interface ProxyHooks {
  /** Answer without forwarding (e.g. an S3 error document). */
  inject?(req: IncomingMessage): { status: number; body: string } | undefined;
  /** Send this many body bytes of the response, then wait for `release` before sending the rest. */
  gate?(req: IncomingMessage): { afterBytes: number; release: Promise<void> } | undefined;
}

export interface TestProxy {
  readonly url: string;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startProxy(target: string, hooks: ProxyHooks = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      range: req.headers.range,
      bytesSent: 0,
      finished: false,
    };
    requests.push(entry);
    const injected = hooks.inject?.(req);
    if (injected) {
      req.resume();
      res.writeHead(injected.status, { 'content-type': 'application/xml' });
      res.end(injected.body);
      return;
    }
    const upstream = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        const gate = hooks.gate?.(req);
        void (async () => {
          try {
            let released = gate === undefined;
            for await (const chunk of up as AsyncIterable<Buffer>) {
              let rest = chunk;
              if (!released && gate && entry.bytesSent + rest.length > gate.afterBytes) {
                const head = rest.subarray(0, Math.max(0, gate.afterBytes - entry.bytesSent));
                if (head.length > 0) await write(res, head, entry);
                await gate.release;
                released = true;
                rest = rest.subarray(head.length);
              }
              if (rest.length > 0) await write(res, rest, entry);
            }
            entry.finished = true;
            res.end();
          } catch {
            res.destroy();
          }
        })();
      },
    );
    // Clients that abort mid-body reset their sockets: end quietly instead of crashing the worker.
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    res.on('error', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function write(
  res: import('node:http').ServerResponse,
  chunk: Buffer,
  entry: ProxiedRequest,
): Promise<void> {
  entry.bytesSent += chunk.length;
  if (!res.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        res.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        res.off('drain', onDrain);
        reject(new Error('closed'));
      };
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  }
}

export function s3ErrorDocument(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>test</RequestId></Error>`;
}

export function emulatorUrl(): string {
  const url = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  if (!url) throw new Error('AWS_ENDPOINT_URL is not set: run with --project integration');
  return url;
}
