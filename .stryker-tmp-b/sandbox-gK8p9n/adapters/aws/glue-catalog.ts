/**
 * Catalog on the Glue Data Catalog: one database, one external Parquet table
 * per stream, named `<source>__<stream>` (both snake_case, so the double
 * underscore is unambiguous to a reader; the source and stream are also kept
 * as table parameters, which is what this adapter decodes).
 *
 * Tables use partition projection on `dt` (yyyy-MM-dd, the lake's
 * `dt=<date>/` directories), so Athena computes partitions from the table
 * parameters: no crawler, no MSCK REPAIR, no BatchCreatePartition per run.
 * Files are found by location; `addFiles` therefore records nothing.
 *
 * The schema history (`TableDefinition.schemaVersions`) is kept in the table
 * parameter `sluice.schema_versions`; every schema change is an UpdateTable,
 * which Glue also archives as a table version. Athena reads Parquet columns
 * by name, so files written under an older schema stay readable: columns they
 * lack read as NULL, and the engine only changes a column's type where Athena
 * reads the older files (docs/adr/0006). Glue lowercases column names, so
 * they are compared ignoring case: an unchanged table makes no new version.
 * The projection range start is stored once (`sluice.projection_start`) and
 * never moves, even when the oldest schema versions are trimmed.
 *
 * Names and types are checked by the engine before its commit point
 * (`validateTableForCatalog`); this adapter runs after it, so it stores what
 * it is given rather than fail a publish that recovery would only repeat
 * (a legacy data column `dt` is left out: the partition key wins).
 */
// @ts-nocheck

import {
  AlreadyExistsException,
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  GlueClient,
  type Column as GlueColumn,
  paginateGetTables,
  type Table,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import type { ColumnType } from '../../connectors/sdk/types.js';
import { catalogTableName, PARTITION_KEY } from '../../engine/catalog-rules.js';
import type { Catalog, Column, SchemaVersion, TableDefinition } from '../../engine/ports.js';
import { METADATA_COLUMNS } from '../../engine/schema.js';
import { HIVE_TYPES, hiveType } from '../../engine/sql-types.js';
import { AwsService, clientConfig } from './config.js';

export { PARTITION_KEY };

/** Glue type per lake column type (engine/sql-types.ts). */
export const GLUE_TYPES = HIVE_TYPES;

/** The Glue (Hive DDL) type of a lake column type; `decimal(p,s)` is spelled the same. */
export function glueType(type: ColumnType): string {
  return hiveType(type);
}

const PARQUET = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

/** Table parameters this adapter owns; others (set by people or other tools) are preserved. */
const P = {
  source: 'sluice.source',
  stream: 'sluice.stream',
  kind: 'sluice.table_kind',
  primaryKey: 'sluice.primary_key',
  writeDisposition: 'sluice.write_disposition',
  lakeLocation: 'sluice.location',
  schemaVersion: 'sluice.schema_version',
  schemaVersions: 'sluice.schema_versions',
  schemaVersionsDropped: 'sluice.schema_versions_dropped',
  projectionStart: 'sluice.projection_start',
} as const;

/** Glue allows 512,000 characters per parameter value; keep a margin. */
const MAX_PARAMETER_CHARS = 500_000;
const DAY_MS = 86_400_000;

export interface GlueCatalogOptions {
  readonly database: string;
  /** Maps a lake key (`raw/<source>/<stream>/`) to its URI: the object store's `uri`. */
  readonly locationOf: (key: string) => string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: GlueClient;
  /** @default the caller's account */
  readonly catalogId?: string;
  /**
   * First day partition projection enumerates (yyyy-MM-dd). Queries that do
   * not filter on `dt` list every projected day, so it should not start
   * earlier than needed.
   * @default the day before the table's first schema version
   */
  readonly projectionStart?: string;
}

export function glueTableName(source: string, stream: string): string {
  return catalogTableName(source, stream);
}

export class GlueCatalog implements Catalog {
  public readonly database: string;
  public readonly client: GlueClient;
  private readonly locationOf: (key: string) => string;
  private readonly catalogId: string | undefined;
  private readonly projectionStart: string | undefined;

  public constructor(options: GlueCatalogOptions) {
    if (!options.database) throw new Error('GlueCatalog needs a database name');
    if (options.projectionStart !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.projectionStart)) {
      throw new Error(`GlueCatalog projectionStart must be yyyy-MM-dd, got "${options.projectionStart}"`);
    }
    this.database = options.database;
    this.client = options.client ?? new GlueClient(clientConfig(AwsService.glue));
    this.locationOf = options.locationOf;
    this.catalogId = options.catalogId;
    this.projectionStart = options.projectionStart;
  }

  public async getTable(source: string, stream: string): Promise<TableDefinition | undefined> {
    const table = await this.getGlueTable(glueTableName(source, stream));
    return table ? decodeTable(table) : undefined;
  }

  public async listTables(source?: string): Promise<TableDefinition[]> {
    const tables: TableDefinition[] = [];
    try {
      const pages = paginateGetTables(
        { client: this.client, pageSize: 100 },
        { DatabaseName: this.database, ...this.catalog() },
      );
      for await (const page of pages) {
        for (const table of page.TableList ?? []) {
          const decoded = decodeTable(table);
          if (decoded && (source === undefined || decoded.source === source)) tables.push(decoded);
        }
      }
    } catch (error) {
      if (error instanceof EntityNotFoundException) return [];
      throw error;
    }
    return tables.sort((a, b) => compare(`${a.source}\u0000${a.stream}`, `${b.source}\u0000${b.stream}`));
  }

  public async putTable(table: TableDefinition): Promise<void> {
    const existing = await this.getGlueTable(glueTableName(table.source, table.stream));
    const input = this.tableInput(table, storedProjectionStart(existing));
    if (!existing) {
      try {
        await this.createTable(input);
        return;
      } catch (error) {
        // Another writer created it first: fall through and converge to our definition.
        if (!(error instanceof AlreadyExistsException)) throw error;
      }
    }
    const current = existing ?? (await this.getGlueTable(input.Name!));
    // The writer that created the table first chose the projection start; keep it.
    const converged = existing ? input : this.tableInput(table, storedProjectionStart(current));
    if (current && sameManaged(current, converged)) return;
    await this.client.send(
      new UpdateTableCommand({
        DatabaseName: this.database,
        ...this.catalog(),
        TableInput: { ...converged, Parameters: { ...foreignParameters(current), ...converged.Parameters } },
      }),
    );
  }

  /** Files are found by the table's location (partition projection): nothing to record. */
  public async addFiles(
    _source: string,
    _stream: string,
    _runId: string,
    _keys: readonly string[],
  ): Promise<void> {}

  public async deleteTable(source: string, stream: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteTableCommand({
          DatabaseName: this.database,
          Name: glueTableName(source, stream),
          ...this.catalog(),
        }),
      );
    } catch (error) {
      if (error instanceof EntityNotFoundException) return;
      throw error;
    }
  }

  /** Creates the database if it does not exist (the CDK stack creates it in AWS). */
  public async ensureDatabase(): Promise<void> {
    try {
      await this.client.send(
        new CreateDatabaseCommand({
          ...this.catalog(),
          DatabaseInput: { Name: this.database, Description: 'Sluice raw tables (one per source stream)' },
        }),
      );
    } catch (error) {
      if (!(error instanceof AlreadyExistsException)) throw error;
    }
  }

  /**
   * The Glue TableInput for a definition; exported through the class for tests and the CDK docs.
   * `storedStart` is the projection start the table already has: once stored, it never moves.
   */
  public tableInput(table: TableDefinition, storedStart?: string): TableInput {
    const latest = table.schemaVersions.at(-1);
    const location = this.locationOf(table.location);
    const base = location.endsWith('/') ? location : `${location}/`;
    const { encoded, dropped } = encodeVersions(table.schemaVersions);
    const start =
      storedStart ??
      this.projectionStart ??
      (table.schemaVersions[0] ? dayBefore(table.schemaVersions[0].createdAt) : '2000-01-01');
    return {
      Name: glueTableName(table.source, table.stream),
      Description: `Raw rows of ${table.source}.${table.stream}, landed by Sluice`,
      TableType: 'EXTERNAL_TABLE',
      PartitionKeys: [{ Name: PARTITION_KEY, Type: 'string', Comment: 'run date (yyyy-MM-dd, UTC)' }],
      StorageDescriptor: {
        Columns: glueColumns(latest?.columns ?? []),
        Location: base,
        InputFormat: PARQUET.inputFormat,
        OutputFormat: PARQUET.outputFormat,
        SerdeInfo: { SerializationLibrary: PARQUET.serde, Parameters: { 'serialization.format': '1' } },
        Compressed: true,
        StoredAsSubDirectories: false,
      },
      Parameters: {
        EXTERNAL: 'TRUE',
        classification: 'parquet',
        'projection.enabled': 'true',
        [`projection.${PARTITION_KEY}.type`]: 'date',
        [`projection.${PARTITION_KEY}.format`]: 'yyyy-MM-dd',
        [`projection.${PARTITION_KEY}.range`]: `${start},NOW`,
        [`projection.${PARTITION_KEY}.interval`]: '1',
        [`projection.${PARTITION_KEY}.interval.unit`]: 'DAYS',
        'storage.location.template': `${base}${PARTITION_KEY}=\${${PARTITION_KEY}}/`,
        [P.source]: table.source,
        [P.stream]: table.stream,
        [P.kind]: 'raw',
        [P.lakeLocation]: table.location,
        [P.primaryKey]: JSON.stringify(table.primaryKey),
        [P.writeDisposition]: table.writeDisposition,
        [P.schemaVersion]: String(latest?.version ?? 0),
        [P.schemaVersions]: encoded,
        [P.projectionStart]: start,
        ...(dropped > 0 ? { [P.schemaVersionsDropped]: String(dropped) } : {}),
      },
    };
  }

  private async createTable(input: TableInput): Promise<void> {
    const create = () =>
      this.client.send(
        new CreateTableCommand({ DatabaseName: this.database, ...this.catalog(), TableInput: input }),
      );
    try {
      await create();
    } catch (error) {
      // The database does not exist yet (local development, tests): create it, then the table.
      if (!(error instanceof EntityNotFoundException)) throw error;
      await this.ensureDatabase();
      await create();
    }
  }

  private async getGlueTable(name: string): Promise<Table | undefined> {
    try {
      const response = await this.client.send(
        new GetTableCommand({ DatabaseName: this.database, Name: name, ...this.catalog() }),
      );
      return response.Table;
    } catch (error) {
      if (error instanceof EntityNotFoundException) return undefined;
      throw error;
    }
  }

  private catalog(): { CatalogId?: string } {
    return this.catalogId === undefined ? {} : { CatalogId: this.catalogId };
  }
}

/** Data columns, then the metadata columns every file carries; never the partition key. */
function glueColumns(columns: readonly Column[]): GlueColumn[] {
  const names = new Set(columns.map((c) => c.name));
  const all = [...columns, ...METADATA_COLUMNS.filter((c) => !names.has(c.name))];
  return all
    .filter((c) => c.name.toLowerCase() !== PARTITION_KEY)
    .map((c) => ({
      Name: c.name,
      Type: glueType(c.type),
      ...(c.type === 'json' ? { Comment: 'json' } : {}),
      ...(c.variantOf !== undefined ? { Comment: `variant of ${c.variantOf}` } : {}),
    }));
}

/**
 * The schema history as JSON; the oldest versions are dropped if it outgrows
 * a parameter value. `dropped` counts every version dropped so far: versions
 * are numbered from 1, so it follows from the first one kept (a history read
 * back already trimmed reports the same count, and no update is made for it).
 */
function encodeVersions(versions: readonly SchemaVersion[]): { encoded: string; dropped: number } {
  let cut = 0;
  let encoded = JSON.stringify(versions);
  while (encoded.length > MAX_PARAMETER_CHARS && cut < versions.length - 1) {
    cut++;
    encoded = JSON.stringify(versions.slice(cut));
  }
  const first = versions[cut]?.version ?? 1;
  return { encoded, dropped: Math.max(0, first - 1) };
}

/** The projection start a Glue table already has: its own parameter, else its range's start. */
function storedProjectionStart(table: Table | undefined): string | undefined {
  const p = table?.Parameters ?? {};
  const stored = p[P.projectionStart] ?? p[`projection.${PARTITION_KEY}.range`]?.split(',')[0]?.trim();
  return stored !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(stored) ? stored : undefined;
}

function decodeTable(table: Table): TableDefinition | undefined {
  const p = table.Parameters ?? {};
  const source = p[P.source];
  const stream = p[P.stream];
  if (source === undefined || stream === undefined || p[P.kind] !== 'raw') return undefined;
  return {
    source,
    stream,
    location: p[P.lakeLocation] ?? `raw/${source}/${stream}/`,
    primaryKey: parseJson<string[]>(p[P.primaryKey], []),
    writeDisposition: p[P.writeDisposition] ?? 'append',
    schemaVersions: parseJson<SchemaVersion[]>(p[P.schemaVersions], []),
  };
}

/** Whether the Glue table already says what `input` says (only the parts this adapter owns). */
function sameManaged(table: Table, input: TableInput): boolean {
  const sd = table.StorageDescriptor;
  const want = input.StorageDescriptor!;
  // Glue stores column names lowercased: compare them ignoring case, or every run would update.
  const columns = (cs: readonly GlueColumn[] | undefined) =>
    JSON.stringify((cs ?? []).map((c) => [c.Name?.toLowerCase(), c.Type, c.Comment ?? '']));
  if (columns(sd?.Columns) !== columns(want.Columns)) return false;
  if (columns(table.PartitionKeys) !== columns(input.PartitionKeys)) return false;
  if (sd?.Location !== want.Location) return false;
  if (sd?.InputFormat !== want.InputFormat || sd?.OutputFormat !== want.OutputFormat) return false;
  if (sd?.SerdeInfo?.SerializationLibrary !== want.SerdeInfo?.SerializationLibrary) return false;
  if (table.TableType !== input.TableType) return false;
  const have = table.Parameters ?? {};
  const params = input.Parameters ?? {};
  for (const [name, value] of Object.entries(params)) if (have[name] !== value) return false;
  if (have[P.schemaVersionsDropped] !== undefined && params[P.schemaVersionsDropped] === undefined)
    return false;
  return true;
}

const MANAGED_PREFIXES = ['sluice.', 'projection.'];

function foreignParameters(table: Table | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(table?.Parameters ?? {})) {
    if (!MANAGED_PREFIXES.some((prefix) => name.startsWith(prefix))) out[name] = value;
  }
  return out;
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function dayBefore(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '2000-01-01';
  return new Date(t - DAY_MS).toISOString().slice(0, 10);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
