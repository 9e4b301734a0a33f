import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../../adapters/local/query-engine.js';
import { duckDbType } from '../../../../engine/sql-types.js';
import { acceptedValuesPredicate } from '../../../../engine/stages/quality.js';
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

describe('accepted_values timestamp literals', () => {
  it('reads a value without an offset as UTC, whatever zone the machine is in', () => {
    // Prepare: a zone five hours from UTC.
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      // Act
      const predicate = acceptedValuesPredicate('"c"', 'timestamp', [
        '2024-01-02T10:00:00',
        '2024-01-02T10:00:00.250Z',
      ]);

      // Assess
      expect(predicate).toContain("TIMESTAMP '2024-01-02 10:00:00.000'");
      expect(predicate).toContain("TIMESTAMP '2024-01-02 10:00:00.250'");
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});
