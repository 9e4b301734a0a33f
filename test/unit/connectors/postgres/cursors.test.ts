/**
 * Cursor values of the postgres connector through whole syncs on a local
 * lake, against a real PostgreSQL server: int8 cursors beyond 2^53 (snowflake
 * ids), the first read of values below the initial cursor (-infinity, BC),
 * NULL cursors, and a fractional lag on an integer cursor.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresConfig, postgresConnector } from '../../../../connectors/postgres/index.js';
import type { Connector } from '../../../../connectors/sdk/types.js';
import { openTestLake, type TestLake } from '../../../support/lake.js';
import { connectTo, type PostgresServer, startPostgres } from '../../../support/postgres.js';

let server: PostgresServer;
let db: pg.Client;
const lakes: TestLake[] = [];

beforeAll(async () => {
  server = await startPostgres();
  db = await connectTo(server);
}, 120_000);

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

afterEach(async () => {
  await Promise.all(lakes.splice(0).map((lake) => lake.dispose()));
});

async function lakeFor(overrides: Partial<PostgresConfig>): Promise<TestLake> {
  const config: PostgresConfig = {
    host: server.host,
    port: server.port,
    database: server.database,
    user: server.user,
    password: server.password,
    ssl: { mode: 'disable' },
    ...overrides,
  };
  const now = new Date().toISOString();
  const lake = await openTestLake(
    { name: 'pg', type: 'postgres', config: { ...config }, createdAt: now, updatedAt: now },
    postgresConnector as Connector<never>,
    config,
  );
  lakes.push(lake);
  return lake;
}

describe('postgres int8 cursors beyond 2^53', () => {
  const B = 2n ** 62n;

  for (const columnar of [true, false]) {
    it(`reads a row inserted between the last id and the next double after it (${columnar ? 'columnar' : 'record'} path)`, async () => {
      // Prepare: 2^62 + 513 rounds up to 2^62 + 1024 as a double; 2^62 + 600 lies between.
      const table = `snow_${columnar ? 'c' : 'r'}`;
      await db.query(`CREATE TABLE ${table} (id int8 PRIMARY KEY, v text)`);
      await db.query(`INSERT INTO ${table} VALUES (${B + 513n}, 'first')`);
      const lake = await lakeFor({ tables: [table], cursorColumns: { [table]: 'id' }, columnar });

      // Act
      const first = await lake.sync();
      const committed = (await lake.backend.state.getCursor('pg', `public_${table}`)).cursor;
      await db.query(`INSERT INTO ${table} VALUES (${B + 600n}, 'later, above the max')`);
      const second = await lake.sync();
      const rows = await lake.query(
        `SELECT CAST(id AS VARCHAR) AS id, v FROM pg.public_${table} ORDER BY id`,
      );

      // Assess: the cursor is the exact id, and the later row lands on the next sync, once.
      expect(first.status).toBe('SUCCEEDED');
      expect(committed?.value).toBe(String(B + 513n));
      expect(second.streams[`public_${table}`]).toMatchObject({ rows: 1, cursorTo: String(B + 600n) });
      expect(rows).toEqual([
        { id: String(B + 513n), v: 'first' },
        { id: String(B + 600n), v: 'later, above the max' },
      ]);
    });
  }
});

describe('postgres first read of an incremental table', () => {
  it('lands rows whose cursor is -infinity, BC or before 0001-01-01, and none whose cursor is NULL', async () => {
    // Prepare
    await db.query('CREATE TABLE early (id int PRIMARY KEY, updated_at timestamptz)');
    await db.query(
      `INSERT INTO early VALUES (1, '2026-01-01'), (2, '-infinity'), (3, '0044-03-15 BC'), (4, NULL)`,
    );
    await db.query('CREATE TABLE early_days (id int PRIMARY KEY, updated_at date)');
    await db.query(`INSERT INTO early_days VALUES (1, '2026-01-01'), (2, '-infinity'), (3, '4713-01-01 BC')`);
    await db.query('CREATE TABLE early_ids (id int8 PRIMARY KEY, updated_at int8)');
    await db.query(`INSERT INTO early_ids VALUES (1, 5), (2, -9223372036854775808)`);
    const lake = await lakeFor({ tables: ['early', 'early_days', 'early_ids'] });

    // Act
    const run = await lake.sync();
    const ids = async (table: string): Promise<number[]> =>
      (await lake.query(`SELECT CAST(id AS INTEGER) AS id FROM pg.public_${table} ORDER BY id`)).map((r) =>
        Number(r.id),
      );

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(await ids('early')).toEqual([1, 2, 3]);
    expect(await ids('early_days')).toEqual([1, 2, 3]);
    expect(await ids('early_ids')).toEqual([1, 2]);
    expect(run.streams.public_early).toMatchObject({ rows: 3, cursorTo: '2026-01-01T00:00:00.000000Z' });
  });
});

describe('postgres lag on an integer cursor', () => {
  it('keeps syncing with a fractional lagSeconds, re-reading from the integer below the window', async () => {
    // Prepare
    await db.query('CREATE TABLE seqs (id int PRIMARY KEY, updated_at int8 NOT NULL)');
    await db.query('INSERT INTO seqs SELECT g, g FROM generate_series(1, 10) g');
    const lake = await lakeFor({ tables: ['seqs'], lagSeconds: 1.5 });

    // Act
    const first = await lake.sync({ maxStreamAttempts: 1 });
    await db.query('INSERT INTO seqs VALUES (11, 11)');
    const second = await lake.sync({ maxStreamAttempts: 1 });
    const rows = await lake.query(
      'SELECT CAST(id AS INTEGER) AS id, count(*) AS n FROM pg.public_seqs GROUP BY id',
    );

    // Assess: the second read starts at 10 − 1.5 rounded down (8): 8 and 9 land again, 10 is a tie.
    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    expect(second.streams.public_seqs).toMatchObject({ rows: 3, skipped: 1, cursorTo: 11 });
    expect(
      rows
        .filter((r) => Number(r.n) > 1)
        .map((r) => Number(r.id))
        .sort(),
    ).toEqual([8, 9]);
  });
});
