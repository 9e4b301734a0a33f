/**
 * What every command needs: the backend (local by default), the connector
 * registry and a logger that writes to stderr, so stdout carries only results.
 * Adapters and connectors are imported here, when a command opens its
 * context, never at start-up: `sluice --help` loads neither the AWS SDK nor
 * DuckDB nor any connector.
 */
// @ts-nocheck

import { resolve } from 'node:path';
import type { Logger } from '../connectors/sdk/types.js';
import { ValidationError } from '../engine/errors.js';
import type { Catalog, ObjectStore, QueryEngine, SecretStore, StateStore } from '../engine/ports.js';
import type { ConnectorRegistry } from '../engine/sources.js';

export interface GlobalOptions {
  readonly home?: string;
  readonly backend?: string;
  readonly verbose?: boolean;
}

export interface CliContext {
  readonly backend: 'local' | 'aws';
  /** Where local mode keeps its lake and state. */
  readonly location: string;
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly secrets: SecretStore;
  readonly registry: ConnectorRegistry;
  readonly logger: Logger;
  openQueryEngine(): Promise<QueryEngine>;
}

/** The local home: `--home`, else `SLUICE_HOME`, else `.sluice` in the working directory. */
export function resolveHome(options: GlobalOptions): string {
  return resolve(options.home ?? process.env.SLUICE_HOME ?? '.sluice');
}

export function stderrLogger(verbose: boolean): Logger {
  const write =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      const detail = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
      process.stderr.write(`${level}: ${message}${detail}\n`);
    };
  return {
    debug: verbose ? write('debug') : () => undefined,
    info: verbose ? write('info') : () => undefined,
    warn: write('warning'),
    error: write('error'),
  };
}

export async function openContext(options: GlobalOptions): Promise<CliContext> {
  const backend = options.backend ?? process.env.SLUICE_BACKEND ?? 'local';
  const logger = stderrLogger(options.verbose ?? false);
  if (backend === 'local') return openLocal(options, logger);
  if (backend === 'aws') return openAws(logger);
  throw new ValidationError(`--backend must be "local" or "aws", not "${backend}"`, { field: 'backend' });
}

async function openLocal(options: GlobalOptions, logger: Logger): Promise<CliContext> {
  const [{ registry }, { openLocalBackend }, { LocalSecretStore }] = await Promise.all([
    import('../connectors/index.js'),
    import('../adapters/local/index.js'),
    import('../adapters/local/secret-store.js'),
  ]);
  const home = resolveHome(options);
  const local = await openLocalBackend(home);
  return {
    backend: 'local',
    location: home,
    objects: local.objects,
    state: local.state,
    catalog: local.catalog,
    secrets: new LocalSecretStore(home),
    registry,
    logger,
    openQueryEngine: () => local.openQueryEngine(),
  };
}

async function openAws(logger: Logger): Promise<CliContext> {
  const [{ registry }, { awsBackendOptionsFromEnv, openAwsBackend }] = await Promise.all([
    import('../connectors/index.js'),
    import('../adapters/aws/index.js'),
  ]);
  let options: ReturnType<typeof awsBackendOptionsFromEnv>;
  try {
    options = awsBackendOptionsFromEnv();
  } catch (error) {
    throw new ValidationError((error as Error).message, { field: 'backend', cause: error });
  }
  const aws = openAwsBackend(options);
  return {
    backend: 'aws',
    location: `s3://${options.bucket}/${options.prefix ?? ''}`,
    objects: aws.objects,
    state: aws.state,
    catalog: aws.catalog,
    secrets: aws.secrets,
    registry,
    logger,
    openQueryEngine: () => aws.openQueryEngine(),
  };
}
