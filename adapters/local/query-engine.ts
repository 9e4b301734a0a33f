/**
 * The local Athena: an in-memory DuckDB over the Parquet files of the lake.
 *
 * Before each query every catalog table becomes a view `<source>.<stream>`
 * over everything under the table's location (Athena's rule: all objects
 * under the location are visible, nothing else is; uncommitted files live
 * under `_staging/`, outside every location). The view casts each column of
 * the table's latest schema version to its type, so files written under
 * older versions stay readable: missing columns read as NULL, and the one
 * in-place widening the engine makes (int → bigint, as Athena reads INT32
 * files) is cast; other type changes land in variant columns
 * (docs/adr/0006). A file Athena would refuse is refused here too: each
 * file's Parquet type is checked against the declared type with Athena's
 * rule (athena-types.ts), and a query that reads such a column fails with
 * Athena's HIVE_BAD_DATA, where DuckDB alone would cast it.
 * The `dt` partition comes from the Hive-style directory names.
 *
 * A table with registered partitions (push tables) is read as Athena reads
 * it without projection: only the files under each partition's registered
 * location, resolved from the catalog when the query starts, so a reader
 * sees one version of a partition, never two (ADR 0009, amendment).
 */
import type * as DuckDb from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance, DuckDBValueConverter } from '@duckdb/node-api';
import { SluiceError, ValidationError } from '../../engine/errors.js';
import {
  type Catalog,
  type ObjectStore,
  Partitioning,
  type QueryEngine,
  type QueryResult,
  type StateStore,
  type TableDefinition,
} from '../../engine/ports.js';
import { duckDbType } from '../../engine/sql-types.js';
import { currentSnapshotKey, currentTableName } from '../../engine/stages/merge-plan.js';
import { modelPointerKey } from '../../engine/stages/models.js';
import { readWatermark } from '../../engine/stages/watermark.js';
import { athenaReads, describeFileType } from './athena-types.js';

/** The Hive partition column every raw table has. */
export const PARTITION_COLUMN = 'dt';

export interface DuckDbQueryEngineOptions {
  /** Tables to expose as views. */
  readonly catalog: Catalog;
  /** The lake; `uri(location)` tells DuckDB where a table's files are. */
  readonly objects: ObjectStore;
  /**
   * Where the merge watermarks are: each keyed table's `current` snapshot is
   * the one its watermark names (engine/stages/merge.ts). Without it, no
   * `current` tables are exposed.
   */
  readonly state?: StateStore;
}

export class DuckDbQueryEngine implements QueryEngine {
  public readonly dialect = 'duckdb' as const;
  private readonly instance: DuckDBInstance;
  private readonly connection: DuckDBConnection;
  private readonly options: DuckDbQueryEngineOptions;
  private readonly toPlain: DuckDBValueConverter<unknown>;
  /** Views created by earlier refreshes, as `"schema"."view"`, so dropped tables disappear. */
  private views = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    instance: DuckDBInstance,
    connection: DuckDBConnection,
    options: DuckDbQueryEngineOptions,
    toPlain: DuckDBValueConverter<unknown>,
  ) {
    this.instance = instance;
    this.connection = connection;
    this.options = options;
    this.toPlain = toPlain;
  }

  public static async open(options: DuckDbQueryEngineOptions): Promise<DuckDbQueryEngine> {
    // Loaded here, not at the top: a sync never queries, and DuckDB's native library costs start-up time and memory.
    const duckdb = await import('@duckdb/node-api');
    const instance = await duckdb.DuckDBInstance.create(':memory:');
    try {
      const connection = await instance.connect();
      // Athena renders timestamps in UTC; so do we, whatever the laptop's zone.
      await connection.run(`SET TimeZone = 'UTC'`);
      return new DuckDbQueryEngine(instance, connection, options, plainConverter(duckdb));
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  /** Runs one or more `;`-separated statements and returns the last one's result. Calls run one at a time. */
  public query(sql: string): Promise<QueryResult> {
    const run = this.queue.then(() => this.execute(sql));
    this.queue = run.catch(() => undefined);
    return run;
  }

  public async close(): Promise<void> {
    await this.queue;
    if (this.closed) return;
    this.closed = true;
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private async execute(sql: string): Promise<QueryResult> {
    if (this.closed) throw new SluiceError('the query engine is closed');
    if (typeof sql !== 'string' || sql.trim() === '') {
      throw new ValidationError('sql must be a non-empty query', { field: 'sql' });
    }
    await this.refreshViews();
    const reader = await this.connection.streamAndReadAll(sql);
    const columns = reader.deduplicatedColumnNames();
    const rows = reader.convertRows(this.toPlain).map((values) => {
      const row: Record<string, unknown> = {};
      columns.forEach((column, index) => {
        row[column] = values[index] ?? null;
      });
      return row;
    });
    return { columns, rows };
  }

  private async refreshViews(): Promise<void> {
    const tables = await this.options.catalog.listTables();
    const current = new Set<string>();
    for (const table of tables) {
      const name = `${quoteIdentifier(table.source)}.${quoteIdentifier(table.stream)}`;
      const files = await this.filesOf(table);
      const hasFiles = files.length > 0;
      await this.connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(table.source)}`);
      const unreadable = hasFiles ? await this.unreadableColumns(table, files) : new Map<string, string>();
      await this.connection.run(
        `CREATE OR REPLACE VIEW ${name} AS ${this.viewQuery(table, files, unreadable)}`,
      );
      current.add(name);
      // Also under the Glue table name (`<source>__<stream>`), so SQL written for Athena runs here unchanged.
      const portable = `main.${quoteIdentifier(`${table.source}__${table.stream}`)}`;
      await this.connection.run(`CREATE OR REPLACE VIEW ${portable} AS SELECT * FROM ${name}`);
      current.add(portable);
      for (const view of await this.currentViews(table)) current.add(view);
    }
    for (const name of await this.modelViews()) current.add(name);
    for (const name of this.views) {
      if (!current.has(name)) await this.connection.run(`DROP VIEW IF EXISTS ${name}`);
    }
    this.views = current;
  }

  /** SQL models (engine/stages/models.ts): a view per model over the file its pointer names. */
  private async modelViews(): Promise<string[]> {
    const names: string[] = [];
    const decoder = new TextDecoder();
    for (const object of await this.options.objects.list('models/')) {
      const match = /^models\/([a-z][a-z0-9_]*)\/_current\.json$/.exec(object.key);
      if (!match || object.key !== modelPointerKey(match[1]!)) continue;
      const bytes = await this.options.objects.get(object.key);
      if (!bytes) continue;
      const name = `main.${quoteIdentifier(match[1]!)}`;
      try {
        const { key } = JSON.parse(decoder.decode(bytes)) as { key: string };
        await this.connection.run(
          `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${quoteString(this.options.objects.uri(key))})`,
        );
      } catch (error) {
        // Views are refreshed before every query: one unreadable model must not fail them all.
        // Only a query that reads this model fails, saying why.
        const reason = `model ${match[1]} cannot be read (${object.key}): ${error instanceof Error ? error.message : String(error)}`;
        await this.connection.run(
          `CREATE OR REPLACE VIEW ${name} AS SELECT error(${quoteString(reason)}) AS "error"`,
        );
      }
      names.push(name);
    }
    return names;
  }

  /**
   * The table's `current` view, `<source>.<stream>__current` and
   * `<source>__<stream>__current`, over the snapshot its merge watermark
   * names: switching the watermark is the atomic swap.
   */
  private async currentViews(table: TableDefinition): Promise<string[]> {
    if (!this.options.state || table.primaryKey.length === 0) return [];
    const watermark = await readWatermark(this.options.state, table.source, table.stream);
    if (watermark.manifest === undefined) return [];
    const key = currentSnapshotKey(table.source, table.stream, watermark.manifest);
    // A watermark without a local snapshot belongs to another engine's current table (Iceberg on Athena).
    if (!(await this.options.objects.list(key)).some((o) => o.key === key)) return [];
    const file = this.options.objects.uri(key);
    const names = [
      `${quoteIdentifier(table.source)}.${quoteIdentifier(`${table.stream}__current`)}`,
      `main.${quoteIdentifier(currentTableName(table.source, table.stream))}`,
    ];
    for (const name of names) {
      await this.connection.run(
        `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${quoteString(file)})`,
      );
    }
    return names;
  }

  /**
   * Columns Athena could not read, with the error it would give: a file whose
   * Parquet type the declared type does not read in place (from the footers,
   * through `parquet_schema`). The view fails a query that reads such a
   * column, as Athena does; queries that do not read it still work.
   */
  private async unreadableColumns(table: TableDefinition, files: FileSet): Promise<Map<string, string>> {
    const declared = new Map(
      (table.schemaVersions.at(-1)?.columns ?? []).map((c) => [c.name.toLowerCase(), c] as const),
    );
    const reader = await this.connection.runAndReadAll(
      `SELECT file_name, name, type, converted_type, logical_type, precision, scale FROM parquet_schema(${files.sql}) WHERE num_children IS NULL`,
    );
    const unreadable = new Map<string, string>();
    for (const row of reader.getRowObjectsJS()) {
      const column = declared.get(String(row.name).toLowerCase());
      if (column === undefined || unreadable.has(column.name)) continue;
      const file = {
        type: String(row.type),
        convertedType: row.converted_type === null ? null : String(row.converted_type),
        logicalType: row.logical_type === null ? null : String(row.logical_type),
        precision: row.precision === null ? null : Number(row.precision),
        scale: row.scale === null ? null : Number(row.scale),
      };
      if (!athenaReads(column.type, file)) {
        unreadable.set(
          column.name,
          `HIVE_BAD_DATA: column ${column.name} of ${table.source}.${table.stream} is declared ${column.type}, but ${String(row.file_name)} has ${describeFileType(file)}, which Athena cannot read as ${column.type}`,
        );
      }
    }
    return unreadable;
  }

  /**
   * What a query of the table reads: a glob over the table's location, or,
   * for registered partitions, the files under each partition's current
   * location, listed now (the catalog is read once per query, as Athena's
   * planning reads GetPartitions once).
   */
  private async filesOf(table: TableDefinition): Promise<FileSet> {
    if (table.partitioning !== Partitioning.registered) {
      const found = (await this.options.objects.list(withSlash(table.location))).some((object) =>
        object.key.endsWith('.parquet'),
      );
      const glob = `${withSlash(this.options.objects.uri(withSlash(table.location)))}**/*.parquet`;
      return { length: found ? 1 : 0, sql: quoteString(glob) };
    }
    const uris: string[] = [];
    for (const { location } of await this.options.catalog.listPartitions(table.source, table.stream)) {
      for (const object of await this.options.objects.list(withSlash(location))) {
        if (object.key.endsWith('.parquet')) uris.push(this.options.objects.uri(object.key));
      }
    }
    return { length: uris.length, sql: `[${uris.map(quoteString).join(', ')}]` };
  }

  /** The view over a table: latest schema, cast, plus `dt`; an empty typed relation when nothing landed yet. */
  private viewQuery(
    table: TableDefinition,
    fileSet: FileSet,
    unreadable: ReadonlyMap<string, string> = new Map(),
  ): string {
    const latest = table.schemaVersions.at(-1)?.columns ?? [];
    const columns: { name: string; type: string }[] = latest.map((column) => ({
      name: column.name,
      type: duckDbType(column.type),
    }));
    if (!columns.some((column) => column.name === PARTITION_COLUMN)) {
      columns.push({ name: PARTITION_COLUMN, type: 'VARCHAR' });
    }
    const casts = columns
      .map(({ name, type }) => {
        const failure = unreadable.get(name);
        const value = failure === undefined ? quoteIdentifier(name) : `error(${quoteString(failure)})`;
        return `CAST(${value} AS ${type}) AS ${quoteIdentifier(name)}`;
      })
      .join(', ');
    const empty = `SELECT ${columns
      .map(({ name, type }) => `CAST(NULL AS ${type}) AS ${quoteIdentifier(name)}`)
      .join(', ')} WHERE false`;
    if (fileSet.length === 0) return `SELECT ${casts} FROM (${empty})`;
    // UNION ALL BY NAME with the typed empty relation supplies every column no file has yet (as NULL).
    const files =
      `SELECT * FROM read_parquet(${fileSet.sql}, union_by_name = true, hive_partitioning = true, ` +
      `hive_types = {${quoteString(PARTITION_COLUMN)}: VARCHAR})`;
    return `SELECT ${casts} FROM (${files} UNION ALL BY NAME ${empty})`;
  }
}

/** The files a view reads, as a read_parquet argument (a glob or a list); `length` 0 when there are none. */
interface FileSet {
  readonly length: number;
  readonly sql: string;
}

/**
 * Renders a result as an aligned text table, like psql: numbers right-aligned,
 * NULL spelled out, nested values as JSON, and a row count footer.
 */
export function formatTable(result: QueryResult): string {
  const { columns, rows } = result;
  const cells = rows.map((row) => columns.map((column) => renderCell(row[column])));
  const numeric = columns.map(
    (column) =>
      rows.some((row) => typeof row[column] === 'number' || typeof row[column] === 'bigint') &&
      rows.every(
        (row) => row[column] == null || typeof row[column] === 'number' || typeof row[column] === 'bigint',
      ),
  );
  const widths = columns.map((column, index) =>
    Math.max(column.length, ...cells.map((row) => (row[index] ?? '').length)),
  );
  const line = (values: readonly string[], align: (index: number, value: string, width: number) => string) =>
    ` ${values.map((value, index) => align(index, value, widths[index] ?? 0)).join(' | ')}`.trimEnd();
  const header = line(columns, (_index, value, width) => {
    const left = Math.floor((width - value.length) / 2);
    return ' '.repeat(left) + value.padEnd(width - left);
  });
  const rule = widths.map((width) => '-'.repeat(width + 2)).join('+');
  const body = cells.map((row) =>
    line(row, (index, value, width) => (numeric[index] ? value.padStart(width) : value.padEnd(width))),
  );
  const footer = `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`;
  return [header, rule, ...body, footer].join('\n');
}

function renderCell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text =
    typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
}

/**
 * DuckDB values as plain, JSON-friendly JS, never rounded: bigints become
 * numbers when exact (strings otherwise), decimals numbers up to 15 digits
 * (which a double holds exactly) and their exact text beyond, timestamps
 * ISO-8601 UTC strings (with microseconds or nanoseconds where the value has
 * them), dates `YYYY-MM-DD`, times/intervals/UUIDs/blobs their SQL text.
 */
export function plainConverter({
  DuckDBTypeId,
  JSDuckDBValueConverter,
}: typeof DuckDb): DuckDBValueConverter<unknown> {
  const js = JSDuckDBValueConverter as DuckDBValueConverter<unknown>;
  return (value, type, self) => {
    if (value === null || value === undefined) return null;
    switch (type.typeId) {
      case DuckDBTypeId.BIGINT:
      case DuckDBTypeId.UBIGINT:
      case DuckDBTypeId.HUGEINT:
      case DuckDBTypeId.UHUGEINT:
      case DuckDBTypeId.BIGNUM: {
        const number = js(value, type, self);
        if (typeof number !== 'bigint') return number;
        return number >= BigInt(Number.MIN_SAFE_INTEGER) && number <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(number)
          : number.toString();
      }
      case DuckDBTypeId.DECIMAL: {
        // Per column type, not per value: a column is all numbers or all strings.
        const decimal = value as InstanceType<typeof DuckDb.DuckDBDecimalValue>;
        return decimal.width <= 15 ? decimal.toDouble() : decimal.toString();
      }
      case DuckDBTypeId.TIMESTAMP:
      case DuckDBTypeId.TIMESTAMP_TZ:
        return isoWithFraction((value as { micros: bigint }).micros, 1000n) ?? String(value);
      case DuckDBTypeId.TIMESTAMP_NS:
        return isoWithFraction((value as { nanos: bigint }).nanos, 1_000_000n) ?? String(value);
      case DuckDBTypeId.TIMESTAMP_S:
      case DuckDBTypeId.TIMESTAMP_MS:
        try {
          const date = js(value, type, self);
          return date instanceof Date ? date.toISOString() : String(value);
        } catch {
          return String(value); // infinity, or beyond what a JS Date holds
        }
      case DuckDBTypeId.DATE:
      case DuckDBTypeId.TIME:
      case DuckDBTypeId.TIME_NS:
      case DuckDBTypeId.TIME_TZ:
      case DuckDBTypeId.INTERVAL:
      case DuckDBTypeId.UUID:
      case DuckDBTypeId.BLOB:
      case DuckDBTypeId.BIT:
      case DuckDBTypeId.GEOMETRY:
        return String(value);
      default:
        return js(value, type, self);
    }
  };
}

/**
 * An epoch count of `1 / perMilli` milliseconds as ISO-8601 UTC: milliseconds
 * as `toISOString` writes them, and the digits below them only where the
 * value has any (`…10:00:00.000001Z`). Undefined for infinity, or a value
 * beyond what a JS Date holds (the caller then shows DuckDB's own text).
 */
function isoWithFraction(count: bigint, perMilli: bigint): string | undefined {
  let millis = count / perMilli;
  if (count % perMilli < 0n) millis -= 1n; // floor, for instants before 1970
  const below = count - millis * perMilli;
  const date = new Date(Number(millis));
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString();
  if (below === 0n) return iso;
  const digits = perMilli === 1000n ? 3 : 6;
  return `${iso.slice(0, -1)}${below.toString().padStart(digits, '0')}Z`;
}

function withSlash(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
