import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalBackend, openLocalBackend } from '../../../../adapters/local/index.js';
import { formatTable } from '../../../../adapters/local/query-engine.js';
import type { Column, QueryEngine, TableDefinition } from '../../../../engine/ports.js';

function table(stream: string, versions: readonly (readonly Column[])[]): TableDefinition {
  return {
    source: 'shop',
    stream,
    location: `raw/shop/${stream}/`,
    primaryKey: ['id'],
    writeDisposition: 'append',
    schemaVersions: versions.map((columns, index) => ({
      version: index + 1,
      columns,
      changes: [],
      runId: `r${index + 1}`,
      createdAt: '2026-01-01T00:00:00.000Z',
    })),
  };
}

const ORDERS_V1: readonly Column[] = [
  { name: 'id', type: 'int' },
  { name: 'amount', type: 'int' },
  { name: 'created_at', type: 'timestamp' },
];
const ORDERS_V2: readonly Column[] = [
  { name: 'id', type: 'int' },
  { name: 'amount', type: 'bigint' }, // widened from int (Athena reads INT32 files as BIGINT)
  { name: 'created_at', type: 'timestamp' },
  { name: 'note', type: 'string' }, // added
  { name: 'big', type: 'bigint' }, // added
  { name: 'flag', type: 'boolean' }, // in the schema, in no file yet
];

describe('DuckDbQueryEngine', () => {
  let writer: DuckDBInstance;
  let connection: DuckDBConnection;
  let backend: LocalBackend;
  let engine: QueryEngine;

  /** Writes a Parquet object into the lake with DuckDB's own writer. */
  const writeParquet = async (key: string, select: string): Promise<void> => {
    const path = backend.objects.uri(key);
    await mkdir(dirname(path), { recursive: true });
    await connection.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  };

  beforeAll(async () => {
    writer = await DuckDBInstance.create(':memory:');
    connection = await writer.connect();
  });

  afterAll(() => {
    connection.closeSync();
    writer.closeSync();
  });

  beforeEach(async () => {
    backend = await openLocalBackend(await mkdtemp(join(tmpdir(), 'sluice-query-')));
    engine = await backend.openQueryEngine();
  });

  afterEach(async () => {
    await engine.close();
    await rm(backend.home, { recursive: true, force: true });
  });

  it('reads files written under older schema versions through the latest schema', async () => {
    // Prepare
    await backend.catalog.putTable(table('orders', [ORDERS_V1, ORDERS_V2]));
    await writeParquet(
      'raw/shop/orders/dt=2026-01-01/r1-00000.parquet',
      `SELECT 1::INTEGER AS id, 10::INTEGER AS amount, TIMESTAMPTZ '2026-01-01 10:00:00+00' AS created_at`,
    );
    await writeParquet(
      'raw/shop/orders/dt=2026-01-02/r2-00000.parquet',
      `SELECT 2::INTEGER AS id, 3000000000::BIGINT AS amount, TIMESTAMPTZ '2026-01-02 08:30:00.250+00' AS created_at,
              'late' AS note, 9007199254740993::BIGINT AS big`,
    );

    // Act
    const result = await engine.query('SELECT * FROM shop.orders ORDER BY id');
    const types = await engine.query(
      'SELECT typeof(amount) AS amount, typeof(created_at) AS ts FROM shop.orders LIMIT 1',
    );

    // Assess
    expect(result.columns).toEqual(['id', 'amount', 'created_at', 'note', 'big', 'flag', 'dt']);
    expect(result.rows).toEqual([
      {
        id: 1,
        amount: 10,
        created_at: '2026-01-01T10:00:00.000Z',
        note: null,
        big: null,
        flag: null,
        dt: '2026-01-01',
      },
      {
        id: 2,
        amount: 3000000000,
        created_at: '2026-01-02T08:30:00.250Z',
        note: 'late',
        big: '9007199254740993', // beyond Number.MAX_SAFE_INTEGER: kept exact as a string
        flag: null,
        dt: '2026-01-02',
      },
    ]);
    expect(types.rows).toEqual([{ amount: 'BIGINT', ts: 'TIMESTAMP WITH TIME ZONE' }]);
    expect(() => JSON.stringify(result)).not.toThrow();
  });

  it('shows everything under the table location and nothing under _staging or in temp files', async () => {
    // Prepare
    await backend.catalog.putTable(table('orders', [ORDERS_V1]));
    await writeParquet(
      'raw/shop/orders/dt=2026-01-01/r1-00000.parquet',
      'SELECT 1::INTEGER AS id, 1 AS amount',
    );
    // Uncommitted: staged by a run that has not committed (or crashed).
    await writeParquet('_staging/shop/r2/orders/00000.parquet', 'SELECT 2::INTEGER AS id, 2 AS amount');
    // A put killed before its rename.
    await writeFile(
      join(backend.objects.root, 'raw/shop/orders/dt=2026-01-01/.r3-00000.parquet.4242.abcdef.tmp'),
      'PAR1 half a file',
    );
    // Not recorded in the catalog, but under the location: visible, as in Athena.
    await writeParquet(
      'raw/shop/orders/dt=2026-01-03/r9-00000.parquet',
      'SELECT 9::INTEGER AS id, 9 AS amount',
    );

    // Act
    const result = await engine.query('SELECT id FROM shop.orders ORDER BY id');

    // Assess
    expect(result.rows).toEqual([{ id: 1 }, { id: 9 }]);
  });

  it('gives a table with no files yet an empty view with the right columns', async () => {
    // Prepare
    await backend.catalog.putTable(
      table('customers', [
        [
          { name: 'id', type: 'bigint' },
          { name: 'seen', type: 'date' },
        ],
      ]),
    );

    // Act
    const rows = await engine.query('SELECT * FROM shop.customers');
    const described = await engine.query('DESCRIBE shop.customers');

    // Assess
    expect(rows).toEqual({ columns: ['id', 'seen', 'dt'], rows: [] });
    expect(described.rows.map((row) => [row.column_name, row.column_type])).toEqual([
      ['id', 'BIGINT'],
      ['seen', 'DATE'],
      ['dt', 'VARCHAR'],
    ]);
  });

  it('exposes each table under its Glue name too, so Athena SQL runs unchanged', async () => {
    // Prepare
    await backend.catalog.putTable(table('customers', [[{ name: 'id', type: 'bigint' }]]));
    await writeParquet('raw/shop/customers/dt=2026-01-01/a.parquet', 'SELECT 7::BIGINT AS id');

    // Act
    const rows = await engine.query('SELECT id FROM shop__customers');

    // Assess
    expect(rows.rows).toEqual([{ id: 7 }]);
  });

  it('sees files and tables that appear, and drops tables that disappear, between queries', async () => {
    // Prepare
    await backend.catalog.putTable(table('orders', [ORDERS_V1]));
    const before = await engine.query('SELECT count(*) AS n FROM shop.orders');

    // Act
    await writeParquet(
      'raw/shop/orders/dt=2026-01-01/r1-00000.parquet',
      'SELECT 1::INTEGER AS id, 1 AS amount',
    );
    const after = await engine.query('SELECT count(*) AS n FROM shop.orders');
    await backend.catalog.deleteTable('shop', 'orders');
    const dropped = engine.query('SELECT count(*) AS n FROM shop.orders');

    // Assess
    expect(before.rows).toEqual([{ n: 0 }]);
    expect(after.rows).toEqual([{ n: 1 }]);
    await expect(dropped).rejects.toThrow(/orders/);
  });

  it("surfaces DuckDB's message when a query fails", async () => {
    // Act
    const query = engine.query('SELECT * FROM shop.nope');

    // Assess
    await expect(query).rejects.toBeInstanceOf(Error);
    await expect(query).rejects.toThrow(/^Catalog Error: Table with name "shop\.nope" does not exist/);
  });

  it('returns JSON-friendly values', async () => {
    // Act
    const result = await engine.query(`
      SELECT 42::BIGINT AS small, 12345678901234567890::HUGEINT AS huge, DATE '2026-01-31' AS day,
             TIMESTAMP '2026-01-31 23:59:59.5' AS naive, 'infinity'::TIMESTAMPTZ AS forever,
             [1, 2]::BIGINT[] AS list, {'k': 3::BIGINT} AS struct, 1.25::DECIMAL(5, 2) AS dec, NULL AS nothing`);

    // Assess
    expect(result.rows).toEqual([
      {
        small: 42,
        huge: '12345678901234567890',
        day: '2026-01-31',
        naive: '2026-01-31T23:59:59.500Z',
        forever: 'infinity',
        list: [1, 2],
        struct: { k: 3 },
        dec: 1.25,
        nothing: null,
      },
    ]);
  });

  it('never rounds a wide decimal or a timestamp below the millisecond', async () => {
    // Act
    const result = await engine.query(`
      SELECT 12345678901234567.8912345678::DECIMAL(38, 10) AS wide, 0.1000000001::DECIMAL(38, 10) AS small,
             123456789012.345::DECIMAL(15, 3) AS fits, sum(x)::DECIMAL(38, 2) AS total,
             TIMESTAMPTZ '2026-01-01 10:00:00.000001+00' AS micro, TIMESTAMP '1969-12-31 23:59:59.999999' AS before,
             TIMESTAMP_NS '2026-01-01 10:00:00.123456789' AS nano, TIMESTAMP '2026-01-01 10:00:00' AS whole
      FROM (VALUES (1.25::DECIMAL(5, 2))) AS t(x)`);

    // Assess: the exact text beyond 15 digits, a number up to 15; microseconds only where present
    expect(result.rows).toEqual([
      {
        wide: '12345678901234567.8912345678',
        small: '0.1000000001',
        fits: 123456789012.345,
        total: '1.25',
        micro: '2026-01-01T10:00:00.000001Z',
        before: '1969-12-31T23:59:59.999999Z',
        nano: '2026-01-01T10:00:00.123456789Z',
        whole: '2026-01-01T10:00:00.000Z',
      },
    ]);
  });

  it('runs several statements and returns the last result', async () => {
    // Act
    const result = await engine.query(
      'CREATE TABLE scratch AS SELECT 7 AS x; SELECT x + 1 AS y FROM scratch',
    );

    // Assess
    expect(result).toEqual({ columns: ['y'], rows: [{ y: 8 }] });
  });

  it('rejects queries once closed, and closes only once', async () => {
    // Act
    await engine.close();
    await engine.close();

    // Assess
    await expect(engine.query('SELECT 1')).rejects.toThrow('the query engine is closed');
    expect(await readdir(backend.home)).toEqual(expect.arrayContaining(['lake', 'state', 'catalog']));
  });
});

describe('formatTable', () => {
  it('aligns columns like psql, numbers to the right, with NULL and a row count', () => {
    // Prepare
    const result = {
      columns: ['id', 'name', 'amount'],
      rows: [
        { id: 1, name: 'alice', amount: 10.5 },
        { id: 20, name: null, amount: 3 },
        { id: 300, name: 'line\nbreak', amount: null },
      ],
    };

    // Act
    const text = formatTable(result);

    // Assess
    expect(text).toBe(
      [
        ' id  |    name     | amount',
        '-----+-------------+--------',
        '   1 | alice       |   10.5',
        '  20 | NULL        |      3',
        ' 300 | line\\nbreak |   NULL',
        '(3 rows)',
      ].join('\n'),
    );
  });

  it('renders an empty result with its header and a singular count for one row', () => {
    // Act
    const empty = formatTable({ columns: ['a'], rows: [] });
    const one = formatTable({ columns: ['payload'], rows: [{ payload: { k: [1, 2] } }] });

    // Assess
    expect(empty).toBe([' a', '---', '(0 rows)'].join('\n'));
    expect(one).toBe(['   payload', '-------------', ' {"k":[1,2]}', '(1 row)'].join('\n'));
  });
});
