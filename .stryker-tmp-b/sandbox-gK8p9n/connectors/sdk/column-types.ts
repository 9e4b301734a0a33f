/**
 * Column type names as users write them (stream declarations, REST config):
 * the plain names of `ColumnType` and `decimal(p,s)`. Parsing lives here so
 * the engine, the writer and the connectors agree on one spelling.
 */
// @ts-nocheck

import { ColumnType, type DecimalType } from './types.js';

/** Parquet DECIMAL (and Athena) allow at most 38 digits. */
export const MAX_DECIMAL_PRECISION = 38;

export interface DecimalSpec {
  readonly precision: number;
  readonly scale: number;
}

const DECIMAL = /^\s*decimal\s*\(\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)\s*$/i;
const NAMES = new Set<string>(Object.values(ColumnType));

/** `decimal(p,s)` for a valid precision and scale; throws a RangeError naming the bad part otherwise. */
export function decimalType(precision: number, scale: number): DecimalType {
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_DECIMAL_PRECISION) {
    throw new RangeError(`decimal precision must be 1–${MAX_DECIMAL_PRECISION}, got ${precision}`);
  }
  if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new RangeError(`decimal scale must be 0–${precision} (the precision), got ${scale}`);
  }
  return `decimal(${precision},${scale})`;
}

/** Precision and scale of a `decimal(p,s)` type, or undefined for any other type. */
export function parseDecimalType(type: string): DecimalSpec | undefined {
  const match = DECIMAL.exec(type);
  if (!match) return undefined;
  const precision = Number(match[1]);
  const scale = Number(match[2]);
  if (precision < 1 || precision > MAX_DECIMAL_PRECISION || scale > precision) return undefined;
  return { precision, scale };
}

/** A column type from its text (`timestamp`, `decimal(12,2)`), canonical spelling; undefined when unknown. */
export function parseColumnType(text: string): ColumnType | undefined {
  const name = text.trim().toLowerCase();
  if (NAMES.has(name)) return name as ColumnType;
  const decimal = parseDecimalType(name);
  return decimal ? decimalType(decimal.precision, decimal.scale) : undefined;
}

/** The writer's per-kind code paths: every decimal(p,s) is one kind. */
export type ColumnKind = Exclude<ColumnType, DecimalType> | 'decimal';

export function columnKind(type: ColumnType): ColumnKind {
  return type.startsWith('decimal(') ? 'decimal' : (type as ColumnKind);
}
