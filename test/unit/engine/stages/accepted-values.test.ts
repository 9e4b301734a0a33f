import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../../adapters/local/query-engine.js';
import { duckDbType } from '../../../../engine/sql-types.js';
import { ACCEPTED_VALUES_CASES, acceptedValuesQuery } from '../../../support/accepted-values-cases.js';

const emptyCatalog = { listTables: async () => [] } as never;
const noObjects = { list: async () => [] } as never;
let engine: DuckDbQueryEngine;
beforeAll(async () => {
  engine = await DuckDbQueryEngine.open({ catalog: emptyCatalog, objects: noObjects });
});
afterAll(async () => {
  await engine.close();
});

describe('accepted_values on DuckDB', () => {
  it.each(ACCEPTED_VALUES_CASES)('counts the failing rows when given $name', async (c) => {
    // Act
    const result = await engine.query(acceptedValuesQuery(c, duckDbType(c.type)));

    // Assess
    expect(Number(result.rows[0]?.n)).toBe(c.failing);
  });
});
