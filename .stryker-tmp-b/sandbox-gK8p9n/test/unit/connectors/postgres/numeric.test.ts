/**
 * PostgreSQL numeric against a real server (test/support/postgres.ts):
 * `numeric(p,s)` lands as Parquet DECIMAL(p,s), Athena `decimal(p,s)`;
 * unbounded `numeric` (and precision over 38) as exact strings.
 */
// @ts-nocheck

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postgresConnector } from '../../../../connectors/postgres/index.js';
import type { Connector } from '../../../../connectors/sdk/types.js';
import {
  declaredColumnsOf,
  parquetColumns,
  readAsAthena,
  tableFiles,
} from '../../../support/athena-read-check.js';
import { openTestLake, type TestLake } from '../../../support/lake.js';
import { connectTo, type PostgresServer, startPostgres } from '../../../support/postgres.js';

let server: PostgresServer;
let lake: TestLake | undefined;

beforeAll(async () => {
  server = await startPostgres();
  const db = await connectTo(server);
  try {
    await db.query(`
      CREATE TABLE ledger (
        id int PRIMARY KEY,
        amount numeric(12,2),
        rate numeric(5),
        exact numeric,
        huge numeric(50,10)
      );
      INSERT INTO ledger VALUES
        (1, 12.5, 42, 3.14159265358979323846264338327950288419, 1234567890123456789012345678901234567890.0123456789),
        (2, -0.01, -99999, 1e-30, 0),
        (3, 'NaN', NULL, 'NaN', NULL);`);
  } finally {
    await db.end();
  }
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await lake?.dispose();
});

describe('postgres numeric in the lake', () => {
  it('lands numeric(p,s) as DECIMAL(p,s) and unbounded numeric as exact strings', async () => {
    // Prepare
    const config = {
      host: server.host,
      port: server.port,
      database: server.database,
      user: server.user,
      password: server.password,
      ssl: { mode: 'disable' },
      tables: ['public.ledger'],
    };
    const now = new Date().toISOString();
    lake = await openTestLake(
      { name: 'pg', type: 'postgres', config, createdAt: now, updatedAt: now },
      postgresConnector as Connector<never>,
      config,
    );
    // Act
    const run = await lake.sync();
    const table = (await lake.backend.catalog.getTable('pg', 'public_ledger'))!;
    const files = await tableFiles(lake.backend.objects, table.location);
    const rows = await readAsAthena(files, declaredColumnsOf(table));
    // Assess
    const declared = Object.fromEntries(declaredColumnsOf(table).map((c) => [c.name, c.type]));
    expect(declared).toMatchObject({
      amount: 'decimal(12,2)',
      rate: 'decimal(5,0)',
      exact: 'string',
      huge: 'string',
    });
    const types = Object.fromEntries(
      parquetColumns(files[0]!.bytes).map((c) => [c.name, `${c.physical} ${c.logical}`]),
    );
    expect(types).toMatchObject({
      amount: 'INT64 DECIMAL(12,2)',
      rate: 'INT32 DECIMAL(5,0)',
      exact: 'BYTE_ARRAY STRING',
    });
    // NaN has no DECIMAL form: it lands in the string variant, recorded in the run report.
    expect(run.streams.public_ledger!.schemaChanges).toContain(
      'added variant column amount__string (string) for values of amount that are not decimal(12,2)',
    );
    expect(rows.map((r) => [r.id, r.amount, r.amount__string, r.rate, r.exact, r.huge]).sort()).toEqual([
      [
        1,
        '12.50',
        null,
        '42',
        '3.14159265358979323846264338327950288419',
        '1234567890123456789012345678901234567890.0123456789',
      ],
      [2, '-0.01', null, '-99999', '0.000000000000000000000000000001', '0.0000000000'],
      [3, null, 'NaN', null, 'NaN', null],
    ]);
  });
});
