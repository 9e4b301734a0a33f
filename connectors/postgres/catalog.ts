/**
 * Discovery: which tables the config selects, their columns (with the lake
 * type each maps to), primary keys and cursor columns, read from pg_catalog
 * inside the caller's snapshot. Problems become one-sentence ConfigErrors
 * that say what exists instead.
 */
import type pg from 'pg';
import { ConfigError } from '../sdk/errors.js';
import type { ColumnType, CursorValue } from '../sdk/types.js';
import type { ResolvedConfig } from './config.js';
import { isCursorType, type Mapping, MIN_DATE, MIN_TIMESTAMP, mapType, type PgTypeInfo } from './mapping.js';

export interface TableColumn {
  readonly name: string;
  /**
   * The column's full type for casts (`format_type` with modifiers: `character(2)`,
   * not `character`, which would mean char(1) and truncate keys).
   */
  readonly castType: string;
  readonly type: PgTypeInfo;
  readonly mapping: Mapping;
}

export interface TablePlan {
  readonly schema: string;
  readonly table: string;
  /** snake_case stream name: `<schema>_<table>`. */
  readonly stream: string;
  readonly columns: readonly TableColumn[];
  /** Primary key columns in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
  /** The incremental cursor column, or undefined for a full refresh every run. */
  readonly cursor: TableColumn | undefined;
}

export interface TableName {
  readonly schema: string;
  readonly table: string;
  /** Unquoted parts also match case-insensitively, as PostgreSQL folds them to lower case. */
  readonly schemaQuoted: boolean;
  readonly tableQuoted: boolean;
}

/** `"Sales"."Order Items"`, `public.orders` or `orders` (schema `public`). */
export function parseTableName(text: string): TableName {
  const parts: { value: string; quoted: boolean }[] = [];
  let i = 0;
  const input = text.trim();
  while (i <= input.length) {
    if (input[i] === '"') {
      let value = '';
      i += 1;
      while (i < input.length) {
        if (input[i] === '"' && input[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (input[i] === '"') {
          break;
        } else {
          value += input[i];
          i += 1;
        }
      }
      if (input[i] !== '"') throw new ConfigError(`table name ${JSON.stringify(text)} has an unclosed quote`);
      i += 1;
      parts.push({ value, quoted: true });
    } else {
      const end = input.indexOf('.', i);
      const value = (end === -1 ? input.slice(i) : input.slice(i, end)).trim();
      parts.push({ value, quoted: false });
      i = end === -1 ? input.length : end;
    }
    if (i >= input.length) break;
    if (input[i] !== '.') throw new ConfigError(`table name ${JSON.stringify(text)} is not "schema.table"`);
    i += 1;
  }
  if (parts.length === 1) parts.unshift({ value: 'public', quoted: true });
  const [schema, table] = parts;
  if (parts.length !== 2 || !schema?.value || !table?.value) {
    throw new ConfigError(`table name ${JSON.stringify(text)} is not "schema.table"`);
  }
  return { schema: schema.value, table: table.value, schemaQuoted: schema.quoted, tableQuoted: table.quoted };
}

/** `schema.table`, quoting only where PostgreSQL needs it; for messages and config keys. */
export function displayName(schema: string, table: string): string {
  const show = (id: string): string => (/^[a-z_][a-z0-9_$]*$/.test(id) ? id : quoteIdent(id));
  return `${show(schema)}.${show(table)}`;
}

export function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/**
 * Stream name of a table: `<schema>_<table>` in snake_case. camelCase words
 * are split, every run of other characters becomes one `_`, and a name that
 * would start with a digit gets a `t_` prefix. `public.orders` → `public_orders`,
 * `Sales."Order Items"` → `sales_order_items`, `app.userEvents` → `app_user_events`;
 * accents are dropped (`café` → `cafe`).
 */
export function streamName(schema: string, table: string): string {
  const snake = (text: string): string =>
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
  const name = [snake(schema), snake(table)].filter((part) => part !== '').join('_') || 'table';
  return /^[a-z]/.test(name) ? name : `t_${name}`;
}

function matchName<T>(items: readonly T[], nameOf: (item: T) => string, wanted: string, quoted: boolean) {
  const exact = items.filter((item) => nameOf(item) === wanted);
  if (exact.length > 0 || quoted) return exact[0];
  const folded = wanted.toLowerCase();
  return items.find((item) => nameOf(item) === folded);
}

function listing(names: readonly string[], limit = 20): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
}

interface Relation {
  readonly oid: string;
  readonly schema: string;
  readonly name: string;
  readonly kind: string;
}

const KIND_NAMES: Readonly<Record<string, string>> = {
  v: 'a view',
  m: 'a materialized view',
  f: 'a foreign table',
};

/** An int2, int4 or int8 cursor column (the others are dates and timestamps). */
export function isIntegerCursor(column: TableColumn): boolean {
  return ['int2', 'int4', 'int8'].includes(column.type.typname);
}

/** Initial cursor values that sort before any real value of the column. */
export function initialCursor(column: TableColumn): CursorValue {
  switch (column.type.typname) {
    case 'date':
      return MIN_DATE;
    case 'timestamp':
    case 'timestamptz':
      return MIN_TIMESTAMP;
    default:
      return Number.MIN_SAFE_INTEGER;
  }
}

/** Reads the catalog and resolves the config's selection into table plans. */
export async function discover(client: pg.Client, config: ResolvedConfig): Promise<TablePlan[]> {
  const schemaRows = await client.query<{ name: string }>(
    "SELECT nspname AS name FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1",
  );
  const allSchemas = schemaRows.rows.map((row) => row.name);
  const resolveSchema = (name: string, quoted: boolean): string => {
    const found = matchName(allSchemas, (s) => s, name, quoted);
    if (found === undefined) {
      throw new ConfigError(`schema "${name}" does not exist; available schemas: ${listing(allSchemas)}`);
    }
    return found;
  };

  const wantedTables = config.tables.map((text) => ({ text, name: parseTableName(text) }));
  const wantedSchemas = config.schemas.map((name) => resolveSchema(name, false));
  const scanSchemas = new Set(wantedSchemas);
  for (const { name } of wantedTables) scanSchemas.add(resolveSchema(name.schema, name.schemaQuoted));

  const relationRows = await client.query<Relation>(
    `SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
      ORDER BY n.nspname, c.relname`,
    [[...scanSchemas]],
  );
  const relations = relationRows.rows;
  const tablesIn = (schema: string): Relation[] =>
    relations.filter((r) => r.schema === schema && (r.kind === 'r' || r.kind === 'p'));

  const selected = new Map<string, Relation>();
  for (const schema of wantedSchemas) {
    for (const relation of tablesIn(schema)) selected.set(relation.oid, relation);
  }
  for (const { text, name } of wantedTables) {
    const schema = resolveSchema(name.schema, name.schemaQuoted);
    const inSchema = relations.filter((r) => r.schema === schema);
    const relation = matchName(inSchema, (r) => r.name, name.table, name.tableQuoted);
    if (!relation) {
      const available = tablesIn(schema).map((r) => r.name);
      throw new ConfigError(
        `table "${displayName(schema, name.table)}" does not exist; available tables in schema ${schema}: ${listing(available)}`,
      );
    }
    const kind = KIND_NAMES[relation.kind];
    if (kind) {
      throw new ConfigError(
        `"${text}" is ${kind}, not a table; select tables (a view has no stable key to read it in chunks)`,
      );
    }
    selected.set(relation.oid, relation);
  }
  if (selected.size === 0) {
    throw new ConfigError(
      `no tables found in schema${wantedSchemas.length === 1 ? '' : 's'} ${wantedSchemas.join(', ')}; create one, or list tables in "tables"`,
    );
  }

  const oids = [...selected.keys()];
  const columnRows = await client.query<{
    oid: string;
    name: string;
    cast_type: string;
    typname: string;
    category: string;
    typtype: string;
  }>(
    `SELECT a.attrelid::text AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS cast_type,
            b.typname, b.typcategory AS category, b.typtype
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  const keyRows = await client.query<{ oid: string; name: string }>(
    `SELECT i.indrelid::text AS oid, a.attname AS name
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indisprimary AND i.indrelid = ANY($1::oid[])
      ORDER BY i.indrelid, k.ord`,
    [oids],
  );

  const columnsOf = new Map<string, TableColumn[]>();
  for (const row of columnRows.rows) {
    const type = { typname: row.typname, category: row.category, typtype: row.typtype };
    const column = { name: row.name, castType: row.cast_type, type, mapping: mapType(type, row.cast_type) };
    columnsOf.set(row.oid, [...(columnsOf.get(row.oid) ?? []), column]);
  }
  const keyOf = new Map<string, string[]>();
  for (const row of keyRows.rows) keyOf.set(row.oid, [...(keyOf.get(row.oid) ?? []), row.name]);

  const overrides = resolveOverrides(config, selected);
  const plans: TablePlan[] = [];
  for (const relation of selected.values()) {
    const columns = columnsOf.get(relation.oid) ?? [];
    plans.push({
      schema: relation.schema,
      table: relation.name,
      stream: streamName(relation.schema, relation.name),
      columns,
      primaryKey: keyOf.get(relation.oid) ?? [],
      cursor: chooseCursor(relation, columns, overrides.get(relation.oid), config.defaultCursorColumn),
    });
  }

  const byStream = new Map<string, TablePlan>();
  for (const plan of plans) {
    const other = byStream.get(plan.stream);
    if (other) {
      throw new ConfigError(
        `tables "${displayName(other.schema, other.table)}" and "${displayName(plan.schema, plan.table)}" would both become stream "${plan.stream}"; select only one of them in "tables"`,
      );
    }
    byStream.set(plan.stream, plan);
  }
  return plans.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
}

function resolveOverrides(
  config: ResolvedConfig,
  selected: ReadonlyMap<string, Relation>,
): Map<string, string> {
  const out = new Map<string, string>();
  const relations = [...selected.values()];
  for (const [key, column] of Object.entries(config.cursorColumns)) {
    const name = parseTableName(key);
    const schema = matchName(
      [...new Set(relations.map((r) => r.schema))],
      (s) => s,
      name.schema,
      name.schemaQuoted,
    );
    const relation =
      schema === undefined
        ? undefined
        : matchName(
            relations.filter((r) => r.schema === schema),
            (r) => r.name,
            name.table,
            name.tableQuoted,
          );
    if (!relation) {
      throw new ConfigError(
        `cursorColumns names "${key}", which is not a selected table; selected: ${listing(relations.map((r) => displayName(r.schema, r.name)))}`,
      );
    }
    out.set(relation.oid, column);
  }
  return out;
}

function chooseCursor(
  relation: Relation,
  columns: readonly TableColumn[],
  override: string | undefined,
  defaultColumn: string,
): TableColumn | undefined {
  const table = displayName(relation.schema, relation.name);
  if (override !== undefined) {
    if (override === '') return undefined;
    const column = columns.find((c) => c.name === override);
    if (!column) {
      throw new ConfigError(
        `cursor column "${override}" does not exist in table "${table}"; columns: ${listing(columns.map((c) => c.name))}`,
      );
    }
    if (!isCursorType(column.type)) {
      throw new ConfigError(
        `cursor column "${override}" of table "${table}" is ${column.castType}; pick a timestamp, timestamptz, date or integer column`,
      );
    }
    return column;
  }
  if (defaultColumn === '') return undefined;
  const column = columns.find((c) => c.name === defaultColumn);
  return column && isCursorType(column.type) ? column : undefined;
}

/** The declared lake columns of a table. */
export function declaredColumns(plan: TablePlan): Record<string, ColumnType> {
  return Object.fromEntries(plan.columns.map((c) => [c.name, c.mapping.columnType]));
}
