/**
 * SQL for a merge plan, in the two dialects the stages run on: DuckDB
 * (locally: a new Parquet snapshot from the previous one plus the new files)
 * and Athena engine v3 (on AWS: `MERGE INTO` an Iceberg table in Glue).
 * Both say the same thing: per key, the newest incoming version (greatest
 * cursor, ties by landing order) replaces the current row unless that row's
 * cursor is newer; a newest version that is a tombstone deletes the row.
 *
 * Landing order is the file order of the plan (manifest, then file), then
 * the row's position in its file; Athena has no row position, so there the
 * tie-break after the file (`"$path"`, whose run id and part number sort in
 * landing order) is `_sluice_extracted_at`, the time its row group landed.
 */
import { DELETED_FIELD } from '../../connectors/sdk/types.js';
import type { Column, SqlDialect } from '../ports.js';
import { duckDbType, hiveType } from '../sql-types.js';
import type { MergePlan } from './merge-plan.js';

export interface RenderOptions {
  /** Where the engine finds a lake key: a path locally, `s3://…` on AWS. */
  readonly uri: (key: string) => string;
  /** DuckDB: the lake key of the previous snapshot (none on the first merge). */
  readonly previous?: string;
  /** DuckDB: the lake key of the snapshot to write. */
  readonly target?: string;
  /** Athena: columns the current table already has (lowercase); the others are added first. */
  readonly existingColumns?: readonly string[];
  /**
   * Athena: the engine's type of each of `existingColumns`, in order
   * (`integer`, `bigint`, …); an `integer` column the plan has as `bigint`
   * (widened in place, engine/schema.ts `widensInPlace`) is promoted first.
   */
  readonly existingColumnTypes?: readonly string[];
}

export { duckDbType, hiveType };

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The statements that apply the plan, in order. */
export function renderMerge(plan: MergePlan, dialect: SqlDialect, options: RenderOptions): string[] {
  return dialect === 'athena' ? renderAthena(plan, options) : [renderDuckDb(plan, options)];
}

const q = quoteIdentifier;

/** `a.k1 = b.k1 AND a.k2 = b.k2` */
function keyJoin(plan: MergePlan, a: string, b: string): string {
  return plan.key.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
}

/** True when the current row (t) is newer than the incoming one (s): then it stays. */
function currentIsNewer(plan: MergePlan, s: string, t: string): string {
  if (plan.cursor === undefined || plan.mode === 'replace') return 'false';
  return `coalesce(${s}.${q(plan.cursor)} < ${t}.${q(plan.cursor)}, false)`;
}

function renderDuckDb(plan: MergePlan, options: RenderOptions): string {
  if (options.target === undefined) throw new TypeError('a DuckDB merge needs the target snapshot key');
  const typed = (c: Column) => `CAST(${q(c.name)} AS ${duckDbType(c.type)}) AS ${q(c.name)}`;
  const empty = (extra: string[]) =>
    `SELECT ${[...plan.columns.map((c) => `CAST(NULL AS ${duckDbType(c.type)}) AS ${q(c.name)}`), ...extra].join(', ')} WHERE false`;
  const uris = plan.files.map((f) => quoteString(options.uri(f.key)));
  const order = plan.files.map((f, i) => `(${quoteString(options.uri(f.key))}, ${i})`).join(', ');
  const deleted = plan.tombstones ? `coalesce(CAST(r.${q(DELETED_FIELD)} AS BOOLEAN), false)` : 'false';
  const notNullKey = plan.key.map((k) => `${q(k)} IS NOT NULL`).join(' AND ');
  const rank = [
    ...(plan.cursor !== undefined ? [`${q(plan.cursor)} DESC NULLS LAST`] : []),
    '"__file" DESC',
    '"__row" DESC',
  ].join(', ');
  const cols = plan.columns.map((c) => q(c.name));
  const previous =
    plan.mode === 'replace' || options.previous === undefined
      ? empty([])
      : `SELECT ${plan.columns.map(typed).join(', ')} FROM (SELECT * FROM read_parquet(${quoteString(options.uri(options.previous))}) UNION ALL BY NAME ${empty([])})`;
  return `COPY (
WITH "files"("__path", "__file") AS (VALUES ${order}),
"raw" AS (
  SELECT * FROM read_parquet([${uris.join(', ')}], union_by_name = true, filename = true, file_row_number = true, hive_partitioning = false)
  UNION ALL BY NAME ${empty([...(plan.tombstones ? [`CAST(NULL AS BOOLEAN) AS ${q(DELETED_FIELD)}`] : []), 'CAST(NULL AS VARCHAR) AS "filename"', 'CAST(NULL AS BIGINT) AS "file_row_number"'])}
),
"incoming" AS (
  SELECT ${plan.columns.map((c) => `CAST(r.${q(c.name)} AS ${duckDbType(c.type)}) AS ${q(c.name)}`).join(', ')},
    ${deleted} AS "__deleted", f."__file", r."file_row_number" AS "__row"
  FROM "raw" r JOIN "files" f ON r."filename" = f."__path"
),
"newest" AS (
  SELECT * FROM "incoming" WHERE ${notNullKey}
  QUALIFY row_number() OVER (PARTITION BY ${plan.key.map(q).join(', ')} ORDER BY ${rank}) = 1
),
"previous" AS (${previous}),
"result" AS (
  SELECT p.* FROM "previous" p LEFT JOIN "newest" n ON ${keyJoin(plan, 'n', 'p')}
  WHERE n.${q(plan.key[0]!)} IS NULL OR ${currentIsNewer(plan, 'n', 'p')}
  UNION ALL
  SELECT ${cols.map((c) => `n.${c}`).join(', ')} FROM "newest" n LEFT JOIN "previous" p ON ${keyJoin(plan, 'n', 'p')}
  WHERE NOT n."__deleted" AND NOT ${currentIsNewer(plan, 'n', 'p')}
)
SELECT * FROM "result" ORDER BY ${plan.key.map(q).join(', ')}
) TO ${quoteString(options.uri(options.target))} (FORMAT parquet, COMPRESSION zstd)`;
}

/** Athena DDL column list: `name type` with Hive types (Athena's Iceberg DDL takes them). */
function ddlColumns(columns: readonly Column[]): string {
  return columns.map((c) => `\`${c.name}\` ${hiveType(c.type)}`).join(', ');
}

function renderAthena(plan: MergePlan, options: RenderOptions): string[] {
  const statements: string[] = [];
  const location = options.uri(`current/${plan.source}/${plan.stream}/`);
  statements.push(
    `CREATE TABLE IF NOT EXISTS \`${plan.table}\` (${ddlColumns(plan.columns)}) LOCATION ${quoteString(location)} TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')`,
  );
  if (options.existingColumns !== undefined) {
    const have = new Set(options.existingColumns.map((c) => c.toLowerCase()));
    const missing = plan.columns.filter((c) => !have.has(c.name.toLowerCase()));
    if (have.size > 0 && missing.length > 0) {
      statements.push(`ALTER TABLE \`${plan.table}\` ADD COLUMNS (${ddlColumns(missing)})`);
    }
    // Iceberg promotes int to bigint in place (metadata only); Athena says so with CHANGE COLUMN.
    const typeOf = new Map(
      options.existingColumns.map((c, i) => [
        c.toLowerCase(),
        options.existingColumnTypes?.[i]?.toLowerCase(),
      ]),
    );
    for (const column of plan.columns) {
      const existing = typeOf.get(column.name.toLowerCase());
      if (column.type === 'bigint' && (existing === 'integer' || existing === 'int')) {
        statements.push(
          `ALTER TABLE \`${plan.table}\` CHANGE COLUMN \`${column.name}\` \`${column.name}\` ${hiveType(column.type)}`,
        );
      }
    }
  }
  const cols = plan.columns.map((c) => q(c.name));
  const dts = [...new Set(plan.files.map((f) => f.dt))].sort();
  const paths = plan.files.map((f) => quoteString(options.uri(f.key)));
  const deleted = plan.tombstones ? `coalesce(${q(DELETED_FIELD)}, false)` : 'false';
  const rank = [
    ...(plan.cursor !== undefined ? [`${q(plan.cursor)} DESC NULLS LAST`] : []),
    '"$path" DESC',
    '"_sluice_extracted_at" DESC',
  ].join(', ');
  const notNullKey = plan.key.map((k) => `${q(k)} IS NOT NULL`).join(' AND ');
  const newer = currentIsNewer(plan, 's', 't');
  statements.push(`MERGE INTO ${q(plan.table)} t
USING (
  SELECT ${cols.join(', ')}, "__deleted" FROM (
    SELECT ${cols.join(', ')}, ${deleted} AS "__deleted",
      row_number() OVER (PARTITION BY ${plan.key.map(q).join(', ')} ORDER BY ${rank}) AS "__rank"
    FROM ${q(plan.rawTable)}
    WHERE "dt" IN (${dts.map(quoteString).join(', ')}) AND "$path" IN (${paths.join(', ')}) AND ${notNullKey}
  ) WHERE "__rank" = 1
) s
ON (${keyJoin(plan, 't', 's')})
WHEN MATCHED AND s."__deleted" AND NOT ${newer} THEN DELETE
WHEN MATCHED AND NOT ${newer} THEN UPDATE SET ${cols.map((c) => `${c} = s.${c}`).join(', ')}
WHEN NOT MATCHED AND NOT s."__deleted" THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `s.${c}`).join(', ')})`);
  if (plan.mode === 'replace') {
    // Full refresh: rows the latest run did not send go. Iceberg has no one-statement swap in Athena's MERGE.
    const runs = [...new Set(plan.files.map((f) => f.runId))];
    statements.push(
      `DELETE FROM ${q(plan.table)} WHERE "_sluice_run_id" IS NULL OR "_sluice_run_id" NOT IN (${runs.map(quoteString).join(', ')})`,
    );
  }
  return statements;
}
