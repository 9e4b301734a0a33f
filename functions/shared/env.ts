/**
 * The handlers' environment, parsed once per container with errors that name
 * the variable. CDK sets every variable from construct outputs (infra/).
 */
import type { AwsBackendOptions } from '../../adapters/aws/index.js';
// The module alone (node:os and an error class), not the writer: every handler imports this file.
import { ENCODER_PLACE_VARIABLE, encoderPlace } from '../../engine/parquet/encoder-place.js';

export class EnvError extends Error {
  public readonly variable: string;
  public constructor(variable: string, message: string) {
    super(message);
    this.name = 'EnvError';
    this.variable = variable;
  }
}

type Env = NodeJS.ProcessEnv;

export function requiredEnv(key: string, env: Env = process.env): string {
  const value = env[key]?.trim();
  if (!value) {
    throw new EnvError(
      key,
      `${key} is not set: the function needs it (the CDK stack sets it; see docs/deploy.md)`,
    );
  }
  return value;
}

export function optionalEnv(key: string, env: Env = process.env): string | undefined {
  return env[key]?.trim() || undefined;
}

/** What the AWS backend needs: the lake bucket, the state table, the Glue database, Athena. */
export function backendEnv(env: Env = process.env): AwsBackendOptions {
  const athenaWorkgroup = optionalEnv('SLUICE_ATHENA_WORKGROUP', env);
  const prefix = optionalEnv('SLUICE_LAKE_PREFIX', env);
  const secretsPrefix = optionalEnv('SLUICE_SECRETS_PREFIX', env);
  return {
    bucket: requiredEnv('SLUICE_BUCKET', env),
    table: requiredEnv('SLUICE_TABLE', env),
    glueDatabase: requiredEnv('SLUICE_GLUE_DATABASE', env),
    ...(athenaWorkgroup === undefined ? {} : { athenaWorkgroup }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(secretsPrefix === undefined ? {} : { secretsPrefix }),
  };
}

/** What the API needs besides the backend: the state machine it starts and the scheduler it programs. */
export interface ApiEnv {
  readonly stateMachineArn: string;
  readonly schedulerGroup: string;
  readonly schedulerRoleArn: string;
}

export function apiEnv(env: Env = process.env): ApiEnv {
  return {
    stateMachineArn: requiredEnv('SLUICE_STATE_MACHINE_ARN', env),
    schedulerGroup: requiredEnv('SLUICE_SCHEDULER_GROUP', env),
    schedulerRoleArn: requiredEnv('SLUICE_SCHEDULER_ROLE_ARN', env),
  };
}

/** Memoises a factory: built on first use, once per container. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** SLUICE_PARQUET_ENCODER, checked when the container starts: a bad value fails the init, not every write. */
export function checkParquetEncoderEnv(env: Env = process.env): void {
  try {
    encoderPlace(env);
  } catch (error) {
    throw new EnvError(ENCODER_PLACE_VARIABLE, error instanceof Error ? error.message : String(error));
  }
}
