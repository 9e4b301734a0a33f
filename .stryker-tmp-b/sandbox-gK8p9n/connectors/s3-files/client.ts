// @ts-nocheck
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConfigError, type ConnectorError, SystemError, TransientError } from '../sdk/errors.js';
import type { ResolvedConfig } from './config.js';

export function createClient(config: ResolvedConfig): S3Client {
  return new S3Client({
    // Undefined values fall back to the SDK's own chains: AWS_REGION, AWS_ENDPOINT_URL(_S3), profiles, IMDS.
    ...(config.region ? { region: config.region } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.forcePathStyle !== undefined ? { forcePathStyle: config.forcePathStyle } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    // A bucket in another region than `region` answers with a redirect the client then follows.
    followRegionRedirects: true,
    maxAttempts: 5,
    // HTTP/1.1 with timeouts: `requestTimeout` is a socket idle timeout, so long streamed bodies are fine.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 120_000 }),
  });
}

export interface ListedFile {
  readonly key: string;
  readonly lastModified: Date;
  readonly size: number;
  readonly etag: string | undefined;
}

/** Every object under `prefix`, page by page (S3 cannot list by date, so each run lists in full). */
export async function* listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  signal: AbortSignal | undefined,
  pageSize = 1000,
): AsyncGenerator<ListedFile[]> {
  let token: string | undefined;
  do {
    signal?.throwIfAborted();
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        MaxKeys: pageSize,
      }),
      signal ? { abortSignal: signal } : {},
    );
    const files: ListedFile[] = [];
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || object.LastModified === undefined) continue;
      files.push({
        key: object.Key,
        lastModified: object.LastModified,
        size: object.Size ?? 0,
        etag: object.ETag,
      });
    }
    yield files;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Region?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'InternalError',
  'ServiceUnavailable',
]);

/**
 * Turns an SDK failure into a typed connector error whose message is one
 * actionable sentence. `what` says what was being done (`listing
 * s3://bucket/prefix`), so the user knows where to look.
 */
export function toConnectorError(error: unknown, what: string, config: ResolvedConfig): Error {
  const e = (error ?? {}) as AwsErrorShape;
  if (e.name === 'AbortError' || error instanceof SystemError || error instanceof ConfigError) {
    return error as Error;
  }
  if (error instanceof TransientError) return error;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? e.code ?? '';
  const cause = { cause: error };
  const where = config.endpoint ? ` at ${config.endpoint}` : config.region ? ` in ${config.region}` : '';
  const make = (kind: 'config' | 'transient' | 'system', message: string): ConnectorError =>
    kind === 'config'
      ? new ConfigError(message, cause)
      : kind === 'transient'
        ? new TransientError(message, cause)
        : new SystemError(message, cause);

  if (name === 'NoSuchBucket') {
    return make('config', `Bucket "${config.bucket}" does not exist${where}: create it or fix "bucket".`);
  }
  if (name === 'InvalidAccessKeyId') {
    return make(
      'config',
      `The access key id is not known${where} while ${what}: fix "accessKeyId"/"secretAccessKey" or the default credentials.`,
    );
  }
  if (name === 'SignatureDoesNotMatch') {
    return make(
      'config',
      `The secret access key does not match the access key id while ${what}: fix "secretAccessKey".`,
    );
  }
  if (name === 'ExpiredToken' || name === 'InvalidToken' || name === 'TokenRefreshRequired') {
    return make(
      'config',
      `The session token was rejected (${name}) while ${what}: refresh the credentials or fix "sessionToken".`,
    );
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || status === 403) {
    return make(
      'config',
      `Access denied while ${what}: grant these credentials s3:ListBucket on "${config.bucket}" and s3:GetObject on its objects.`,
    );
  }
  if (
    name === 'PermanentRedirect' ||
    name === 'AuthorizationHeaderMalformed' ||
    name === 'IllegalLocationConstraintException' ||
    status === 301
  ) {
    const named = e.Region ?? e.$response?.headers?.['x-amz-bucket-region'];
    const region = named ? ` (${named})` : '';
    return make(
      'config',
      `Bucket "${config.bucket}" is in another region${region}: set "region" to the bucket's region.`,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return make(
      'config',
      'No AWS credentials found: set "accessKeyId" and "secretAccessKey" or configure the default credential chain.',
    );
  }
  if (/Region is missing/i.test(e.message ?? '')) {
    return make('config', 'No AWS region configured: set "region" or AWS_REGION.');
  }
  if (name === 'ENOTFOUND') {
    return make(
      'config',
      `Cannot resolve the S3 endpoint host while ${what}: check "endpoint" and "region".`,
    );
  }
  if (
    TRANSIENT_CODES.has(name) ||
    TRANSIENT_CODES.has(e.code ?? '') ||
    e.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500)
  ) {
    return make(
      'transient',
      `S3 did not answer while ${what}${where} (${e.message ?? name}): try again later.`,
    );
  }
  return make(
    'system',
    `Unexpected S3 error while ${what}: ${name || 'Error'}: ${e.message ?? String(error)}`,
  );
}
