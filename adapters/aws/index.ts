/**
 * The AWS backend: the engine's ports on S3, DynamoDB, Glue, Athena and
 * Secrets Manager. Mirrors `openLocalBackend` so callers (CLI, Lambda
 * handlers, tests) switch backends without other changes.
 *
 *   s3://<bucket>/<prefix>raw/<source>/<stream>/dt=<yyyy-mm-dd>/…parquet   the lake (see engine/layout.ts)
 *   dynamodb <table>                                                 sources, cursors, runs, leases
 *   glue <glueDatabase>.<source>__<stream>                             one raw table per stream
 *   athena workgroup <athenaWorkgroup>                               queries over those tables
 *   secretsmanager sluice/<source>/<field>@<revision>                connector secrets
 *
 * Clients come from the standard AWS variables (config.ts), so the same code
 * targets AWS, LocalStack or moto through `AWS_ENDPOINT_URL`.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Backend } from '../../engine/ports.js';
import type { AthenaQueryEngine } from './athena-query-engine.js';
import { AwsService, type AwsSettings, clientConfig, readAwsSettings } from './config.js';
import { DynamoDbStateStore } from './dynamodb-state-store.js';
import { GlueCatalog } from './glue-catalog.js';
import { S3ObjectStore } from './s3-object-store.js';
import { SecretsManagerSecretStore } from './secrets.js';

export type { AthenaQueryEngineOptions } from './athena-query-engine.js';
export {
  AthenaQueryEngine,
  AthenaQueryError,
  AthenaQueryState,
  convertValue,
} from './athena-query-engine.js';
export type { AwsSettings, BaseClientConfig } from './config.js';
export {
  AwsConfigError,
  AwsService,
  clientConfig,
  createRequestHandler,
  endpointVariable,
  HttpVersion,
  readAwsSettings,
} from './config.js';
export type { CreateStateTableOptions, DynamoDbStateStoreOptions } from './dynamodb-state-store.js';
export { createStateTable, DynamoDbStateStore, StateTableSchema } from './dynamodb-state-store.js';
export type { GlueCatalogOptions } from './glue-catalog.js';
export { GLUE_TYPES, GlueCatalog, glueTableName, glueType, PARTITION_KEY } from './glue-catalog.js';
export type { S3ObjectStoreOptions } from './s3-object-store.js';
export { S3ObjectStore } from './s3-object-store.js';
export type { EventBridgeSchedulerOptions, ScheduleSettings } from './scheduler.js';
export { EventBridgeScheduler } from './scheduler.js';
export type { SecretsManagerSecretStoreOptions } from './secrets.js';
export { SecretsManagerSecretStore } from './secrets.js';
export type { StepFunctionsSyncTriggerOptions } from './step-functions.js';
export { StepFunctionsSyncTrigger } from './step-functions.js';

export interface AwsBackendOptions {
  /** The lake bucket. */
  readonly bucket: string;
  /** The DynamoDB state table (see docs/dynamodb-table-design.md). */
  readonly table: string;
  readonly glueDatabase: string;
  /** @default 'primary' */
  readonly athenaWorkgroup?: string;
  /** `s3://…/` for Athena result files; omit when the workgroup enforces one. */
  readonly athenaOutput?: string;
  /** Key prefix of the lake inside the bucket. @default '' */
  readonly prefix?: string;
  /** Name prefix of connector secrets. @default 'sluice/' */
  readonly secretsPrefix?: string;
  /**
   * Clients to use instead of ones built from the environment, e.g. wrapped
   * by Powertools Tracer (`tracer.captureAWSv3Client(client)`).
   * @default clients from the standard AWS variables (see config.ts)
   */
  readonly clients?: AwsClients;
}

export interface AwsClients {
  readonly s3?: S3Client;
  readonly dynamodb?: DynamoDBClient;
  readonly glue?: GlueClient;
  readonly athena?: AthenaClient;
  readonly secretsManager?: SecretsManagerClient;
}

export interface AwsBackend extends Backend {
  readonly objects: S3ObjectStore;
  readonly state: DynamoDbStateStore;
  readonly catalog: GlueCatalog;
  readonly secrets: SecretsManagerSecretStore;
  /** An Athena engine over the Glue database; close it when done (stops queries still running). */
  openQueryEngine(): Promise<AthenaQueryEngine>;
}

/**
 * The AWS backend. Clients not given in `options.clients` are built from the
 * environment, read once here (`settings` to use other values).
 */
export function openAwsBackend(
  options: AwsBackendOptions,
  settings: AwsSettings = readAwsSettings(),
): AwsBackend {
  const given = options.clients ?? {};
  const objects = new S3ObjectStore({
    bucket: options.bucket,
    prefix: options.prefix,
    client: given.s3 ?? new S3Client(clientConfig(AwsService.s3, settings)),
  });
  const state = new DynamoDbStateStore({
    tableName: options.table,
    client: given.dynamodb ?? new DynamoDBClient(clientConfig(AwsService.dynamodb, settings)),
  });
  const catalog = new GlueCatalog({
    database: options.glueDatabase,
    locationOf: (key) => objects.uri(key),
    client: given.glue ?? new GlueClient(clientConfig(AwsService.glue, settings)),
  });
  const secrets = new SecretsManagerSecretStore({
    client:
      given.secretsManager ?? new SecretsManagerClient(clientConfig(AwsService.secretsManager, settings)),
    ...(options.secretsPrefix === undefined ? {} : { prefix: options.secretsPrefix }),
  });
  return {
    objects,
    state,
    catalog,
    secrets,
    // Athena is loaded when a query engine is opened: handlers that never query do not load its client.
    openQueryEngine: async () => {
      const [{ AthenaClient }, { AthenaQueryEngine }] = await Promise.all([
        import('@aws-sdk/client-athena'),
        import('./athena-query-engine.js'),
      ]);
      return new AthenaQueryEngine({
        database: options.glueDatabase,
        client: given.athena ?? new AthenaClient(clientConfig(AwsService.athena, settings)),
        ...(options.athenaWorkgroup === undefined ? {} : { workgroup: options.athenaWorkgroup }),
        ...(options.athenaOutput === undefined ? {} : { outputLocation: options.athenaOutput }),
      });
    },
  };
}

/**
 * Backend options from the environment, for Lambda handlers and the CLI:
 * `SLUICE_BUCKET`, `SLUICE_TABLE`, `SLUICE_GLUE_DATABASE` (required),
 * `SLUICE_ATHENA_WORKGROUP`, `SLUICE_ATHENA_OUTPUT`, `SLUICE_LAKE_PREFIX`,
 * `SLUICE_SECRETS_PREFIX` (optional). Throws naming the missing variable.
 */
export function awsBackendOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsBackendOptions {
  const required = (key: string): string => {
    const value = env[key]?.trim();
    if (!value) throw new Error(`${key} is not set: the AWS backend needs it (see docs/configuration.md)`);
    return value;
  };
  const optional = (key: string): string | undefined => env[key]?.trim() || undefined;
  const athenaWorkgroup = optional('SLUICE_ATHENA_WORKGROUP');
  const athenaOutput = optional('SLUICE_ATHENA_OUTPUT');
  const prefix = optional('SLUICE_LAKE_PREFIX');
  const secretsPrefix = optional('SLUICE_SECRETS_PREFIX');
  return {
    bucket: required('SLUICE_BUCKET'),
    table: required('SLUICE_TABLE'),
    glueDatabase: required('SLUICE_GLUE_DATABASE'),
    ...(athenaWorkgroup === undefined ? {} : { athenaWorkgroup }),
    ...(athenaOutput === undefined ? {} : { athenaOutput }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(secretsPrefix === undefined ? {} : { secretsPrefix }),
  };
}
