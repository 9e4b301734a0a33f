import { describe, expect, it } from 'vitest';
import { PreciseDate } from '../../../connectors/sdk/precise-date.js';
import type { ValidationError } from '../../../engine/errors.js';
import {
  describeChange,
  fits,
  inferType,
  inferTypeBit,
  normalizeName,
  StreamSchema,
  widen,
  widensInPlace,
} from '../../../engine/schema.js';

describe('inferType', () => {
  it('gives the narrowest type for each kind of value', () => {
    expect(inferType(1)).toBe('int');
    expect(inferType(2 ** 40)).toBe('bigint');
    expect(inferType(2n)).toBe('bigint');
    expect(inferType(1.5)).toBe('double');
    expect(inferType(2 ** 60)).toBe('double');
    expect(inferType('x')).toBe('string');
    expect(inferType(true)).toBe('boolean');
    expect(inferType(new Date())).toBe('timestamp');
    expect(inferType({ a: 1 })).toBe('json');
    expect(inferType([1])).toBe('json');
    expect(inferType(null)).toBeUndefined();
    expect(inferType(undefined)).toBeUndefined();
  });
});

describe('inferTypeBit', () => {
  it('tells the same type as inferType, as one bit per type and 0 for nulls', () => {
    const values = [1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, 2 ** 60, 1.5, Number.NaN, 2n, 'x', '', true];
    const more = [new Date(), { a: 1 }, [1], null, undefined, Symbol('s'), () => 1];
    const bits = new Map<string | undefined, number>();
    for (const value of [...values, ...more]) {
      const type = inferType(value);
      const bit = inferTypeBit(value);
      if (type === undefined) expect(bit).toBe(0);
      else expect(bit & (bit - 1)).toBe(0);
      // One type, one bit: no two types share a bit, and a type always gets the same one.
      if (bits.has(type)) expect(bits.get(type)).toBe(bit);
      bits.set(type, bit);
    }
    expect(new Set(bits.values()).size).toBe(bits.size);
  });
});

describe('widen and widensInPlace', () => {
  it('widens a new column along int → bigint → double → string', () => {
    expect(widen('int', 'bigint')).toBe('bigint');
    expect(widen('int', 'double')).toBe('double');
    expect(widen('double', 'string')).toBe('string');
    expect(widen('boolean', 'int')).toBe('string');
  });

  it('allows in place only the change Athena reads over older Parquet files (INT32 as BIGINT)', () => {
    expect(widensInPlace('int', 'bigint')).toBe(true);
    expect(widensInPlace('int', 'double')).toBe(false);
    expect(widensInPlace('bigint', 'double')).toBe(false);
    expect(widensInPlace('double', 'string')).toBe(false);
    expect(widensInPlace('boolean', 'string')).toBe(false);
    expect(widensInPlace('date', 'timestamp')).toBe(false);
  });
});

describe('fits', () => {
  it('accepts values the writer stores exactly and refuses the rest', () => {
    expect(fits('2026-03-01T12:00:00Z', 'timestamp')).toBe(true);
    expect(fits('2026-03-01T12:00:00.123456+02:00', 'timestamp')).toBe(true);
    expect(fits('next tuesday', 'timestamp')).toBe(false);
    expect(fits('1', 'timestamp')).toBe(false);
    expect(fits('12.50', 'decimal(12,2)')).toBe(true);
    expect(fits(0.1, 'decimal(12,2)')).toBe(true);
    expect(fits('12.505', 'decimal(12,2)')).toBe(false);
    expect(fits('12345678901', 'decimal(12,2)')).toBe(false);
    expect(fits('42', 'bigint')).toBe(true);
    expect(fits('4.2', 'bigint')).toBe(false);
    expect(fits('2026-03-01', 'date')).toBe(true);
    expect(fits(new Date('2026-03-01T01:00:00Z'), 'date')).toBe(false);
    const midnight = BigInt(Date.parse('2026-03-01T00:00:00Z')) * 1000n;
    expect(fits(new PreciseDate(midnight), 'date')).toBe(true);
    expect(fits(new PreciseDate(midnight + 5n), 'date')).toBe(false);
  });
});

describe('normalizeName', () => {
  it('makes names Glue and Athena accept', () => {
    expect(normalizeName('createdAt')).toBe('created_at');
    expect(normalizeName('HTTPStatus')).toBe('http_status');
    expect(normalizeName('ID')).toBe('id');
    expect(normalizeName('Order Total ($)')).toBe('order_total');
    expect(normalizeName('café-größe')).toBe('cafe_gro_e');
    expect(normalizeName('1st_place')).toBe('_1st_place');
    expect(normalizeName('_sluice_run_id')).toBe('sluice_run_id');
    expect(normalizeName('$$$')).toBe('unnamed');
    expect(normalizeName('a__b')).toBe('a__b');
  });

  it('cuts long names to fit Glue, keeping different long names apart', () => {
    const a = normalizeName(`${'x'.repeat(300)}a`);
    const b = normalizeName(`${'x'.repeat(300)}b`);
    expect(a.length).toBeLessThanOrEqual(240);
    expect(a).not.toBe(b);
  });
});

describe('StreamSchema', () => {
  it('widens int to bigint in place and sends other values to variant columns', () => {
    // Prepare
    const schema = new StreamSchema();
    // Act
    const first = schema.apply([{ id: 1, amount: 5, gone: 'x' }]);
    const second = schema.apply([{ id: 2, amount: 3_000_000_000 }]);
    const third = schema.apply([{ id: 3, amount: 2.5 }]);
    const fourth = schema.apply([
      { id: 4, amount: 'n/a' },
      { id: 5, amount: 7 },
    ]);
    // Assess
    expect(first.changes.map(describeChange)).toEqual([
      'added column id (int)',
      'added column amount (int)',
      'added column gone (string)',
    ]);
    expect(second.changes.map(describeChange)).toEqual(['widened amount: int → bigint']);
    expect(third.changes.map(describeChange)).toEqual([
      'added variant column amount__double (double) for values of amount that are not bigint',
    ]);
    expect(third.rows).toEqual([{ id: 3, amount__double: 2.5 }]);
    expect(fourth.rows).toEqual([
      { id: 4, amount__string: 'n/a' },
      { id: 5, amount: 7 },
    ]);
    expect(schema.columns).toEqual([
      { name: 'id', type: 'int' },
      { name: 'amount', type: 'bigint' },
      { name: 'gone', type: 'string' },
      { name: 'amount__double', type: 'double', variantOf: 'amount' },
      { name: 'amount__string', type: 'string', variantOf: 'amount' },
    ]);
  });

  it('refuses a primary-key value its column cannot hold instead of moving it to a variant', () => {
    // Prepare: `id` is an int key; `n` is no key.
    const schema = new StreamSchema([], {}, {}, new Set(['id']));
    schema.apply([{ id: 1, n: 1 }]);

    // Act
    const other = schema.apply([{ id: 2, n: 'two' }]);
    const refused = (() => {
      try {
        schema.apply([{ id: 3 }, { id: 'A-17' }]);
      } catch (error) {
        return error as ValidationError;
      }
      return undefined;
    })();

    // Assess
    expect(other.changes.map(describeChange)).toEqual([
      'added variant column n__string (string) for values of n that are not int',
    ]);
    expect(refused?.field).toBe('id');
    expect(refused?.message).toContain('primary-key field "id" has the value "A-17" (string)');
    expect(schema.columns.map((c) => c.name)).not.toContain('id__string');
  });

  it('keeps routing a key to a variant the table has already, so its syncs go on', () => {
    // Prepare: a table landed before keys were refused, with `id__string` beside the int `id`.
    const schema = new StreamSchema(
      [
        { name: 'id', type: 'int' },
        { name: 'id__string', type: 'string', variantOf: 'id' },
      ],
      {},
      {},
      new Set(['id']),
    );

    // Act
    const next = schema.apply([{ id: 'A-18' }]);

    // Assess
    expect(next.changes).toEqual([]);
    expect(next.rows).toEqual([{ id__string: 'A-18' }]);
  });

  it('keeps landing 64-bit integers in a column that is double already, rounded as before', () => {
    // Prepare: ids landed as doubles when JSON.parse rounded them; now they arrive exact, as bigints.
    const schema = new StreamSchema();
    schema.apply([{ id: 1234567890123456800 }]);

    // Act
    const next = schema.apply([{ id: 1234567890123456789n }]);

    // Assess
    expect(next.changes).toEqual([]);
    expect(next.rows).toEqual([{ id: 1234567890123456789n }]);
    expect(schema.columns).toEqual([{ name: 'id', type: 'double' }]);
  });

  it('passes the records through uncopied when nothing is renamed or rerouted', () => {
    const schema = new StreamSchema();
    const batch = [{ id: 1, name: 'a' }];
    expect(schema.apply(batch).rows).toBe(batch);
  });

  it('passes the records through uncopied when every string of a declared timestamp parses', () => {
    const schema = new StreamSchema([], { updated_at: 'timestamp', amount: 'decimal(12,2)' });
    const batch = [{ updated_at: '2026-03-01T10:00:00Z', amount: '1.25' }];
    expect(schema.apply(batch).rows).toBe(batch);
  });

  it('adds new columns in the order fields first hold a value, whatever the keys and nulls before', () => {
    // Prepare: shapes differ between records; `late` is null until the last record.
    const schema = new StreamSchema([], {});
    const records = [
      { id: 1, late: null, name: 'a' },
      { name: 'b', id: 2, extra: true },
      { id: 3, late: null },
      { late: 'now', id: 4 },
    ];

    // Act
    const { changes, rows } = schema.apply(records);

    // Assess
    expect(changes.map((c) => [c.column, c.to])).toEqual([
      ['id', 'int'],
      ['name', 'string'],
      ['extra', 'boolean'],
      ['late', 'string'],
    ]);
    expect(rows).toBe(records);
  });

  it('does not add a column while it only holds nulls', () => {
    const schema = new StreamSchema();
    expect(schema.observe([{ id: 1, maybe: null }])).toHaveLength(1);
    expect(schema.observe([{ id: 2, maybe: 3 }]).map(describeChange)).toEqual(['added column maybe (int)']);
  });

  it('keeps declared types, routing values that do not fit them to variants', () => {
    // Prepare
    const schema = new StreamSchema([], { id: 'bigint', updated_at: 'timestamp', amount: 'decimal(12,2)' });
    // Act
    const { changes, rows } = schema.apply([
      { id: 1, updated_at: '2026-03-01T10:00:00Z', amount: '12.50' },
      { id: 2, updated_at: 'soon', amount: '0.125' },
    ]);
    // Assess
    expect(changes.map(describeChange)).toEqual([
      'added variant column updated_at__string (string) for values of updated_at that are not timestamp',
      'added variant column amount__string (string) for values of amount that are not decimal(12,2)',
    ]);
    expect(rows).toEqual([
      { id: 1, updated_at: '2026-03-01T10:00:00Z', amount: '12.50' },
      { id: 2, updated_at__string: 'soon', amount__string: '0.125' },
    ]);
  });

  it('normalises field names and resolves collisions the same way whatever the key order', () => {
    // Prepare
    const a = new StreamSchema();
    const b = new StreamSchema();
    // Act
    const ra = a.apply([{ ID: 1, id: 2, dt: 'x', _sluice_run_id: 'mine', createdAt: 'y' }]);
    const rb = b.apply([{ createdAt: 'y', _sluice_run_id: 'mine', dt: 'x', id: 2, ID: 1 }]);
    // Assess
    expect(ra.rows).toEqual([{ id_2: 1, id: 2, dt_2: 'x', sluice_run_id: 'mine', created_at: 'y' }]);
    expect(rb.rows).toEqual(ra.rows);
    expect(a.names).toEqual(b.names);
    expect(a.names).toEqual({
      ID: 'id_2',
      dt: 'dt_2',
      _sluice_run_id: 'sluice_run_id',
      createdAt: 'created_at',
    });
    expect(ra.changes.map(describeChange)).toContain('field "ID" lands in column id_2 ("id" is taken)');
  });

  it('keeps the field → column mapping of the schema history across runs', () => {
    // Prepare
    const first = new StreamSchema();
    first.apply([{ ID: 1, id: 2 }]);
    // Act: the next run sees only `ID`, yet it still lands in id_2
    const next = new StreamSchema(first.columns, {}, first.names);
    const { rows, changes } = next.apply([{ ID: 5 }]);
    // Assess
    expect(rows).toEqual([{ id_2: 5 }]);
    expect(changes).toEqual([]);
  });

  it('starts from the catalog schema, variants included, so the next run only records real changes', () => {
    const first = new StreamSchema();
    first.apply([{ amount: 5 }]);
    first.apply([{ amount: 0.5 }]);
    const next = new StreamSchema(first.columns);
    expect(next.apply([{ amount: 1.5 }, { amount: 2 }])).toEqual({
      changes: [],
      rows: [{ amount__double: 1.5 }, { amount: 2 }],
    });
  });

  it('drops legacy columns Athena could never read: dt, a case twin, other characters', () => {
    // Prepare
    const schema = new StreamSchema([
      { name: 'id', type: 'int' },
      { name: 'dt', type: 'string' },
      { name: 'ID', type: 'int' },
      { name: 'Order Total', type: 'int' },
      { name: 'createdAt', type: 'string' },
    ]);
    // Act
    const { changes, rows } = schema.apply([{ id: 1, 'Order Total': 5, createdAt: 'x' }]);
    // Assess
    expect(changes.map(describeChange)).toEqual([
      'dropped column dt (hidden by the partition key)',
      'dropped column ID (Glue ignores case)',
      'dropped column Order Total (not a name Athena reads)',
      'field "Order Total" lands in column order_total',
      'added column order_total (int)',
    ]);
    // A legacy name Athena reads (it matches Parquet names ignoring case) keeps its column.
    expect(rows).toEqual([{ id: 1, order_total: 5, createdAt: 'x' }]);
  });

  it('keeps a landed type when a declaration would redeclare it over older files', () => {
    const schema = new StreamSchema([{ name: 'updated_at', type: 'string' }], { updated_at: 'timestamp' });
    expect(schema.observe([{ updated_at: '2026-01-01T00:00:00Z' }]).map(describeChange)).toEqual([
      'kept updated_at as string: the declared timestamp cannot be read over the files already landed',
    ]);
  });
});
