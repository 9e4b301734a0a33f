/**
 * What every command needs: the backend (local by default), the connector
 * registry and a logger that writes to stderr, so stdout carries only results.
 */
import { resolve } from 'node:path';
import { awsBackendOptionsFromEnv, openAwsBackend } from '../adapters/aws/index.js';
import { openLocalBackend } from '../adapters/local/index.js';
import { LocalSecretStore } from '../adapters/local/secret-store.js';
import { registry } from '../connectors/index.js';
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
  if (backend === 'local') {
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
  if (backend === 'aws') {
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
  throw new ValidationError(`--backend must be "local" or "aws", not "${backend}"`, { field: 'backend' });
}
