/**
 * Reads a table the way Athena does, for tests: every data file's Parquet
 * footer is held against the table's declared catalog (Glue) types with
 * Athena's in-place coercion table, and only then are the rows read — each
 * file by itself, its columns matched to the declared ones by name ignoring
 * case, columns a file lacks as NULL. No `union_by_name`, no casts: a file
 * whose physical type the declared type cannot read fails, naming the file,
 * the column, the declared type and the file's type, as Athena fails the
 * query (HIVE_BAD_DATA / "declared as type …, but the Parquet file declares
 * …").
 *
 * Athena's rule (user guide, "Updates in tables with data" → "Change a
 * column's data type"): in place it reads INT32 as BIGINT and FLOAT as
 * DOUBLE; otherwise the Parquet type must be the declared type's own.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as duckdb from '@duckdb/node-api';
import { glueType } from '../../adapters/aws/glue-catalog.js';
import { plainConverter } from '../../adapters/local/query-engine.js';
import { decodeStruct, field, listField, type ThriftStruct } from '../../engine/parquet/thrift.js';
import type { ObjectStore, TableDefinition } from '../../engine/ports.js';
import { METADATA_COLUMNS } from '../../engine/schema.js';

/** A column as the catalog declares it: its name and Glue type (`bigint`, `decimal(12,2)`). */
export interface DeclaredColumn {
  readonly name: string;
  readonly type: string;
}

/** One top-level column of a Parquet file, as its footer describes it. */
export interface FileColumn {
  readonly name: string;
  /** BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY. */
  readonly physical: string;
  /** STRING, DATE, JSON, ENUM, DECIMAL(p,s), TIMESTAMP(unit), INTEGER(bits), …; undefined when plain. */
  readonly logical: string | undefined;
}

export interface AthenaReadViolation {
  readonly file: string;
  readonly column: string;
  readonly declared: string;
  readonly fileType: string;
}

export class AthenaReadError extends Error {
  public readonly violations: readonly AthenaReadViolation[];
  public constructor(violations: readonly AthenaReadViolation[]) {
    super(
      `Athena cannot read ${violations.length} column(s):\n${violations
        .map(
          (v) => `  ${v.file}: column ${v.column} is declared ${v.declared}, but the file has ${v.fileType}`,
        )
        .join('\n')}`,
    );
    this.name = 'AthenaReadError';
    this.violations = violations;
  }
}

export interface DataFile {
  /** The object key, for messages. */
  readonly key: string;
  readonly bytes: Uint8Array;
  /** The partition value the file lies under. */
  readonly dt: string;
}

const PHYSICAL = [
  'BOOLEAN',
  'INT32',
  'INT64',
  'INT96',
  'FLOAT',
  'DOUBLE',
  'BYTE_ARRAY',
  'FIXED_LEN_BYTE_ARRAY',
];
const CONVERTED: Readonly<Record<number, string>> = {
  0: 'STRING',
  4: 'ENUM',
  6: 'DATE',
  9: 'TIMESTAMP(MILLIS)',
  10: 'TIMESTAMP(MICROS)',
  15: 'INTEGER(8)',
  16: 'INTEGER(16)',
  17: 'INTEGER(32)',
  18: 'INTEGER(64)',
  19: 'JSON',
};
const UNIT = ['', 'MILLIS', 'MICROS', 'NANOS'];

const int = (s: ThriftStruct, id: number): number | undefined => {
  const f = field(s, id);
  return f === undefined ? undefined : Number(f.value);
};

/** The top-level columns of a Parquet file, from its footer (the project's Thrift reader). */
export function parquetColumns(bytes: Uint8Array): FileColumn[] {
  const n = bytes.length;
  const magic = String.fromCharCode(...bytes.subarray(n - 4));
  if (n < 12 || magic !== 'PAR1') throw new Error('not a Parquet file (no PAR1 trailer)');
  const length = new DataView(bytes.buffer, bytes.byteOffset + n - 8, 4).getUint32(0, true);
  const meta = decodeStruct(bytes.subarray(n - 8 - length, n - 8));
  const elements = listField(meta, 2).items as ThriftStruct[];
  const columns: FileColumn[] = [];
  // elements[0] is the root; a flat schema lists its leaves next. Nested groups are skipped whole.
  for (let i = 1; i < elements.length; i++) {
    const element = elements[i]!;
    const name = new TextDecoder().decode(field(element, 4)!.value as Uint8Array);
    const children = int(element, 5);
    if (children !== undefined && children > 0) {
      columns.push({ name, physical: 'GROUP', logical: undefined });
      i += countDescendants(elements, i) - 1;
      continue;
    }
    columns.push({
      name,
      physical: PHYSICAL[int(element, 1) ?? -1] ?? 'UNKNOWN',
      logical: logicalOf(element),
    });
  }
  return columns;
}

function countDescendants(elements: readonly ThriftStruct[], at: number): number {
  let total = 1;
  const children = int(elements[at]!, 5) ?? 0;
  let next = at + 1;
  for (let c = 0; c < children; c++) {
    const size = countDescendants(elements, next);
    total += size;
    next += size;
  }
  return total;
}

function logicalOf(element: ThriftStruct): string | undefined {
  const logical = field(element, 10)?.value as ThriftStruct | undefined;
  const kind = logical?.fields[0];
  if (kind !== undefined) {
    const inner = kind.value as ThriftStruct;
    switch (kind.id) {
      case 1:
        return 'STRING';
      case 4:
        return 'ENUM';
      case 5:
        return `DECIMAL(${int(inner, 2)},${int(inner, 1)})`;
      case 6:
        return 'DATE';
      case 8: {
        const unit = (field(inner, 2)?.value as ThriftStruct | undefined)?.fields[0]?.id ?? 0;
        return `TIMESTAMP(${UNIT[unit]})`;
      }
      case 10:
        return `INTEGER(${int(inner, 1)})`;
      case 12:
        return 'JSON';
      default:
        return `LOGICAL(${kind.id})`;
    }
  }
  const converted = int(element, 6);
  if (converted === undefined) return undefined;
  if (converted === 5) return `DECIMAL(${int(element, 8)},${int(element, 7)})`;
  return CONVERTED[converted] ?? `CONVERTED(${converted})`;
}

export function describeFileColumn(column: FileColumn): string {
  return column.logical === undefined ? column.physical : `${column.physical} ${column.logical}`;
}

const isInteger = (c: FileColumn, bits: number): boolean =>
  c.logical === undefined ||
  c.logical === `INTEGER(${bits})` ||
  (bits === 32 && /^INTEGER\((8|16)\)$/.test(c.logical));

/**
 * Athena's coercion table: whether a column declared `declared` (a Glue
 * type) reads a file column of this physical/logical type in place.
 */
export function athenaReads(declared: string, column: FileColumn): boolean {
  const type = declared.trim().toLowerCase();
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) {
    return (
      column.logical === `DECIMAL(${decimal[1]},${decimal[2]})` &&
      ['INT32', 'INT64', 'FIXED_LEN_BYTE_ARRAY', 'BYTE_ARRAY'].includes(column.physical)
    );
  }
  switch (type) {
    case 'boolean':
      return column.physical === 'BOOLEAN';
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'integer':
      return column.physical === 'INT32' && isInteger(column, 32);
    case 'bigint':
      // INT32 → BIGINT is the documented in-place widening.
      return (
        (column.physical === 'INT64' && isInteger(column, 64)) ||
        (column.physical === 'INT32' && isInteger(column, 32))
      );
    case 'float':
      return column.physical === 'FLOAT';
    case 'double':
      // FLOAT → DOUBLE is the other documented one.
      return column.physical === 'DOUBLE' || column.physical === 'FLOAT';
    case 'string':
      return (
        column.physical === 'BYTE_ARRAY' &&
        (column.logical === undefined || ['STRING', 'ENUM', 'JSON'].includes(column.logical))
      );
    case 'timestamp':
      return (
        column.physical === 'INT96' ||
        (column.physical === 'INT64' && /^TIMESTAMP/.test(column.logical ?? ''))
      );
    case 'date':
      return column.physical === 'INT32' && column.logical === 'DATE';
    default:
      return false;
  }
}

/** Every column of every file whose type the declared type cannot read. */
export function checkFiles(
  files: readonly DataFile[],
  declared: readonly DeclaredColumn[],
): AthenaReadViolation[] {
  const byName = new Map(declared.map((c) => [c.name.toLowerCase(), c]));
  const violations: AthenaReadViolation[] = [];
  for (const file of files) {
    for (const column of parquetColumns(file.bytes)) {
      const want = byName.get(column.name.toLowerCase());
      if (want === undefined) continue; // not declared: Athena never reads it
      if (!athenaReads(want.type, column)) {
        violations.push({
          file: file.key,
          column: want.name,
          declared: want.type,
          fileType: describeFileColumn(column),
        });
      }
    }
  }
  return violations;
}

/**
 * The rows Athena would return for `SELECT *`: throws AthenaReadError when
 * any file holds a column its declared type cannot read. Each row carries
 * the declared columns (by their declared names) and `dt`.
 */
export async function readAsAthena(
  files: readonly DataFile[],
  declared: readonly DeclaredColumn[],
): Promise<Record<string, unknown>[]> {
  const violations = checkFiles(files, declared);
  if (violations.length > 0) throw new AthenaReadError(violations);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-athena-read-'));
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    const rows: Record<string, unknown>[] = [];
    for (const [index, file] of files.entries()) {
      const path = join(dir, `${index}.parquet`);
      await writeFile(path, file.bytes);
      const present = new Map(parquetColumns(file.bytes).map((c) => [c.name.toLowerCase(), c.name]));
      const select = declared.map((c) => {
        const actual = present.get(c.name.toLowerCase());
        if (actual === undefined) return `NULL AS ${quote(c.name)}`;
        // Decimals as exact text; everything else as its own type.
        const value = c.type.startsWith('decimal(') ? `CAST(${quote(actual)} AS VARCHAR)` : quote(actual);
        return `${value} AS ${quote(c.name)}`;
      });
      const reader = await connection.runAndReadAll(
        `SELECT ${select.join(', ')}, ${literal(file.dt)} AS dt FROM read_parquet(${literal(path)})`,
      );
      rows.push(...(reader.convertRowObjects(plainConverter(duckdb)) as Record<string, unknown>[]));
    }
    return rows;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The Glue columns of a catalog table: its latest data columns, then the metadata columns. */
export function declaredColumnsOf(table: TableDefinition): DeclaredColumn[] {
  const columns = table.schemaVersions.at(-1)?.columns ?? [];
  const names = new Set(columns.map((c) => c.name));
  return [...columns, ...METADATA_COLUMNS.filter((c) => !names.has(c.name))].map((c) => ({
    name: c.name,
    type: glueType(c.type),
  }));
}

/** The Parquet files under a table's location (its `dt=` partitions) in an object store. */
export async function tableFiles(objects: ObjectStore, location: string): Promise<DataFile[]> {
  const prefix = location.endsWith('/') ? location : `${location}/`;
  const files: DataFile[] = [];
  for (const object of await objects.list(prefix)) {
    const match = /(?:^|\/)dt=([^/]+)\/([^/]+)$/.exec(object.key);
    if (!match || !object.key.endsWith('.parquet') || /^[._]/.test(match[2]!)) continue;
    files.push({ key: object.key, bytes: (await objects.get(object.key))!, dt: match[1]! });
  }
  return files;
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;
