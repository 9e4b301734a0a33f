/**
 * Helpers of the AWS integration tests: unique resource names (test files
 * run in parallel against one emulator), resource creation, moto's control
 * API, and a fault-injecting HTTP proxy that sits between a client and the
 * emulator to produce answers an emulator cannot (a FAILED Athena query,
 * throttling, 500s).
 */
// @ts-nocheck

import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import type { AwsClients } from '../../../adapters/aws/index.js';

/** The emulator the global setup started or found. */
export function endpoint(): string {
  const url = process.env.AWS_ENDPOINT_URL;
  if (!url) throw new Error('AWS_ENDPOINT_URL is not set: the integration global setup did not run');
  return url;
}

/** True when the endpoint is moto (its control API drives canned Athena results and state transitions). */
export const onMoto = process.env.SLUICE_TEST_EMULATOR === 'moto';

/** A name no other test uses: lowercase letters, digits and `sep`, valid for buckets, tables and Glue. */
export function uniqueName(prefix: string, sep = '-'): string {
  const stamp = Date.now().toString(36);
  const random = randomBytes(4).toString('hex');
  return [prefix, stamp, random].join(sep);
}

export async function createBucket(
  name: string,
  client = new S3Client(clientConfig(AwsService.s3)),
): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: name }));
}

/** Every client the AWS backend uses, sent to `url` (a fault proxy) instead of the emulator. */
export function clientsThrough(url: string): Required<AwsClients> {
  return {
    s3: new S3Client({ ...clientConfig(AwsService.s3), endpoint: url, forcePathStyle: true }),
    dynamodb: new DynamoDBClient({ ...clientConfig(AwsService.dynamodb), endpoint: url }),
    glue: new GlueClient({ ...clientConfig(AwsService.glue), endpoint: url }),
    athena: new AthenaClient({ ...clientConfig(AwsService.athena), endpoint: url }),
    secretsManager: new SecretsManagerClient({ ...clientConfig(AwsService.secretsManager), endpoint: url }),
  };
}

/** An S3 error answer, as S3 sends it. */
export function s3Error(status: number, code: string, message: string): ProxyReply {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}

/** A DynamoDB (JSON 1.0 protocol) error answer. */
export function dynamodbError(status: number, type: string, message: string): ProxyReply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
  };
}

/** Calls moto's control API (`/moto-api/...`). */
export async function motoApi(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${endpoint()}/moto-api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`POST /moto-api/${path} answered ${response.status}: ${await response.text()}`);
}

export async function* chunks(total: number, chunkSize: number, seed = 0): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < total; offset += chunkSize) {
    const size = Math.min(chunkSize, total - offset);
    const chunk = new Uint8Array(size);
    for (let i = 0; i < size; i++) chunk[i] = (offset + i + seed) % 251;
    yield chunk;
  }
}

export function bytesOf(total: number, seed = 0): Uint8Array {
  const out = new Uint8Array(total);
  for (let i = 0; i < total; i++) out[i] = (i + seed) % 251;
  return out;
}

// ---------- fault-injecting proxy ----------

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** `X-Amz-Target` of JSON-protocol calls, e.g. `AmazonAthena.GetQueryExecution`. */
  readonly target: string | undefined;
  readonly body: string;
}

export interface ProxyReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

export interface FaultRule {
  readonly when: (request: ProxiedRequest) => boolean;
  /** Answer this instead of forwarding to the emulator. */
  readonly reply?: (request: ProxiedRequest) => ProxyReply;
  /** Forward, then rewrite the emulator's response body. */
  readonly rewrite?: (body: string, request: ProxiedRequest) => string;
  /** How many matching requests the rule applies to. @default Infinity */
  times?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly requests: ProxiedRequest[];
  add(rule: FaultRule): void;
  close(): Promise<void>;
}

/** An HTTP proxy to the emulator that applies the first matching rule to each request. */
export async function startFaultProxy(target = endpoint()): Promise<FaultProxy> {
  const rules: FaultRule[] = [];
  const requests: ProxiedRequest[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      const proxied: ProxiedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        target: typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : undefined,
        body: raw.toString('utf8'),
      };
      requests.push(proxied);
      const rule = rules.find((r) => (r.times ?? Number.POSITIVE_INFINITY) > 0 && r.when(proxied));
      if (rule && rule.times !== undefined) rule.times--;
      if (rule?.reply) {
        const reply = rule.reply(proxied);
        res.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
        res.end(reply.body);
        return;
      }
      const forward = httpRequest(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (part: Buffer) => body.push(part));
          up.on('end', () => {
            let payload = Buffer.concat(body);
            const headers = { ...up.headers };
            if (rule?.rewrite) {
              payload = Buffer.from(rule.rewrite(payload.toString('utf8'), proxied), 'utf8');
              // The body changed: drop checksums of the original (DynamoDB's x-amz-crc32).
              delete headers['x-amz-crc32'];
              delete headers['transfer-encoding'];
              headers['content-length'] = String(payload.byteLength);
            }
            res.writeHead(up.statusCode ?? 502, headers);
            res.end(payload);
          });
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    add: (rule) => rules.push(rule),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
