/**
 * Athena's rule for reading a Parquet column under a declared type, for the
 * local query engine: Athena reads Parquet by column name and accepts in
 * place only the file types the declared type reads (INT32 as BIGINT and
 * FLOAT as DOUBLE besides each type's own; user guide, "Change a column data
 * type"). DuckDB would cast anything, so the local engine asks this first.
 * (test/support/athena-read-check.ts holds an independent copy: a test
 * oracle that shared this code could not catch its mistakes.)
 */
// @ts-nocheck

import { parseDecimalType } from '../../connectors/sdk/column-types.js';
import type { ColumnType } from '../../connectors/sdk/types.js';

/** A file column as DuckDB's `parquet_schema()` describes it. */
export interface ParquetFileColumn {
  /** Physical type: BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY. */
  readonly type: string;
  /** UTF8, DATE, DECIMAL, TIMESTAMP_MICROS, INT_32, JSON, … or null. */
  readonly convertedType: string | null;
  readonly logicalType: string | null;
  readonly precision: number | null;
  readonly scale: number | null;
}

const PLAIN_INT = new Set([null, 'INT_8', 'INT_16', 'INT_32']);

export function athenaReads(declared: ColumnType, file: ParquetFileColumn): boolean {
  const decimal = parseDecimalType(declared);
  if (decimal) {
    return (
      file.convertedType === 'DECIMAL' && file.precision === decimal.precision && file.scale === decimal.scale
    );
  }
  const converted = file.convertedType;
  switch (declared) {
    case 'boolean':
      return file.type === 'BOOLEAN';
    case 'int':
      return file.type === 'INT32' && PLAIN_INT.has(converted);
    case 'bigint':
      return (
        (file.type === 'INT64' && (converted === null || converted === 'INT_64')) ||
        (file.type === 'INT32' && PLAIN_INT.has(converted))
      );
    case 'double':
      return file.type === 'DOUBLE' || file.type === 'FLOAT';
    case 'string':
    case 'json':
      return (
        file.type === 'BYTE_ARRAY' &&
        (converted === null || converted === 'UTF8' || converted === 'JSON' || converted === 'ENUM')
      );
    case 'timestamp':
      return (
        file.type === 'INT96' ||
        (file.type === 'INT64' &&
          (converted?.startsWith('TIMESTAMP') === true || /^Timestamp/.test(file.logicalType ?? '')))
      );
    case 'date':
      return file.type === 'INT32' && converted === 'DATE';
    default:
      return false;
  }
}

export function describeFileType(file: ParquetFileColumn): string {
  if (file.convertedType === 'DECIMAL') return `${file.type} DECIMAL(${file.precision},${file.scale})`;
  return file.convertedType === null ? file.type : `${file.type} ${file.convertedType}`;
}
