/** Pure parts of the postgres connector: names, type mapping and the chunk queries. No server. */
// @ts-nocheck

import { describe, expect, it } from 'vitest';
import type { TablePlan } from '../../../../connectors/postgres/catalog.js';
import { parseTableName, streamName } from '../../../../connectors/postgres/catalog.js';
import {
  mapType,
  toBase64,
  toInt8,
  toIsoDate,
  toIsoTimestamp,
} from '../../../../connectors/postgres/mapping.js';
import { readPlan } from '../../../../connectors/postgres/read.js';

function column(name: string, typname: string, castType = typname) {
  const type = { typname, category: 'N', typtype: 'b' };
  return { name, castType, type, mapping: mapType(type) };
}

describe('postgres stream names', () => {
  it.each([
    ['public', 'orders', 'public_orders'],
    ['Sales', 'Order Items', 'sales_order_items'],
    ['app', 'userEvents', 'app_user_events'],
    ['app', 'HTTPLog', 'app_http_log'],
    ['2024', 'x', 't_2024_x'],
    ['public', 'naïve-table', 'public_naive_table'],
  ])('names %s.%s %s', (schema, table, expected) => {
    expect(streamName(schema, table)).toBe(expected);
  });
});

describe('postgres table names in config', () => {
  it('parses schema-qualified, bare and quoted names', () => {
    expect(parseTableName('public.orders')).toEqual({
      schema: 'public',
      table: 'orders',
      schemaQuoted: false,
      tableQuoted: false,
    });
    expect(parseTableName('orders')).toMatchObject({ schema: 'public', table: 'orders' });
    expect(parseTableName('"My.Schema"."Order ""Items"""')).toEqual({
      schema: 'My.Schema',
      table: 'Order "Items"',
      schemaQuoted: true,
      tableQuoted: true,
    });
  });

  it('rejects names that are not schema.table', () => {
    expect(() => parseTableName('a.b.c')).toThrow(/is not "schema.table"/);
    expect(() => parseTableName('a.')).toThrow(/is not "schema.table"/);
    expect(() => parseTableName('"open')).toThrow(/unclosed quote/);
  });
});

describe('postgres value conversion', () => {
  it('turns timestamps into ISO UTC strings with six fraction digits', () => {
    expect(toIsoTimestamp('2026-01-02 03:04:05')).toBe('2026-01-02T03:04:05.000000Z');
    expect(toIsoTimestamp('2026-01-02 03:04:05.12+00')).toBe('2026-01-02T03:04:05.120000Z');
    expect(toIsoTimestamp('2026-01-02 03:04:05.123456+00:00')).toBe('2026-01-02T03:04:05.123456Z');
    expect(toIsoTimestamp('2026-01-02 03:04:05.123456+00')).toBe('2026-01-02T03:04:05.123456Z');
    expect(toIsoTimestamp('2026-01-02 03:04:05.1')).toBe('2026-01-02T03:04:05.100000Z');
    expect(toIsoTimestamp('2026-01-02 03:04:05+00')).toBe('2026-01-02T03:04:05.000000Z');
  });

  it('leaves text that is not a PostgreSQL timestamp as it is', () => {
    expect(toIsoTimestamp('2026-01-02 03:04:05.+00')).toBe('2026-01-02 03:04:05.+00');
    expect(toIsoTimestamp('2026-01-02 03:04:05.1234567')).toBe('2026-01-02 03:04:05.1234567');
    expect(toIsoTimestamp('2026-01-02 03:04:0x+00')).toBe('2026-01-02 03:04:0x+00');
    expect(toIsoTimestamp('2026-01-02T03:04:05')).toBe('2026-01-02T03:04:05');
  });

  it('clamps infinities, BC and five-digit years into the ISO range, keeping their order', () => {
    expect(toIsoTimestamp('infinity')).toBe('9999-12-31T23:59:59.999999Z');
    expect(toIsoTimestamp('-infinity')).toBe('0001-01-01T00:00:00.000000Z');
    expect(toIsoTimestamp('0044-03-15 12:00:00 BC')).toBe('0001-01-01T00:00:00.000000Z');
    expect(toIsoTimestamp('12026-01-01 00:00:00+00')).toBe('9999-12-31T23:59:59.999999Z');
    expect(toIsoDate('infinity')).toBe('9999-12-31');
    expect(toIsoDate('0044-03-15 BC')).toBe('0001-01-01');
    expect(toIsoDate('2026-02-28')).toBe('2026-02-28');
  });

  it('keeps int8 exact and bytea as base64', () => {
    expect(toInt8('42')).toBe(42);
    expect(toInt8('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(toBase64('\\x48690a')).toBe('SGkK');
  });

  it('maps arrays and composite types to json and unknown types to string', () => {
    expect(mapType({ typname: '_int4', category: 'A', typtype: 'b' }).columnType).toBe('json');
    expect(mapType({ typname: 'address', category: 'C', typtype: 'c' }).columnType).toBe('json');
    expect(mapType({ typname: 'inet', category: 'I', typtype: 'b' }).columnType).toBe('string');
  });
});

describe('postgres chunk queries', () => {
  const orders: TablePlan = {
    schema: 'public',
    table: 'orders',
    stream: 'public_orders',
    columns: [
      column('id', 'int8', 'bigint'),
      column('updated_at', 'timestamptz', 'timestamp with time zone'),
      column('tags', 'text'),
    ],
    primaryKey: ['id'],
    cursor: column('updated_at', 'timestamptz', 'timestamp with time zone'),
  };

  it('pages incrementally by keyset on (cursor, key) from an inclusive since, never by OFFSET', () => {
    // Act
    const first = readPlan(orders).chunk('2026-01-01T00:00:00Z', undefined, 500);
    const next = readPlan(orders).chunk('2026-01-01T00:00:00Z', ['2026-01-02 00:00:00+00', '17'], 500);

    // Assess
    expect(first.text).toBe(
      'SELECT "id", "updated_at", "tags", "updated_at", "id" FROM "public"."orders" WHERE "updated_at" >= $1::timestamptz ORDER BY "updated_at", "id" LIMIT $2',
    );
    expect(first.values).toEqual(['2026-01-01T00:00:00Z', 500]);
    expect(next.text).toContain(
      'WHERE "updated_at" >= $1::timestamptz AND ("updated_at", "id") > ($2::timestamp with time zone, $3::bigint)',
    );
    expect(next.values).toEqual(['2026-01-01T00:00:00Z', '2026-01-02 00:00:00+00', '17', 500]);
    expect(next.text).not.toMatch(/OFFSET/i);
  });

  it('pages a full refresh by primary key, and by (tableoid, ctid) without one', () => {
    // Act
    const byKey = readPlan({ ...orders, cursor: undefined }).chunk(undefined, ['17'], 100);
    const keyless = readPlan({ ...orders, cursor: undefined, primaryKey: [] }).chunk(
      undefined,
      ['1', '(0,5)'],
      100,
    );

    // Assess
    expect(byKey.text).toBe(
      'SELECT "id", "updated_at", "tags", "id" FROM "public"."orders" WHERE ("id") > ($1::bigint) ORDER BY "id" LIMIT $2',
    );
    expect(keyless.text).toContain(
      'WHERE (tableoid, ctid) > ($1::oid, $2::tid) ORDER BY tableoid, ctid LIMIT $3',
    );
  });
});
