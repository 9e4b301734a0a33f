/**
 * `accepted_values` with values of another type than the column, on Trino
 * (Athena engine v3's engine), which refuses `varchar NOT IN (200, 404)`
 * with TYPE_MISMATCH where DuckDB casts. Same cases as the DuckDB test.
 */
import { describe, expect, it } from 'vitest';
import { TrinoQueryEngine } from '../../adapters/trino/query-engine.js';
import { trinoType } from '../../adapters/trino/translate.js';
import { hiveType } from '../../engine/sql-types.js';
import { ACCEPTED_VALUES_CASES, acceptedValuesQuery } from '../support/accepted-values-cases.js';

const trino = new TrinoQueryEngine({
  url: process.env.SLUICE_TRINO_URL ?? 'http://127.0.0.1:18181',
  locationOf: (key) => key,
  schemaLocation: '/',
});

describe('accepted_values on Trino', () => {
  it.each(ACCEPTED_VALUES_CASES)('counts the failing rows when given $name', async (c) => {
    // Act
    const result = await trino.run(acceptedValuesQuery(c, trinoType(hiveType(c.type), 'hive')));

    // Assess
    expect(Number(result.rows[0]?.n)).toBe(c.failing);
  });
});
