/**
 * The postgres connector against a real PostgreSQL server started for this
 * file (test/support/postgres.ts): conformance, cursor ties across chunks,
 * snapshot isolation, schema changes, type mapping, errors and abort.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresConfig } from '../../../../connectors/postgres/index.js';
import { postgresConnector } from '../../../../connectors/postgres/index.js';
import { describeConformance, readAll } from '../../../../connectors/sdk/conformance.js';
import { ConfigError, TransientError } from '../../../../connectors/sdk/errors.js';
import { silentLogger } from '../../../../connectors/sdk/logger.js';
import {
  isCheckpoint,
  ResumeUnavailableError,
  type SourceRecord,
  type Stream,
} from '../../../../connectors/sdk/types.js';
import { connectTo, type PostgresServer, startPostgres } from '../../../support/postgres.js';
import { readInSlices, readPiece } from '../../../support/resume.js';

let server: PostgresServer;
let db: pg.Client;
let admin: pg.Client;

async function sql(text: string, values?: unknown[]): Promise<pg.QueryResult> {
  return db.query(text, values);
}

function config(overrides: Partial<PostgresConfig> = {}): PostgresConfig {
  return {
    host: server.host,
    port: server.port,
    database: server.database,
    user: server.user,
    password: server.password,
    ssl: { mode: 'disable' },
    ...overrides,
  };
}

async function streamOf(overrides: Partial<PostgresConfig>, name: string): Promise<Stream> {
  const streams = await postgresConnector.streams(config(overrides));
  const stream = streams.find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name} in ${streams.map((s) => s.name).join(', ')}`);
  return stream;
}

/** Reads page by page, calling `between` after each page. */
async function readPages(
  stream: Stream,
  since: string | number | undefined,
  between?: (page: number) => Promise<void>,
): Promise<SourceRecord[][]> {
  const pages: SourceRecord[][] = [];
  const controller = new AbortController();
  const ctx = { since, committedCursor: since, signal: controller.signal, logger: silentLogger };
  for await (const item of stream.read(ctx)) {
    if (isCheckpoint(item)) continue;
    pages.push(Array.isArray(item) ? [...item] : [item as SourceRecord]);
    if (between) await between(pages.length);
  }
  return pages;
}

function maxOf(values: readonly string[]): string {
  return [...values].sort().at(-1)!;
}

/** The error a promise rejects with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  server = await startPostgres({ tls: true });
  db = await connectTo(server);
  admin = await connectTo(server, 'admin');

  // The conformance kit's source: two keyed tables, a keyless log and a table without a cursor.
  await sql(`
    CREATE SCHEMA shop;
    CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL, updated_at timestamp NOT NULL);
    CREATE TABLE shop.orders (
      id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(12, 2) NOT NULL,
      updated_at timestamptz NOT NULL);
    CREATE TABLE shop.audit_log (updated_at bigint NOT NULL, message text);
    CREATE TABLE shop.countries (code char(2) PRIMARY KEY, name text NOT NULL);
    INSERT INTO shop.customers
      SELECT g, 'customer ' || g, timestamp '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 50) g;
    INSERT INTO shop.orders
      SELECT g, 1 + g % 50, g * 1.25, timestamptz '2026-01-01 00:00:00+00' + (g / 2) * interval '1 second'
      FROM generate_series(1, 300) g;
    INSERT INTO shop.audit_log SELECT g / 3, 'event ' || g FROM generate_series(1, 120) g;
    INSERT INTO shop.countries VALUES ('DE', 'Germany'), ('FR', 'France'), ('JP', 'Japan');
  `);
}, 120_000);

afterAll(async () => {
  await db?.end().catch(() => undefined);
  await admin?.end().catch(() => undefined);
  await server?.stop();
});

let mutation = 0;
describeConformance('postgres', {
  connector: postgresConnector,
  config: () => config({ schemas: ['shop'], chunkSize: 40 }),
  expectedStreams: ['shop_audit_log', 'shop_countries', 'shop_customers', 'shop_orders'],
  minRecords: 3,
  mutate: async () => {
    mutation += 1;
    await sql(
      `UPDATE shop.customers SET name = name || '!', updated_at = timestamp '2027-01-01' + $1 * interval '1 hour' WHERE id <= 3;
       INSERT INTO shop.customers VALUES (1000 + $1, 'new', timestamp '2027-01-01' + $1 * interval '1 hour');
       UPDATE shop.orders SET amount = amount + 1, updated_at = timestamptz '2027-01-01 00:00:00+00' + $1 * interval '1 hour' WHERE id = 7;
       INSERT INTO shop.audit_log VALUES (100000 + $1, 'later');`.replaceAll('$1', String(mutation)),
    );
  },
});

describe('postgres connector: discovery', () => {
  it('declares one stream per table, named <schema>_<table>, with key, cursor, disposition and columns', async () => {
    // Act
    const streams = await postgresConnector.streams(config({ schemas: ['shop'] }));

    // Assess
    const byName = Object.fromEntries(streams.map((s) => [s.name, s]));
    expect(byName.shop_orders).toMatchObject({
      primaryKey: ['id'],
      writeDisposition: 'merge',
      incremental: { cursorField: 'updated_at', initialValue: '0001-01-01T00:00:00.000000Z' },
      columns: { id: 'bigint', customer_id: 'int', amount: 'decimal(12,2)', updated_at: 'timestamp' },
    });
    expect(byName.shop_audit_log).toMatchObject({
      primaryKey: [],
      writeDisposition: 'append',
      incremental: { cursorField: 'updated_at', initialValue: Number.MIN_SAFE_INTEGER },
    });
    expect(byName.shop_countries).toMatchObject({ primaryKey: ['code'], writeDisposition: 'replace' });
    expect(byName.shop_countries?.incremental).toBeUndefined();
  });

  it('selects listed tables, honours cursor overrides and passes the lag on', async () => {
    // Act
    const streams = await postgresConnector.streams(
      config({
        tables: ['shop.orders', 'SHOP.Customers', 'shop."countries"'],
        cursorColumns: { 'shop.orders': 'id', 'shop.customers': '' },
        lagSeconds: 30,
      }),
    );

    // Assess
    expect(streams.map((s) => s.name)).toEqual(['shop_countries', 'shop_customers', 'shop_orders']);
    const [, customers, orders] = streams;
    expect(customers?.incremental).toBeUndefined();
    expect(customers?.writeDisposition).toBe('replace');
    expect(orders?.incremental).toEqual({
      cursorField: 'id',
      initialValue: Number.MIN_SAFE_INTEGER,
      lag: 30,
      cursorType: 'number',
    });
  });

  it('rejects a cursor override naming a missing column, a non-cursor type or an unselected table', async () => {
    // Act
    const errorOf = (overrides: Partial<PostgresConfig>) =>
      failure((async () => postgresConnector.streams(config(overrides)))());
    const missing = await errorOf({ schemas: ['shop'], cursorColumns: { 'shop.orders': 'nope' } });
    const wrongType = await errorOf({ schemas: ['shop'], cursorColumns: { 'shop.orders': 'amount' } });
    const unselected = await errorOf({ tables: ['shop.orders'], cursorColumns: { 'shop.customers': 'id' } });

    // Assess
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toBe(
      'cursor column "nope" does not exist in table "shop.orders"; columns: id, customer_id, amount, updated_at',
    );
    expect(wrongType.message).toMatch(
      /cursor column "amount" of table "shop.orders" is numeric\(12,2\); pick a/,
    );
    expect(unselected.message).toMatch(/cursorColumns names "shop.customers", which is not a selected table/);
  });

  it('discovers a column added between runs on the next streams() call', async () => {
    // Prepare
    await sql(`CREATE TABLE grows (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT '2026-01-01');
               INSERT INTO grows (id) SELECT generate_series(1, 10);`);
    const before = await streamOf({ tables: ['grows'] }, 'public_grows');

    // Act
    await sql(`ALTER TABLE grows ADD COLUMN note text DEFAULT 'hello';
               INSERT INTO grows (id, updated_at) VALUES (11, '2026-02-01');`);
    const oldRead = await readAll(before, '2026-01-15T00:00:00Z');
    const after = await streamOf({ tables: ['grows'] }, 'public_grows');
    const newRead = await readAll(after, '2026-01-15T00:00:00Z');

    // Assess
    expect(Object.keys(before.columns ?? {})).toEqual(['id', 'updated_at']);
    expect(oldRead).toEqual([{ id: 11, updated_at: '2026-02-01T00:00:00.000000Z' }]);
    expect(after.columns).toEqual({ id: 'int', updated_at: 'timestamp', note: 'string' });
    expect(newRead).toEqual([{ id: 11, updated_at: '2026-02-01T00:00:00.000000Z', note: 'hello' }]);
  });
});

describe('postgres connector: reads', () => {
  it('reads 5,000+ rows that share one cursor value in small chunks without skipping or repeating one', async () => {
    // Prepare
    await sql(`CREATE TABLE ties (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
               INSERT INTO ties SELECT g, '2026-03-01 12:00:00.123456+00' FROM generate_series(1, 5200) g;
               INSERT INTO ties SELECT g, '2026-03-01 11:00:00+00' FROM generate_series(5201, 5300) g;
               INSERT INTO ties SELECT g, '2026-03-01 13:00:00+00' FROM generate_series(5301, 5350) g;`);
    const stream = await streamOf({ tables: ['ties'], chunkSize: 97 }, 'public_ties');

    // Act
    const pages = await readPages(stream, stream.incremental!.initialValue);
    const fromTie = (await readPages(stream, '2026-03-01T12:00:00.123456Z')).flat();
    await sql(`INSERT INTO ties VALUES (0, '2026-03-01 12:00:00.123456+00')`);
    const nextRun = (await readPages(stream, '2026-03-01T12:00:00.123456Z')).flat();

    // Assess
    const records = pages.flat();
    const ids = records.map((r) => r.id as number);
    expect(pages.length).toBe(Math.ceil(5350 / 97));
    expect(pages.every((page) => page.length <= 97)).toBe(true);
    expect(ids).toHaveLength(5350);
    expect(new Set(ids).size).toBe(5350);
    // Ordered by (cursor, id): the earlier hour first, then the 5,200 ties by id.
    expect(ids.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => 5201 + i));
    expect(ids.slice(100, 5300)).toEqual(Array.from({ length: 5200 }, (_, i) => 1 + i));
    expect(fromTie).toHaveLength(5250);
    expect(new Set(fromTie.map((r) => r.id)).size).toBe(5250);
    expect(fromTie[0]).toEqual({ id: 1, updated_at: '2026-03-01T12:00:00.123456Z' });
    expect(nextRun).toHaveLength(5251);
    expect(nextRun[0]).toEqual({ id: 0, updated_at: '2026-03-01T12:00:00.123456Z' });
  });

  it('reads a whole stream in one snapshot: a row updated during the sync shows up on the next run', async () => {
    // Prepare
    await sql(`CREATE TABLE snap (id int PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL);
               INSERT INTO snap SELECT g, 'v' || g, '2026-01-01'::timestamptz + g * interval '1 second'
               FROM generate_series(1, 1000) g;`);
    const stream = await streamOf({ tables: ['snap'], chunkSize: 100 }, 'public_snap');

    // Act
    const pages = await readPages(stream, stream.incremental!.initialValue, async (page) => {
      if (page !== 1) return;
      await sql(`UPDATE snap SET v = 'changed', updated_at = '2026-06-01' WHERE id = 900;
                 DELETE FROM snap WHERE id = 950;
                 INSERT INTO snap VALUES (1001, 'new', '2026-06-02');`);
    });
    const first = pages.flat();
    const committed = maxOf(first.map((r) => r.updated_at as string));
    const second = await readAll(stream, committed);

    // Assess
    expect(first).toHaveLength(1000);
    expect(first.find((r) => r.id === 900)).toMatchObject({ v: 'v900' });
    expect(first.find((r) => r.id === 950)).toMatchObject({ v: 'v950' });
    expect(first.some((r) => r.id === 1001)).toBe(false);
    expect(second.map((r) => [r.id, r.v])).toEqual([
      [1000, 'v1000'],
      [900, 'changed'],
      [1001, 'new'],
    ]);
  });

  it('reads a table in full in primary-key chunks (composite and missing keys included)', async () => {
    // Prepare
    await sql(`CREATE TABLE wide (region char(4), n int, payload text, PRIMARY KEY (region, n));
               INSERT INTO wide SELECT r, g, md5(r || g) FROM unnest(ARRAY['eu', 'us', 'apac']) r, generate_series(1, 411) g;
               CREATE TABLE keyless (v int);
               INSERT INTO keyless SELECT g % 7 FROM generate_series(1, 500) g;`);
    const wide = await streamOf({ tables: ['wide'], chunkSize: 100 }, 'public_wide');
    const keyless = await streamOf({ tables: ['keyless'], chunkSize: 64 }, 'public_keyless');

    // Act
    const widePages = await readPages(wide, undefined);
    const keylessPages = await readPages(keyless, undefined);

    // Assess
    const keys = widePages.flat().map((r) => `${r.region}/${r.n}`);
    const sorted = ['apac', 'eu  ', 'us  '].flatMap((r) =>
      Array.from({ length: 411 }, (_, i) => `${r}/${i + 1}`),
    );
    expect(wide.writeDisposition).toBe('replace');
    expect(widePages).toHaveLength(Math.ceil(1233 / 100));
    expect(keys).toEqual(sorted);
    expect(keyless.primaryKey).toEqual([]);
    expect(keylessPages).toHaveLength(Math.ceil(500 / 64));
    expect(
      keylessPages
        .flat()
        .map((r) => r.v as number)
        .reduce((a, b) => a + b, 0),
    ).toBe(Array.from({ length: 500 }, (_, i) => (i + 1) % 7).reduce((a, b) => a + b, 0));
  });

  it('reads incrementally on integer and date cursors given by cursorColumns', async () => {
    // Prepare
    await sql(`CREATE TABLE ledger (entry bigint PRIMARY KEY, booked date NOT NULL);
               INSERT INTO ledger SELECT g, date '2026-01-01' + g / 10 FROM generate_series(1, 100) g;`);
    const byEntry = await streamOf(
      { tables: ['ledger'], cursorColumns: { ledger: 'entry' }, chunkSize: 7 },
      'public_ledger',
    );
    const byDate = await streamOf(
      { tables: ['ledger'], cursorColumns: { 'public.ledger': 'booked' }, chunkSize: 7 },
      'public_ledger',
    );

    // Act
    const afterEntry = await readAll(byEntry, 95);
    const fromDay = await readAll(byDate, '2026-01-10');
    const fromInstant = await readAll(byDate, '2026-01-09T12:00:00.000Z');

    // Assess
    expect(afterEntry.map((r) => r.entry)).toEqual([95, 96, 97, 98, 99, 100]);
    expect(fromDay.map((r) => r.entry)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
    expect(fromDay[0]).toEqual({ entry: 90, booked: '2026-01-10' });
    expect(fromInstant).toHaveLength(21);
  });

  it('maps every listed PostgreSQL type to its lake type and value', async () => {
    // Prepare
    await sql(`
      CREATE TYPE mood AS ENUM ('happy', 'sad');
      CREATE DOMAIN positive AS int CHECK (VALUE > 0);
      CREATE TABLE all_types (
        id int PRIMARY KEY, c_smallint smallint, c_integer integer, c_bigint bigint, c_big bigint,
        c_numeric numeric(40, 20), c_real real, c_double double precision, c_boolean boolean,
        c_text text, c_varchar varchar(20), c_char char(5), c_uuid uuid, c_date date,
        c_timestamp timestamp, c_timestamptz timestamptz, c_json json, c_jsonb jsonb,
        c_int_array int[], c_text_array text[], c_bytea bytea, c_interval interval,
        c_domain positive, c_enum mood);
      INSERT INTO all_types VALUES (
        1, -32768, 2147483647, 42, 9223372036854775807,
        '12345678901234567890.12345678901234567890', 1.5, 0.1, true,
        'héllo "world"', 'varying', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2026-02-28',
        '2026-02-28 13:14:15.123456', '2026-02-28 13:14:15.5+02', '{"a": [1, 2.50]}', '{"b": {"c": null}}',
        '{1,2,NULL}', ARRAY['x', 'y "z"', NULL], '\\x00ff10', '1 day 02:03:04', 7, 'sad');
      INSERT INTO all_types (id) VALUES (2);
      INSERT INTO all_types (id, c_date, c_timestamp, c_timestamptz) VALUES (3, 'infinity', '-infinity', 'infinity');`);
    const stream = await streamOf({ tables: ['all_types'] }, 'public_all_types');

    // Act
    const [full, empty, infinite] = await readAll(stream, undefined);

    // Assess
    expect(stream.columns).toEqual({
      id: 'int',
      c_smallint: 'int',
      c_integer: 'int',
      c_bigint: 'bigint',
      c_big: 'bigint',
      c_numeric: 'string',
      c_real: 'double',
      c_double: 'double',
      c_boolean: 'boolean',
      c_text: 'string',
      c_varchar: 'string',
      c_char: 'string',
      c_uuid: 'string',
      c_date: 'date',
      c_timestamp: 'timestamp',
      c_timestamptz: 'timestamp',
      c_json: 'json',
      c_jsonb: 'json',
      c_int_array: 'json',
      c_text_array: 'json',
      c_bytea: 'string',
      c_interval: 'string',
      c_domain: 'int',
      c_enum: 'string',
    });
    expect(full).toEqual({
      id: 1,
      c_smallint: -32768,
      c_integer: 2147483647,
      c_bigint: 42,
      c_big: 9223372036854775807n,
      c_numeric: '12345678901234567890.12345678901234567890',
      c_real: 1.5,
      c_double: 0.1,
      c_boolean: true,
      c_text: 'héllo "world"',
      c_varchar: 'varying',
      c_char: 'ab   ',
      c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      c_date: '2026-02-28',
      c_timestamp: '2026-02-28T13:14:15.123456Z',
      c_timestamptz: '2026-02-28T11:14:15.500000Z',
      c_json: '{"a": [1, 2.50]}',
      c_jsonb: '{"b": {"c": null}}',
      c_int_array: '[1,2,null]',
      c_text_array: '["x","y \\"z\\"",null]',
      c_bytea: Buffer.from([0x00, 0xff, 0x10]).toString('base64'),
      c_interval: '1 day 02:03:04',
      c_domain: 7,
      c_enum: 'sad',
    });
    expect(JSON.parse(full!.c_text_array as string)).toEqual(['x', 'y "z"', null]);
    expect(Object.entries(empty!).filter(([k, v]) => k !== 'id' && v !== null)).toEqual([]);
    expect(infinite).toMatchObject({
      c_date: '9999-12-31',
      c_timestamp: '0001-01-01T00:00:00.000000Z',
      c_timestamptz: '9999-12-31T23:59:59.999999Z',
    });
  });
});

describe('postgres connector: progress totals', () => {
  it("reports a full load's row estimate from the catalog, and none for an incremental read", async () => {
    // Prepare: the estimate exists once the table has been analysed
    await sql(`
      CREATE TABLE estimated (id integer PRIMARY KEY, updated_at timestamptz NOT NULL);
      INSERT INTO estimated SELECT i, now() FROM generate_series(1, 1234) AS i;
      ANALYZE estimated;
    `);
    const full = await streamOf({ tables: ['public.estimated'], cursorColumns: {} }, 'public_estimated');
    const incremental = await streamOf(
      { tables: ['public.estimated'], cursorColumns: { 'public.estimated': 'updated_at' } },
      'public_estimated',
    );
    const totals: number[] = [];
    const readWith = async (stream: Stream, since: string | undefined): Promise<void> => {
      const ctx = {
        since,
        committedCursor: since,
        signal: new AbortController().signal,
        logger: silentLogger,
        reportTotal: (n: number) => totals.push(n),
      };
      for await (const _ of stream.read(ctx)) {
        // drain
      }
    };

    // Act
    await readWith(full, undefined);
    await readWith(incremental, '2000-01-01T00:00:00Z');

    // Assess
    expect(totals).toEqual([1234]);
  });
});

describe('postgres connector: check and errors', () => {
  it('passes check over TLS with verify-full and the server CA', async () => {
    // Act
    const verified = await postgresConnector.check(
      config({ host: 'localhost', tables: ['shop.orders'], ssl: { mode: 'verify-full', ca: server.caCert } }),
    );
    const required = await postgresConnector.check(
      config({ tables: ['shop.orders'], ssl: { mode: 'require' } }),
    );
    const untrusted = await postgresConnector.check(
      config({ host: 'localhost', tables: ['shop.orders'], ssl: { mode: 'verify-full' } }),
    );

    // Assess
    expect(verified).toEqual({ ok: true });
    expect(required).toEqual({ ok: true });
    expect(untrusted).toEqual({
      ok: false,
      message: expect.stringMatching(
        /TLS certificate of localhost:\d+ was not accepted .*put its CA in ssl.ca/,
      ),
    });
  });

  it('explains a bad password without revealing it', async () => {
    // Act
    const result = await postgresConnector.check(config({ password: 'wrong-secret-123' }));
    const error = await failure(
      (async () => postgresConnector.streams(config({ password: 'wrong-secret-123' })))(),
    );

    // Assess
    expect(result).toEqual({
      ok: false,
      message: `password authentication failed for user "sluice" at 127.0.0.1:${server.port}; check the user and password`,
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain('wrong-secret-123');
  });

  it('names a missing table and lists the tables that exist', async () => {
    // Prepare
    await sql(
      'CREATE SCHEMA sales; CREATE TABLE sales.orders (id int); CREATE TABLE sales.customers (id int);',
    );

    // Act
    const missingTable = await postgresConnector.check(config({ tables: ['sales.orders', 'sales.missing'] }));
    const missingSchema = await postgresConnector.check(config({ schemas: ['nope'] }));

    // Assess
    expect(missingTable).toEqual({
      ok: false,
      message: 'table "sales.missing" does not exist; available tables in schema sales: customers, orders',
    });
    expect(missingSchema).toEqual({
      ok: false,
      message: 'schema "nope" does not exist; available schemas: public, sales, shop',
    });
  });

  it('says which GRANT is missing when a table cannot be read', async () => {
    // Prepare
    await admin.query('CREATE TABLE public.secret (id int PRIMARY KEY)');

    // Act
    const result = await postgresConnector.check(config({ tables: ['public.secret'] }));

    // Assess
    expect(result).toEqual({
      ok: false,
      message:
        'permission denied for table secret (reading table "public.secret"); run GRANT SELECT ON public.secret TO sluice or pick another user',
    });
  });

  it('reports an unreachable server as a config error and a missing database by name', async () => {
    // Act
    const refused = await postgresConnector.check(config({ port: 1 }));
    const database = await postgresConnector.check(config({ database: 'nodb' }));

    // Assess
    expect(refused).toEqual({
      ok: false,
      message:
        'cannot connect to PostgreSQL at 127.0.0.1:1 (ECONNREFUSED); check the host, the port and that the server accepts TCP connections from here',
    });
    expect(database).toEqual({
      ok: false,
      message: `database "nodb" does not exist at 127.0.0.1:${server.port}; check the database name`,
    });
  });

  it('reports a host name that does not exist (NXDOMAIN) as a config error', async () => {
    // Act
    const result = await postgresConnector.check(config({ host: 'no-such-db.invalid' }));
    const error = await failure(
      (async () => postgresConnector.streams(config({ host: 'no-such-db.invalid' })))(),
    );

    // Assess
    expect(result).toEqual({
      ok: false,
      message: 'cannot resolve host "no-such-db.invalid"; check the host name',
    });
    expect(error).toBeInstanceOf(ConfigError);
  });

  it('rejects an invalid config naming the field', async () => {
    // Act
    const result = await postgresConnector.check({ ...config(), chunkSize: 0, extra: 1 } as PostgresConfig);

    // Assess
    expect(result).toEqual({
      ok: false,
      message: expect.stringMatching(/"chunkSize" must be at least 1; "extra" is not a known field/),
    });
  });

  it('turns a connection killed mid-read into a TransientError', async () => {
    // Prepare
    await sql(`CREATE TABLE killed (id int PRIMARY KEY);
               INSERT INTO killed SELECT generate_series(1, 300);`);
    const stream = await streamOf({ tables: ['killed'], chunkSize: 50 }, 'public_killed');

    // Act
    const read = readPages(stream, undefined, async (page) => {
      if (page === 1) {
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sluice' AND pid <> pg_backend_pid()",
        );
      }
    });

    // Assess
    const error = await failure(read);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/terminating connection due to administrator command/);
  });
});

describe('postgres connector: abort and timeouts', () => {
  it('cancels a running query when the signal aborts', async () => {
    // Prepare
    await sql('CREATE TABLE locked (id int PRIMARY KEY); INSERT INTO locked VALUES (1);');
    const stream = await streamOf({ tables: ['locked'] }, 'public_locked');
    const locker = await connectTo(server, 'admin');
    await locker.query('BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE');
    const controller = new AbortController();
    const ctx = {
      since: undefined,
      committedCursor: undefined,
      signal: controller.signal,
      logger: silentLogger,
    };

    try {
      // Act
      const started = Date.now();
      const read = (async () => {
        for await (const _ of stream.read(ctx)) throw new Error('read through a lock');
      })();
      await waitFor(async () => (await waitingReads()) > 0);
      controller.abort();
      const error = await failure(read);

      // Assess
      expect(error.name).toBe('AbortError');
      expect(Date.now() - started).toBeLessThan(5000);
      await waitFor(async () => (await waitingReads()) === 0);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });

  it('turns a statement timeout into a TransientError that names the setting', async () => {
    // Prepare
    await sql('CREATE TABLE slow (id int PRIMARY KEY); INSERT INTO slow VALUES (1);');
    const stream = await streamOf({ tables: ['slow'], statementTimeoutSeconds: 1 }, 'public_slow');
    const locker = await connectTo(server, 'admin');
    await locker.query('BEGIN; LOCK TABLE slow IN ACCESS EXCLUSIVE MODE');

    try {
      // Act
      const read = readAll(stream, undefined);

      // Assess
      await expect(read).rejects.toBeInstanceOf(TransientError);
      await expect(read).rejects.toThrow(/longer than statementTimeoutSeconds \(1s\)/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });
});

async function waitingReads(): Promise<number> {
  const result = await admin.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sluice' AND wait_event_type = 'Lock'",
  );
  return result.rows[0].n as number;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('postgres connector: reading in slices (resumeFrom)', () => {
  beforeAll(async () => {
    await sql(`
      CREATE SCHEMA resume;
      CREATE TABLE resume.events (id int PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL);
      INSERT INTO resume.events
        SELECT g, 'v' || g, '2026-01-01'::timestamptz + (g / 7) * interval '1 second' FROM generate_series(1, 250) g;
      CREATE TABLE resume.items (region text, n int, v text NOT NULL, PRIMARY KEY (region, n));
      INSERT INTO resume.items SELECT r, g, 'v' || g FROM unnest(ARRAY['eu', 'us']) r, generate_series(1, 120) g;
      CREATE TABLE resume.log (seq bigint NOT NULL, message text);
      INSERT INTO resume.log SELECT g / 5, 'm' || g FROM generate_series(1, 200) g;
      CREATE TABLE resume.blob (v int);
      INSERT INTO resume.blob SELECT g FROM generate_series(1, 200) g;
    `);
  });

  const resumeConfig = { schemas: ['resume'], chunkSize: 30, cursorColumns: { 'resume.log': 'seq' } };

  it('reads every table in pieces of 1 and 3 chunks exactly as one uninterrupted read', async () => {
    for (const name of ['resume_events', 'resume_items', 'resume_log', 'resume_blob']) {
      // Prepare
      const stream = await streamOf(resumeConfig, name);
      const whole = await readAll(stream, stream.incremental?.initialValue);

      // Act
      const byOne = await readInSlices(stream, 1);
      const byThree = await readInSlices(stream, 3);

      // Assess
      expect(whole.length, name).toBeGreaterThanOrEqual(200);
      expect(byOne.records, name).toEqual(whole);
      expect(byThree.records, name).toEqual(whole);
      expect(byOne.slices, name).toBeGreaterThanOrEqual(7);
    }
  });

  it('declares cursor-ascending for incremental tables and yields ascending (cursor, key) positions', async () => {
    const events = await streamOf(resumeConfig, 'resume_events');
    const blob = await streamOf(resumeConfig, 'resume_blob');

    const piece = await readPiece(events, { stopAtCheckpoint: 2 });

    expect(events.order).toBe('cursor-ascending');
    expect(blob.order).toBe('unordered');
    expect(piece.positions).toEqual([
      { key: ['updated_at', 'id'], after: ['2026-01-01 00:00:04+00', '30'] },
      { key: ['updated_at', 'id'], after: ['2026-01-01 00:00:08+00', '60'] },
    ]);
  });

  it('continues a full load by primary key in a new snapshot: rows behind the position keep the version read', async () => {
    // Prepare: a full-load table, read up to its 2nd chunk (60 of 240 rows, keys eu/1 … eu/60).
    await sql(
      'CREATE TABLE resume.full_load AS SELECT * FROM resume.items; ALTER TABLE resume.full_load ADD PRIMARY KEY (region, n);',
    );
    const stream = await streamOf({ tables: ['resume.full_load'], chunkSize: 30 }, 'resume_full_load');
    const first = await readPiece(stream, { stopAtCheckpoint: 2 });

    // Act: change the table between the slices, behind and ahead of the position.
    await sql(`UPDATE resume.full_load SET v = 'changed' WHERE region = 'eu' AND n IN (10, 100);
               INSERT INTO resume.full_load VALUES ('ap', 1, 'behind'), ('zz', 1, 'ahead');
               DELETE FROM resume.full_load WHERE region = 'us' AND n = 5;`);
    const rest = await readPiece(stream, { resumeFrom: first.stoppedAt! });
    const landed = [...first.records, ...rest.records];
    const byKey = new Map(landed.map((r) => [`${r.region}/${r.n}`, r.v]));

    // Assess
    expect(first.stoppedAt).toEqual({ key: ['region', 'n'], after: ['eu', '60'] });
    expect(landed).toHaveLength(byKey.size); // no key twice
    expect(byKey.get('eu/10')).toBe('v10'); // updated behind the position: the version read before
    expect(byKey.get('eu/100')).toBe('changed'); // updated ahead: the new version
    expect(byKey.has('ap/1')).toBe(false); // inserted behind: not in this run
    expect(byKey.get('zz/1')).toBe('ahead'); // inserted ahead: read
    expect(byKey.has('us/5')).toBe(false); // deleted ahead: gone
    expect(landed).toHaveLength(240 - 1 + 1);
  });

  it('continues an incremental read after the position: a row moved past it is read again with its new cursor', async () => {
    // Prepare
    await sql(`CREATE TABLE resume.orders (id int PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL);
               INSERT INTO resume.orders SELECT g, 'v' || g, '2026-01-01'::timestamptz + g * interval '1 second'
               FROM generate_series(1, 100) g;`);
    const stream = await streamOf({ tables: ['resume.orders'], chunkSize: 20 }, 'resume_orders');
    const first = await readPiece(stream, { stopAtCheckpoint: 1 });

    // Act
    await sql(`UPDATE resume.orders SET v = 'changed', updated_at = '2026-06-01' WHERE id = 5;`);
    const rest = await readPiece(stream, { resumeFrom: first.stoppedAt! });

    // Assess
    expect(first.records.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(rest.records.map((r) => r.id)).toEqual([...Array.from({ length: 80 }, (_, i) => i + 21), 5]);
    expect(rest.records.at(-1)).toMatchObject({ id: 5, v: 'changed' });
  });

  it('throws ResumeUnavailableError for a keyless table rewritten between slices (VACUUM FULL)', async () => {
    // Prepare
    const stream = await streamOf(resumeConfig, 'resume_blob');
    const first = await readPiece(stream, { stopAtCheckpoint: 2 });

    // Act
    await sql('VACUUM FULL resume.blob');
    const error = await failure(readPiece(stream, { resumeFrom: first.stoppedAt! }));

    // Assess
    expect(first.stoppedAt).toMatchObject({ key: ['tableoid', 'ctid'], filenode: expect.any(String) });
    expect(error).toBeInstanceOf(ResumeUnavailableError);
    expect(error.message).toContain('stream "resume_blob" cannot resume from {"key":["tableoid","ctid"]');
    expect(error.message).toContain('was rewritten since');
  });

  it('throws ResumeUnavailableError when one partition of a keyless partitioned table was rewritten', async () => {
    // Prepare
    await sql(`CREATE TABLE resume.parts (day int NOT NULL, v int) PARTITION BY RANGE (day);
               CREATE TABLE resume.parts_a PARTITION OF resume.parts FOR VALUES FROM (0) TO (10);
               CREATE TABLE resume.parts_b PARTITION OF resume.parts FOR VALUES FROM (10) TO (20);
               INSERT INTO resume.parts SELECT g % 20, g FROM generate_series(1, 200) g;`);
    const stream = await streamOf({ tables: ['resume.parts'], chunkSize: 30 }, 'resume_parts');
    const whole = await readAll(stream, undefined);
    const first = await readPiece(stream, { stopAtCheckpoint: 1 });
    const unchanged = await readPiece(stream, { resumeFrom: first.stoppedAt! });

    // Act
    await sql('VACUUM FULL resume.parts_b');
    const error = await failure(readPiece(stream, { resumeFrom: first.stoppedAt! }));

    // Assess
    expect([...first.records, ...unchanged.records]).toEqual(whole);
    expect(whole).toHaveLength(200);
    expect(error).toBeInstanceOf(ResumeUnavailableError);
  });

  it('throws ResumeUnavailableError when the cursor column changed since the position was taken', async () => {
    // Prepare
    const byTime = await streamOf(resumeConfig, 'resume_events');
    const first = await readPiece(byTime, { stopAtCheckpoint: 1 });
    const byId = await streamOf(
      { ...resumeConfig, cursorColumns: { 'resume.events': 'id' } },
      'resume_events',
    );

    // Act
    const error = await failure(readPiece(byId, { resumeFrom: first.stoppedAt! }));

    // Assess
    expect(error).toBeInstanceOf(ResumeUnavailableError);
    expect(error.message).toContain('the table is now read by (id)');
  });
});
