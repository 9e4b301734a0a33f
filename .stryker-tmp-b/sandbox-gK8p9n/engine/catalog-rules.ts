/**
 * What Glue and Athena accept as names and types, checked by pure functions
 * so the engine can refuse a table before its commit point (a publish that
 * fails after the manifest is written would fail again on every recovery).
 *
 * Athena: names of tables and columns are lowercase letters, digits and
 * underscores (Glue lowercases what it is given), at most 255 characters;
 * the partition key `dt` cannot also be a data column. Glue: 1–255
 * characters per table and column name.
 */
// @ts-nocheck

import { parseColumnType } from '../connectors/sdk/column-types.js';
import { ValidationError } from './errors.js';
import type { Column, TableDefinition } from './ports.js';

/** Partition key of every raw table: the lake's `dt=<yyyy-mm-dd>/` directories. */
export const PARTITION_KEY = 'dt';

/** Glue's limit for table and column names. */
export const MAX_NAME_LENGTH = 255;

/** Engine-owned columns start with this; a source field never lands under it. */
export const RESERVED_PREFIX = '_sluice_';

/** Letters, digits and `_`; Glue stores them lowercased, so upper case in legacy names is tolerated. */
const COLUMN_NAME = /^[A-Za-z0-9_]+$/;
const TABLE_PART = /^[a-z0-9_]+$/;

/** The Glue table of a stream: `<source>__<stream>` (sources hold no `__`, so it cannot collide). */
export function catalogTableName(source: string, stream: string): string {
  return `${source}__${stream}`.toLowerCase();
}

/**
 * Checks that a table definition can be registered in Glue and read by
 * Athena: table name, every column name of the latest schema version
 * (charset, length, unique ignoring case, not the partition key) and every
 * column type. Throws a ValidationError naming each problem; returns nothing.
 */
export function validateTableForCatalog(table: TableDefinition): void {
  const problems: string[] = [];
  const name = catalogTableName(table.source, table.stream);
  if (!TABLE_PART.test(table.source)) problems.push(`source name "${table.source}" is not snake_case`);
  if (!TABLE_PART.test(table.stream)) problems.push(`stream name "${table.stream}" is not snake_case`);
  if (name.length > MAX_NAME_LENGTH) {
    problems.push(`table name "${name}" is ${name.length} characters; Glue allows ${MAX_NAME_LENGTH}`);
  }
  const latest = table.schemaVersions.at(-1);
  problems.push(...columnProblems(latest?.columns ?? []));
  if (problems.length > 0) {
    throw new ValidationError(
      `table ${table.source}.${table.stream} cannot be registered: ${problems.join('; ')}`,
      {
        field: 'schema',
      },
    );
  }
}

/** What is wrong with a column list for Glue/Athena; empty when nothing is. */
export function columnProblems(columns: readonly Column[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const column of columns) {
    const name = column.name;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      problems.push(`column name ${JSON.stringify(name)} must be 1–${MAX_NAME_LENGTH} characters`);
      continue;
    }
    if (!COLUMN_NAME.test(name)) {
      problems.push(`column name "${name}" may hold only letters, digits and _`);
    }
    const folded = name.toLowerCase();
    if (folded === PARTITION_KEY) problems.push(`column "${name}" would be hidden by the partition key`);
    const earlier = seen.get(folded);
    if (earlier !== undefined) problems.push(`columns "${earlier}" and "${name}" are one column to Glue`);
    seen.set(folded, name);
    if (typeof column.type !== 'string' || parseColumnType(column.type) !== column.type) {
      problems.push(`column "${name}" has type ${JSON.stringify(column.type)}, which is not a lake type`);
    }
  }
  return problems;
}
