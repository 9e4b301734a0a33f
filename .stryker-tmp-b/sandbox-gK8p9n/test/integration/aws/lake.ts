/**
 * A throwaway lake on the AWS adapters (a fresh bucket, state table and Glue
 * database on the emulator) with the sample source registered, and a reader
 * that sees the lake exactly as Athena would.
 *
 * Athena cannot run SQL on the emulator, so `athenaRows` applies Athena's
 * rules itself: it reads each Glue table's settings back from Glue, selects
 * the objects that table's partition projection points at
 * (`storage.location.template` with `dt` in `projection.dt.range`, skipping
 * names Athena ignores: `_…` and `.…`), and reads those Parquet files with
 * DuckDB through the Glue table's columns and types. A file outside the
 * template (e.g. under `_staging/`) is invisible, as it is in Athena.
 */
// @ts-nocheck

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GlueClient, paginateGetTables, type Table } from '@aws-sdk/client-glue';
import { DuckDBInstance } from '@duckdb/node-api';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { createStateTable } from '../../../adapters/aws/dynamodb-state-store.js';
import { type AwsBackend, type AwsClients, openAwsBackend } from '../../../adapters/aws/index.js';
import { sampleConnector } from '../../../connectors/sample/index.js';
import { silentLogger } from '../../../connectors/sdk/logger.js';
import type { Connector, Logger } from '../../../connectors/sdk/types.js';
import type { RunRecord, SourceDefinition } from '../../../engine/ports.js';
import { runSync, type SyncOptions } from '../../../engine/sync.js';
import { sampleVersionsSql, versionsOf } from '../../support/sample-oracle.js';
import { createBucket, uniqueName } from './support.js';

export const SAMPLE_CONFIG = { rows: 3000, seed: 11, pageSize: 250 };
/** Small row groups and 1-byte target files: every row group becomes its own file (many moves to fail between). */
export const MANY_FILES = { rowGroupRows: 500, targetFileBytes: 1 } as const;
/** Lease of a sync run by sync-child.ts: short, so the run after the crash takes it over soon. */
export const CHILD_LEASE_TTL_MS = 3000;

export interface AwsLakeNames {
  readonly bucket: string;
  readonly table: string;
  readonly glueDatabase: string;
  readonly prefix: string;
}

export interface AwsTestLake {
  readonly names: AwsLakeNames;
  readonly backend: AwsBackend;
  readonly source: SourceDefinition;
  sync(overrides?: Partial<SyncOptions>): Promise<RunRecord>;
  /** Runs DuckDB SQL over the Glue tables (named `<source>__<stream>`) as Athena would see them. */
  athenaRows(sql: string): Promise<Record<string, unknown>[]>;
  /** Staged files and pending manifests: what an unfinished commit leaves behind. */
  leftovers(): Promise<string[]>;
}

export function sampleSource(
  name = 'shop',
  config: Record<string, unknown> = SAMPLE_CONFIG,
): SourceDefinition {
  const now = new Date().toISOString();
  return { name, type: 'sample', config, createdAt: now, updatedAt: now };
}

/** Creates the bucket, table and database names of a fresh lake (and the bucket and table themselves). */
export async function createAwsLake(): Promise<AwsLakeNames> {
  const names = {
    bucket: uniqueName('sluice-lake'),
    table: uniqueName('sluice-state'),
    glueDatabase: uniqueName('sluice', '_'),
    prefix: 'lake/',
  };
  await createBucket(names.bucket);
  await createStateTable({ tableName: names.table });
  return names;
}

export async function openAwsTestLake(
  options: {
    readonly names?: AwsLakeNames;
    readonly source?: SourceDefinition;
    readonly connector?: Connector<never>;
    readonly config?: unknown;
    readonly logger?: Logger;
    /** Clients to reach AWS with (e.g. through a fault proxy). */
    readonly clients?: AwsClients;
  } = {},
): Promise<AwsTestLake> {
  const names = options.names ?? (await createAwsLake());
  const backend = openAwsBackend({ ...names, ...(options.clients ? { clients: options.clients } : {}) });
  const source = options.source ?? sampleSource();
  const connector = options.connector ?? (sampleConnector as Connector<never>);
  const config = options.config ?? source.config;
  await backend.state.putSource(source);
  return {
    names,
    backend,
    source,
    sync: (overrides = {}) =>
      runSync(
        {
          objects: backend.objects,
          state: backend.state,
          catalog: backend.catalog,
          logger: options.logger ?? silentLogger,
        },
        { source, connector, config, ...MANY_FILES, ...overrides },
      ),
    athenaRows: (sql) => athenaRows(backend, names.glueDatabase, sql),
    leftovers: async () => {
      const staged = await backend.objects.list('_staging/');
      const pending = await backend.objects.list(`_manifests/${source.name}/pending/`);
      return [...staged, ...pending].map((o) => o.key);
    },
  };
}

/** Every landed sample row as `stream|id|cursor|deleted`, sorted: compares lakes regardless of run ids. */
export async function landedSampleRows(lake: AwsTestLake, source = 'shop'): Promise<string[]> {
  const rows = await lake.athenaRows(`
    SELECT 'customers' AS s, CAST(id AS VARCHAR) AS k, CAST(updated_at AS VARCHAR) AS c, coalesce(_sluice_deleted, false) AS d FROM ${source}__customers
    UNION ALL SELECT 'orders', CAST(id AS VARCHAR), CAST(updated_at AS VARCHAR), coalesce(_sluice_deleted, false) FROM ${source}__orders
    UNION ALL SELECT 'events', id, CAST(occurred_at AS VARCHAR), false FROM ${source}__events`);
  return rows.map((r) => `${r.s}|${r.k}|${r.c}|${r.d}`).sort();
}

/** Every landed sample record as an oracle version, as Athena would read it; sorted, duplicates kept. */
export async function landedSampleVersions(lake: AwsTestLake, source = 'shop'): Promise<string[]> {
  return versionsOf(await lake.athenaRows(sampleVersionsSql((stream) => `${source}__${stream}`)));
}

/** Glue column types as DuckDB types (timestamps in UTC, as Athena renders them). */
const DUCKDB_TYPES: Readonly<Record<string, string>> = {
  boolean: 'BOOLEAN',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  date: 'DATE',
};

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** The objects Athena reads for a table: those under its projected partitions, minus hidden names. */
export async function athenaFiles(backend: AwsBackend, table: Table): Promise<{ key: string; dt: string }[]> {
  const parameters = table.Parameters ?? {};
  const template = parameters['storage.location.template'];
  const range = parameters['projection.dt.range'];
  if (parameters['projection.enabled'] !== 'true' || !template || !range) {
    throw new Error(`Glue table ${table.Name} has no partition projection: Athena would see no partitions`);
  }
  const [start, end] = range.split(',');
  const last = end === 'NOW' ? new Date().toISOString().slice(0, 10) : end!;
  const escaped = template
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace('\\$\\{dt\\}', '(\\d{4}-\\d{2}-\\d{2})');
  const partition = new RegExp(`^${escaped}([^/]+)$`);
  const location = table.StorageDescriptor?.Location ?? '';
  const { bucket, prefix } = backend.objects;
  if (!location.startsWith(`s3://${bucket}/${prefix}`)) throw new Error(`unexpected location ${location}`);
  const files: { key: string; dt: string }[] = [];
  for (const object of await backend.objects.list(location.slice(`s3://${bucket}/${prefix}`.length))) {
    const match = partition.exec(backend.objects.uri(object.key));
    if (!match) continue;
    const dt = match[1]!;
    const name = match[2]!;
    if (name.startsWith('_') || name.startsWith('.')) continue;
    if (dt < start! || dt > last) continue;
    files.push({ key: object.key, dt });
  }
  return files;
}

async function athenaRows(
  backend: AwsBackend,
  database: string,
  sql: string,
): Promise<Record<string, unknown>[]> {
  const glue = new GlueClient(clientConfig(AwsService.glue));
  const tables: Table[] = [];
  for await (const page of paginateGetTables({ client: glue }, { DatabaseName: database })) {
    tables.push(...(page.TableList ?? []));
  }
  const dir = await mkdtemp(join(tmpdir(), 'sluice-athena-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    for (const table of tables) {
      const columns = [
        ...(table.StorageDescriptor?.Columns ?? []).map((c) => ({
          name: c.Name!,
          type: DUCKDB_TYPES[c.Type!],
        })),
        ...(table.PartitionKeys ?? []).map((c) => ({ name: c.Name!, type: DUCKDB_TYPES[c.Type!] })),
      ];
      if (columns.some((c) => c.type === undefined)) throw new Error(`unmapped Glue type in ${table.Name}`);
      const empty = `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quote(c.name)}`).join(', ')} WHERE false`;
      const files = await athenaFiles(backend, table);
      const paths: string[] = [];
      for (const file of files) {
        const path = join(dir, table.Name!, `dt=${file.dt}`, file.key.replaceAll('/', '__'));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, (await backend.objects.get(file.key))!);
        paths.push(path);
      }
      const read =
        paths.length === 0
          ? empty
          : `SELECT * FROM read_parquet([${paths.map(literal).join(', ')}], union_by_name = true, ` +
            `hive_partitioning = true, hive_types = {'dt': VARCHAR}) UNION ALL BY NAME ${empty}`;
      const casts = columns.map((c) => `CAST(${quote(c.name)} AS ${c.type}) AS ${quote(c.name)}`).join(', ');
      await connection.run(`CREATE VIEW ${quote(table.Name!)} AS SELECT ${casts} FROM (${read})`);
    }
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
