/**
 * AWS client configuration from the standard variables, parsed once.
 *
 * Endpoints: AWS SDK v3 (>= 3.4xx, verified in @smithy/core's
 * `getEndpointUrlConfig`) resolves `AWS_ENDPOINT_URL_<SERVICE_ID>` and then
 * `AWS_ENDPOINT_URL` itself (and honours `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
 * and the shared config file's `endpoint_url`), so clients are never given an
 * endpoint here. This module only reads whether one is configured, to decide
 * path-style S3 addressing: emulators (LocalStack, moto) serve buckets on a
 * path, not on a virtual host. The host of the endpoint is never inspected.
 *
 * Variables:
 * - `AWS_REGION`: the region (Lambda always sets it).
 * - `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`: endpoint overrides
 *   (applied by the SDK).
 * - `SLUICE_S3_FORCE_PATH_STYLE` (`true`|`false`): path-style S3.
 *   @default true when an S3 endpoint override is set, false otherwise.
 * - `SLUICE_AWS_HTTP_VERSION` (`1.1`|`2`): the HTTP handler. 1.1 uses
 *   `NodeHttpHandler`; 2 uses `NodeHttp2Handler`. Some clients (Kinesis)
 *   default to HTTP/2, which emulators do not speak.
 *   @default 1.1
 * - `SLUICE_AWS_CONNECTION_TIMEOUT_MS`, `SLUICE_AWS_REQUEST_TIMEOUT_MS`,
 *   `SLUICE_AWS_MAX_SOCKETS`: handler tuning (positive integers).
 */
// @ts-nocheck

import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';

/** SDK service ids (as in each client's `serviceId`), which name the endpoint variables. */
export const AwsService = {
  s3: 'S3',
  dynamodb: 'DynamoDB',
  glue: 'Glue',
  athena: 'Athena',
  secretsManager: 'Secrets Manager',
  kinesis: 'Kinesis',
  sqs: 'SQS',
  sns: 'SNS',
  sfn: 'SFN',
  eventBridge: 'EventBridge',
  scheduler: 'Scheduler',
  cloudWatch: 'CloudWatch',
  cloudWatchLogs: 'CloudWatch Logs',
  sts: 'STS',
} as const;
export type AwsService = (typeof AwsService)[keyof typeof AwsService];

export const HttpVersion = { http1: '1.1', http2: '2' } as const;
export type HttpVersion = (typeof HttpVersion)[keyof typeof HttpVersion];

export interface AwsSettings {
  /** `AWS_REGION`; undefined leaves the SDK's default chain (profile) to decide. */
  readonly region: string | undefined;
  /** Services with an endpoint override (`AWS_ENDPOINT_URL[_<SERVICE>]`), by service id. */
  readonly endpointOverrides: ReadonlySet<AwsService>;
  readonly s3ForcePathStyle: boolean;
  readonly httpVersion: HttpVersion;
  readonly connectionTimeoutMs: number | undefined;
  readonly requestTimeoutMs: number | undefined;
  readonly maxSockets: number | undefined;
}

export class AwsConfigError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'AwsConfigError';
  }
}

/** The name of the variable the SDK reads for one service's endpoint: `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
export function endpointVariable(service: AwsService): string {
  return ['AWS_ENDPOINT_URL', ...service.split(' ').map((word) => word.toUpperCase())].join('_');
}

/** Parses the standard AWS variables and Sluice's client settings; throws naming the bad variable. */
export function readAwsSettings(env: NodeJS.ProcessEnv = process.env): AwsSettings {
  const ignoreEndpoints = readBoolean(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS') ?? false;
  const endpointOverrides = new Set<AwsService>();
  if (!ignoreEndpoints) {
    for (const service of Object.values(AwsService)) {
      if (nonEmpty(env[endpointVariable(service)]) || nonEmpty(env.AWS_ENDPOINT_URL)) {
        endpointOverrides.add(service);
      }
    }
  }
  const httpVersion = nonEmpty(env.SLUICE_AWS_HTTP_VERSION) ?? HttpVersion.http1;
  if (httpVersion !== HttpVersion.http1 && httpVersion !== HttpVersion.http2) {
    throw new AwsConfigError(`SLUICE_AWS_HTTP_VERSION must be "1.1" or "2", got "${httpVersion}"`);
  }
  return {
    region: nonEmpty(env.AWS_REGION),
    endpointOverrides,
    s3ForcePathStyle: readBoolean(env, 'SLUICE_S3_FORCE_PATH_STYLE') ?? endpointOverrides.has(AwsService.s3),
    httpVersion,
    connectionTimeoutMs: readPositiveInt(env, 'SLUICE_AWS_CONNECTION_TIMEOUT_MS'),
    requestTimeoutMs: readPositiveInt(env, 'SLUICE_AWS_REQUEST_TIMEOUT_MS'),
    maxSockets: readPositiveInt(env, 'SLUICE_AWS_MAX_SOCKETS'),
  };
}

/** The HTTP handler the settings ask for. */
export function createRequestHandler(settings: AwsSettings): NodeHttpHandler | NodeHttp2Handler {
  if (settings.httpVersion === HttpVersion.http2) {
    return new NodeHttp2Handler({
      ...(settings.requestTimeoutMs === undefined ? {} : { requestTimeout: settings.requestTimeoutMs }),
    });
  }
  return new NodeHttpHandler({
    ...(settings.connectionTimeoutMs === undefined
      ? {}
      : { connectionTimeout: settings.connectionTimeoutMs }),
    ...(settings.requestTimeoutMs === undefined ? {} : { requestTimeout: settings.requestTimeoutMs }),
    ...(settings.maxSockets === undefined
      ? {}
      : {
          httpAgent: { keepAlive: true, maxSockets: settings.maxSockets },
          httpsAgent: { keepAlive: true, maxSockets: settings.maxSockets },
        }),
  });
}

/** Options common to every client: pass to `new XxxClient(clientConfig(AwsService.xxx))`. */
export interface BaseClientConfig {
  region?: string;
  requestHandler: NodeHttpHandler | NodeHttp2Handler;
}

export function clientConfig(
  service: typeof AwsService.s3,
  settings?: AwsSettings,
): BaseClientConfig & { forcePathStyle: boolean };
export function clientConfig(service: AwsService, settings?: AwsSettings): BaseClientConfig;
export function clientConfig(
  service: AwsService,
  settings: AwsSettings = readAwsSettings(),
): BaseClientConfig & { forcePathStyle?: boolean } {
  return {
    ...(settings.region === undefined ? {} : { region: settings.region }),
    requestHandler: createRequestHandler(settings),
    ...(service === AwsService.s3 ? { forcePathStyle: settings.s3ForcePathStyle } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function readBoolean(env: NodeJS.ProcessEnv, key: string): boolean | undefined {
  const value = nonEmpty(env[key])?.toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new AwsConfigError(`${key} must be "true" or "false", got "${env[key]}"`);
}

function readPositiveInt(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const value = nonEmpty(env[key]);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new AwsConfigError(`${key} must be a positive integer, got "${value}"`);
  }
  return parsed;
}
