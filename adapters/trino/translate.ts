/**
 * Athena-only SQL → Trino SQL, for running the stages' Athena statements on
 * the Trino tier (Athena engine v3 is Trino; its DDL is Hive's, and a few
 * statements are Athena's own). Only the shapes Sluice generates are
 * translated; DML (SELECT, MERGE, INSERT, DELETE) passes through unchanged.
 *
 *   CREATE EXTERNAL TABLE … STORED AS PARQUET LOCATION … TBLPROPERTIES (projection.*)
 *       → CREATE TABLE hive.… WITH (external_location, format, partitioned_by, partition_projection_*)
 *   CREATE TABLE … LOCATION … TBLPROPERTIES ('table_type'='ICEBERG')
 *       → CREATE TABLE iceberg.… WITH (location, format)
 *   ALTER TABLE t ADD COLUMNS (…)          → ALTER TABLE t ADD COLUMN IF NOT EXISTS …, one per column
 *   ALTER TABLE t CHANGE COLUMN c c type    → ALTER TABLE t ALTER COLUMN c SET DATA TYPE type
 *   OPTIMIZE t REWRITE DATA USING BIN_PACK → ALTER TABLE t EXECUTE optimize
 *   VACUUM t                               → ALTER TABLE t EXECUTE expire_snapshots(…), remove_orphan_files(…)
 *   CREATE TABLE t WITH (table_type = 'ICEBERG', is_external = false, location = …) AS …
 *       → CREATE TABLE iceberg.… WITH (location, format) AS …
 *   DROP TABLE `t`, ALTER TABLE `t` RENAME TO `u` → qualified names (Iceberg for the rename)
 * Athena's Hive DDL (DROP, ALTER) takes backticks: a double-quoted name there is refused.
 */

export class TranslationError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TranslationError';
  }
}

export interface TranslateOptions {
  /** The schema both catalogs share (the Glue database). */
  readonly schema: string;
  /** @default 'hive' */
  readonly hiveCatalog?: string;
  /** @default 'iceberg' */
  readonly icebergCatalog?: string;
  /** Iceberg snapshots younger than this survive VACUUM. @default '7d' (Trino's minimum by default) */
  readonly retention?: string;
}

/** Hive DDL type → Trino type; Hive `timestamp` is millisecond `timestamp(3)`, Iceberg's microsecond. */
export function trinoType(hiveType: string, table: 'hive' | 'iceberg'): string {
  const t = hiveType.trim().toLowerCase();
  if (/^decimal\(\s*\d+\s*,\s*\d+\s*\)$/.test(t)) return t.replace(/\s+/g, '');
  switch (t) {
    case 'string':
      return 'varchar';
    case 'int':
    case 'integer':
      return 'integer';
    case 'bigint':
    case 'double':
    case 'boolean':
    case 'date':
    case 'smallint':
    case 'tinyint':
      return t;
    case 'float':
      return 'real';
    case 'timestamp':
      return table === 'hive' ? 'timestamp(3)' : 'timestamp(6)';
    default:
      throw new TranslationError(`Hive type "${hiveType}" has no Trino translation here`);
  }
}

interface DdlColumn {
  readonly name: string;
  readonly type: string;
}

/** Splits on commas outside parentheses and quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '') parts.push(last);
  return parts;
}

/** The text inside the parentheses that open at `open`. */
function parenthesised(text: string, open: number): { inner: string; end: number } {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return { inner: text.slice(open + 1, i), end: i + 1 };
  }
  throw new TranslationError('unbalanced parentheses');
}

function unquote(name: string): string {
  const t = name.trim();
  if ((t.startsWith('`') && t.endsWith('`')) || (t.startsWith('"') && t.endsWith('"'))) return t.slice(1, -1);
  return t;
}

function columns(inner: string): DdlColumn[] {
  return splitTopLevel(inner).map((part) => {
    const match = /^(`[^`]+`|"[^"]+"|\w+)\s+(.+?)(?:\s+COMMENT\s+'(?:[^']|'')*')?$/is.exec(part);
    if (!match) throw new TranslationError(`cannot read the column definition "${part}"`);
    return { name: unquote(match[1]!), type: match[2]!.trim() };
  });
}

function properties(inner: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of splitTopLevel(inner)) {
    const match = /^'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'$/s.exec(part);
    if (!match) throw new TranslationError(`cannot read the table property "${part}"`);
    out.set(match[1]!.replaceAll("''", "'"), match[2]!.replaceAll("''", "'"));
  }
  return out;
}

const str = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function tableName(raw: string, catalog: string, schema: string): string {
  const parts = raw.split('.').map(unquote);
  const table = parts.at(-1)!;
  const db = parts.length > 1 ? parts.at(-2)! : schema;
  return `${catalog}.${ident(db)}.${ident(table)}`;
}

/**
 * A table name in Athena's Hive DDL (DROP TABLE, ALTER TABLE): Athena quotes
 * identifiers there with backticks; a double-quoted name is a parse error
 * on Athena, so it is refused here rather than accepted as Trino would.
 */
function hiveDdlName(raw: string, text: string): string {
  if (raw.includes('"')) {
    throw new TranslationError(
      `Athena DDL quotes identifiers with backticks, not double quotes: ${text.slice(0, 80)}`,
    );
  }
  return raw;
}

/** Translates one Athena statement into the Trino statements that do the same. */
export function translate(sql: string, options: TranslateOptions): string[] {
  const text = sql.trim().replace(/;\s*$/, '');
  const hive = options.hiveCatalog ?? 'hive';
  const iceberg = options.icebergCatalog ?? 'iceberg';

  let m = /^CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([`"\w.]+)\s*\(/is.exec(text);
  if (m) return [createExternal(text, m, hive, options.schema)];

  m = /^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([`"\w.]+)\s*\(/is.exec(text);
  if (m && /TBLPROPERTIES/i.test(text)) return [createIceberg(text, m, iceberg, options.schema)];

  m = /^ALTER\s+TABLE\s+([`"\w.]+)\s+ADD\s+COLUMNS\s*\(/is.exec(text);
  if (m) {
    const { inner } = parenthesised(text, m[0].length - 1);
    const table = tableName(hiveDdlName(m[1]!, text), iceberg, options.schema);
    return columns(inner).map(
      (c) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${trinoType(c.type, 'iceberg')}`,
    );
  }

  m = /^ALTER\s+TABLE\s+([`"\w.]+)\s+CHANGE\s+(?:COLUMN\s+)?(`[^`]+`|\w+)\s+(`[^`]+`|\w+)\s+(.+)$/is.exec(
    text,
  );
  if (m) {
    const table = tableName(hiveDdlName(m[1]!, text), iceberg, options.schema);
    const [from, to] = [unquote(m[2]!), unquote(m[3]!)];
    if (from !== to)
      throw new TranslationError(`only a type change is translated, not a rename: ${text.slice(0, 80)}`);
    return [`ALTER TABLE ${table} ALTER COLUMN ${ident(from)} SET DATA TYPE ${trinoType(m[4]!, 'iceberg')}`];
  }

  m = /^OPTIMIZE\s+([`"\w.]+)\s+REWRITE\s+DATA\s+USING\s+BIN_PACK(?:\s+WHERE\s+(.+))?$/is.exec(text);
  if (m) {
    const table = tableName(m[1]!, iceberg, options.schema);
    return [`ALTER TABLE ${table} EXECUTE optimize${m[2] ? ` WHERE ${m[2]}` : ''}`];
  }

  m = /^VACUUM\s+([`"\w.]+)$/is.exec(text);
  if (m) {
    const table = tableName(m[1]!, iceberg, options.schema);
    const retention = str(options.retention ?? '7d');
    return [
      `ALTER TABLE ${table} EXECUTE expire_snapshots(retention_threshold => ${retention})`,
      `ALTER TABLE ${table} EXECUTE remove_orphan_files(retention_threshold => ${retention})`,
    ];
  }

  m = /^CREATE\s+TABLE\s+([`"\w.]+)\s+WITH\s*\(/is.exec(text);
  if (m) {
    const { inner, end } = parenthesised(text, m[0].length - 1);
    const props = new Map<string, string>();
    for (const part of splitTopLevel(inner)) {
      const p = /^(\w+)\s*=\s*(.+)$/s.exec(part);
      if (!p) throw new TranslationError(`cannot read the table property "${part}"`);
      props.set(p[1]!.toLowerCase(), p[2]!.trim());
    }
    if (props.get('table_type')?.replaceAll("'", '').toUpperCase() !== 'ICEBERG') {
      throw new TranslationError("only Iceberg CTAS (WITH (table_type = 'ICEBERG')) is translated");
    }
    const with_ = [
      ...(props.has('location') ? [`location = ${props.get('location')}`] : []),
      `format = ${props.get('format')?.toUpperCase() ?? "'PARQUET'"}`,
    ];
    return [
      `CREATE TABLE ${tableName(m[1]!, iceberg, options.schema)} WITH (${with_.join(', ')})${text.slice(end)}`,
    ];
  }

  m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?([`"\w.]+)$/is.exec(text);
  if (m) {
    return [
      `DROP TABLE ${m[1] ? 'IF EXISTS ' : ''}${tableName(hiveDdlName(m[2]!, text), hive, options.schema)}`,
    ];
  }

  m = /^ALTER\s+TABLE\s+([`"\w.]+)\s+RENAME\s+TO\s+([`"\w.]+)$/is.exec(text);
  if (m) {
    return [
      `ALTER TABLE ${tableName(hiveDdlName(m[1]!, text), iceberg, options.schema)} RENAME TO ${tableName(hiveDdlName(m[2]!, text), iceberg, options.schema)}`,
    ];
  }

  if (/^(CREATE|ALTER|DROP|MSCK)\b/i.test(text) && text.includes('`')) {
    throw new TranslationError(`no Trino translation for this Athena DDL: ${text.slice(0, 80)}`);
  }
  return [text];
}

function afterColumns(text: string, open: number): { cols: DdlColumn[]; rest: string } {
  const { inner, end } = parenthesised(text, open);
  return { cols: columns(inner), rest: text.slice(end) };
}

function createExternal(text: string, m: RegExpExecArray, catalog: string, schema: string): string {
  const { cols, rest } = afterColumns(text, m[0].length - 1);
  let partitions: DdlColumn[] = [];
  const partitioned = /^\s*PARTITIONED\s+BY\s*\(/i.exec(rest);
  let tail = rest;
  if (partitioned) {
    const { inner, end } = parenthesised(rest, partitioned[0].length - 1);
    partitions = columns(inner);
    tail = rest.slice(end);
  }
  const stored = /STORED\s+AS\s+(\w+)/i.exec(tail)?.[1]?.toUpperCase();
  if (stored !== 'PARQUET')
    throw new TranslationError('only STORED AS PARQUET external tables are translated');
  const location = /LOCATION\s+'((?:[^']|'')*)'/i.exec(tail)?.[1]?.replaceAll("''", "'");
  if (location === undefined) throw new TranslationError('an external table needs a LOCATION');
  const propsAt = /TBLPROPERTIES\s*\(/i.exec(tail);
  const props = propsAt
    ? properties(parenthesised(tail, propsAt.index + propsAt[0].length - 1).inner)
    : new Map<string, string>();
  const projected = props.get('projection.enabled') === 'true';
  const partitionDefs = partitions.map((p) => {
    const type = trinoType(p.type, 'hive');
    if (!projected) return `${ident(p.name)} ${type}`;
    const prefix = `projection.${p.name}.`;
    const with_: string[] = [];
    const kind = props.get(`${prefix}type`);
    if (kind) with_.push(`partition_projection_type=${str(kind)}`);
    const format = props.get(`${prefix}format`);
    if (format) with_.push(`partition_projection_format=${str(format)}`);
    const range = props.get(`${prefix}range`);
    if (range)
      with_.push(
        `partition_projection_range=ARRAY[${range
          .split(',')
          .map((v) => str(v.trim()))
          .join(', ')}]`,
      );
    const interval = props.get(`${prefix}interval`);
    if (interval) with_.push(`partition_projection_interval=${Number(interval)}`);
    const unit = props.get(`${prefix}interval.unit`);
    if (unit) with_.push(`partition_projection_interval_unit=${str(unit.toUpperCase())}`);
    return `${ident(p.name)} ${type}${with_.length > 0 ? ` WITH (${with_.join(', ')})` : ''}`;
  });
  const tableProps = [
    `external_location=${str(location)}`,
    "format='PARQUET'",
    ...(partitions.length > 0
      ? [`partitioned_by=ARRAY[${partitions.map((p) => str(p.name)).join(', ')}]`]
      : []),
    ...(projected ? ['partition_projection_enabled=true'] : []),
    ...(projected && props.get('storage.location.template')
      ? [`partition_projection_location_template=${str(props.get('storage.location.template')!)}`]
      : []),
  ];
  const defs = [...cols.map((c) => `${ident(c.name)} ${trinoType(c.type, 'hive')}`), ...partitionDefs];
  return `CREATE TABLE ${m[1] ? 'IF NOT EXISTS ' : ''}${tableName(m[2]!, catalog, schema)} (${defs.join(', ')}) WITH (${tableProps.join(', ')})`;
}

function createIceberg(text: string, m: RegExpExecArray, catalog: string, schema: string): string {
  const { cols, rest } = afterColumns(text, m[0].length - 1);
  const propsAt = /TBLPROPERTIES\s*\(/i.exec(rest);
  const props = propsAt
    ? properties(parenthesised(rest, propsAt.index + propsAt[0].length - 1).inner)
    : new Map<string, string>();
  if (props.get('table_type')?.toUpperCase() !== 'ICEBERG') {
    throw new TranslationError("only Iceberg tables (TBLPROPERTIES ('table_type'='ICEBERG')) are translated");
  }
  const location = /LOCATION\s+'((?:[^']|'')*)'/i.exec(rest)?.[1]?.replaceAll("''", "'");
  const format = (props.get('format') ?? 'parquet').toUpperCase();
  const with_ = [...(location !== undefined ? [`location=${str(location)}`] : []), `format=${str(format)}`];
  const defs = cols.map((c) => `${ident(c.name)} ${trinoType(c.type, 'iceberg')}`);
  return `CREATE TABLE ${m[1] ? 'IF NOT EXISTS ' : ''}${tableName(m[2]!, catalog, schema)} (${defs.join(', ')}) WITH (${with_.join(', ')})`;
}
