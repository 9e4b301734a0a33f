/**
 * The lake's column types as SQL types, in one place: Hive DDL (what Glue
 * stores and Athena reads; Athena's Iceberg DDL takes the same names) and
 * DuckDB (the local query engine). `decimal(p,s)` is spelled the same in both.
 */
// @ts-nocheck

import type { ColumnType } from '../connectors/sdk/types.js';

type PlainColumnType = Exclude<ColumnType, `decimal(${string}`>;

/** Hive/Glue type per plain column type. JSON lands as a string (Athena's json_* functions read it). */
export const HIVE_TYPES: Readonly<Record<PlainColumnType, string>> = {
  boolean: 'boolean',
  int: 'int',
  bigint: 'bigint',
  double: 'double',
  string: 'string',
  json: 'string',
  timestamp: 'timestamp',
  date: 'date',
};

const DUCKDB_TYPES: Readonly<Record<PlainColumnType, string>> = {
  boolean: 'BOOLEAN',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  date: 'DATE',
  json: 'VARCHAR',
};

/** The Hive DDL type of a lake column type; an unknown type reads as `string`. */
export function hiveType(type: string): string {
  return type.startsWith('decimal(') ? type : (HIVE_TYPES[type as PlainColumnType] ?? 'string');
}

/** The DuckDB type of a lake column type; an unknown type reads as `VARCHAR`. */
export function duckDbType(type: string): string {
  return type.startsWith('decimal(')
    ? type.toUpperCase()
    : (DUCKDB_TYPES[type as PlainColumnType] ?? 'VARCHAR');
}
