/**
 * `accepted_values` with values of another type than the column, run on a
 * one-column table in both engines (test/unit/engine/stages/accepted-values.test.ts
 * on DuckDB, test/trino/accepted-values.test.ts on Trino): the failing rows
 * must be the same, and neither engine may refuse the SQL.
 */
import { acceptedValuesPredicate } from '../../engine/stages/quality.js';

export interface AcceptedValuesCase {
  readonly name: string;
  /** The column's lake type. */
  readonly type: string;
  /** The column's values, as text cast to the column's type; null is NULL. */
  readonly rows: readonly (string | null)[];
  readonly values: readonly (string | number | boolean)[];
  readonly failing: number;
}

export const ACCEPTED_VALUES_CASES: readonly AcceptedValuesCase[] = [
  {
    name: 'numbers for a string column',
    type: 'string',
    rows: ['200', '500', null],
    values: [200, 404],
    failing: 1,
  },
  {
    name: 'strings for a string column',
    type: 'string',
    rows: ['paid', 'lost'],
    values: ['paid'],
    failing: 1,
  },
  {
    name: 'strings for a bigint column',
    type: 'bigint',
    rows: ['1', '3', null],
    values: ['1', '2'],
    failing: 1,
  },
  {
    name: 'a non-number for a bigint column',
    type: 'bigint',
    rows: ['1', null],
    values: ['abc'],
    failing: 1,
  },
  {
    name: 'mixed for a double column',
    type: 'double',
    rows: ['200', '1.5', '3'],
    values: [200, '1.5'],
    failing: 1,
  },
  {
    name: 'a number for a decimal column',
    type: 'decimal(10,2)',
    rows: ['1.50', '2.00'],
    values: [1.5],
    failing: 1,
  },
  {
    name: 'a string for a boolean column',
    type: 'boolean',
    rows: ['true', 'false'],
    values: ['true'],
    failing: 1,
  },
  {
    name: 'a string for a date column',
    type: 'date',
    rows: ['2024-01-02', '2024-01-03'],
    values: ['2024-01-02'],
    failing: 1,
  },
  {
    name: 'an ISO string for a timestamp column',
    type: 'timestamp',
    rows: ['2024-01-02 00:00:00', '2024-01-02 00:00:01'],
    values: ['2024-01-02T00:00:00Z'],
    failing: 1,
  },
];

/** `SELECT count_if(<the check's predicate>) AS "n"` over the case's rows, the column typed `sqlType`. */
export function acceptedValuesQuery(c: AcceptedValuesCase, sqlType: string): string {
  const rows = c.rows.map((v) => `(CAST(${v === null ? 'NULL' : `'${v}'`} AS ${sqlType}))`).join(', ');
  return `SELECT count_if(${acceptedValuesPredicate('"c"', c.type, c.values)}) AS "n" FROM (VALUES ${rows}) AS t("c")`;
}
