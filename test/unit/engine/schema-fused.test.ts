/**
 * The fused path (StreamSchema.fusedCheck + RowConverter.convertIfFits)
 * against its oracle, the schema step and the plain converter
 * (StreamSchema.apply + RowConverter.convert): on random batches, for new and
 * catalog-loaded schemas, a converted batch must be one `apply` would take
 * with no change (as it is, or rows rebuilt for renamed keys), with the same
 * column data; anything else must be given up, so the caller takes `apply`.
 */
import { describe, expect, it } from 'vitest';
import { random } from '../../../connectors/sample/world.js';
import type { ColumnType, SourceRecord } from '../../../connectors/sdk/types.js';
import { type ParquetColumn, RowConverter, type RowGroupData } from '../../../engine/parquet/convert.js';
import type { Column } from '../../../engine/ports.js';
import { METADATA_COLUMNS, StreamSchema } from '../../../engine/schema.js';

/** Values of every kind the schema tells apart, edges included. */
const KINDS: readonly (() => unknown)[] = [
  () => 7,
  () => -2147483648,
  () => 2147483647,
  () => 2 ** 40,
  () => 2 ** 60,
  () => -0,
  () => 1.5,
  () => Number.NaN,
  () => 5n,
  () => 2n ** 70n,
  () => 'text',
  () => '42',
  () => ' 7 ',
  () => '3.25',
  () => '2024-01-02T03:04:05Z',
  () => '2024-01-02 03:04:05.123456+02:00',
  () => '2024-13-45T99:00:00Z',
  () => '2024-02-03',
  () => 'true',
  () => true,
  () => new Date(Date.UTC(2024, 4, 6, 7, 8, 9)),
  () => new Date(Number.NaN),
  () => ({ a: 1 }),
  () => [1, 'b'],
  () => null,
  () => undefined,
];

const FIELDS = [
  'id',
  'amount',
  'name',
  'ts',
  'flag',
  'Note',
  'note',
  'meta',
  'day',
  'big',
  'createdAt',
] as const;
const DECLARABLE: readonly [string, ColumnType][] = [
  ['ts', 'timestamp'],
  ['day', 'date'],
  ['amount', 'decimal(12,2)'],
  ['id', 'bigint'],
  ['flag', 'boolean'],
];

interface Scenario {
  /** The catalog's columns and field → column names the schema starts from (a table from an earlier run). */
  readonly initial: Column[];
  readonly names: Record<string, string>;
  readonly declared: Record<string, ColumnType>;
  batch(size: number): SourceRecord[];
}

function scenario(seed: number): Scenario {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const declared: Record<string, ColumnType> = {};
  for (const [field, type] of DECLARABLE) if (rnd() < 0.4) declared[field] = type;
  const fromCatalog = rnd() < 0.3;
  const initial: Column[] = fromCatalog
    ? [
        { name: 'amount', type: 'int' },
        { name: 'amount__string', type: 'string', variantOf: 'amount' },
        { name: 'note', type: 'string' },
        { name: 'meta', type: 'json' },
      ]
    : [];
  const names: Record<string, string> = fromCatalog ? { Note: 'note' } : {};
  // Each field mostly holds one kind; some fields sometimes hold another, go missing, or a new field shows up.
  const usual = new Map(FIELDS.map((f) => [f, pick(KINDS)] as const));
  const drift = pick([0, 0, 0.0005, 0.005, 0.02]);
  // `Note` and `createdAt` are renamed (`note`, `created_at`), and so is `note` when `Note` took its
  // name first: their records' rows are rebuilt by `apply`.
  const present = FIELDS.filter(
    (f) => rnd() < (f === 'Note' || f === 'note' || f === 'createdAt' ? 0.4 : 0.85),
  );
  return {
    initial,
    names,
    declared,
    batch(size) {
      const rows: SourceRecord[] = [];
      const reorder = rnd() < 0.1;
      const fields = reorder ? [...present].reverse() : present;
      const newField = rnd() < 0.1 ? `extra_${Math.floor(rnd() * 3)}` : undefined;
      for (let i = 0; i < size; i++) {
        const row: SourceRecord = {};
        for (const f of fields) {
          if (rnd() < drift / 2) continue;
          row[f] = (rnd() < drift ? pick(KINDS) : usual.get(f)!)();
        }
        if (newField !== undefined && rnd() < 0.5) row[newField] = rnd() < 0.5 ? null : pick(KINDS)();
        rows.push(row);
      }
      return rows;
    },
  };
}

const CONSTANTS = {
  _sluice_run_id: 'run-1',
  _sluice_extracted_at: new Date(Date.UTC(2026, 10, 28)),
  _sluice_source: 'src',
};

type Outcome = { data: RowGroupData } | { error: string };

function convertWith(converter: RowConverter, rows: readonly SourceRecord[]): Outcome {
  try {
    return { data: converter.convert(rows, CONSTANTS) };
  } catch (error) {
    return { error: String(error) };
  }
}

/** One converter per column list, as the writer has one per file. */
function converterFor(schema: StreamSchema, cache: Map<string, RowConverter>): RowConverter {
  const columns: ParquetColumn[] = [...schema.columns, ...METADATA_COLUMNS];
  const key = JSON.stringify(columns);
  let converter = cache.get(key);
  if (converter === undefined) {
    converter = new RowConverter(columns);
    cache.set(key, converter);
  }
  return converter;
}

describe('StreamSchema.fusedCheck with RowConverter.convertIfFits', () => {
  it('converts a batch only when apply would take it unchanged, into the same column data', () => {
    let fused = 0;
    let fusedRenamed = 0;
    let givenUp = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const s = scenario(seed);
      const reference = new StreamSchema(s.initial, s.declared, s.names);
      const subject = new StreamSchema(s.initial, s.declared, s.names);
      const referenceConverters = new Map<string, RowConverter>();
      const subjectConverters = new Map<string, RowConverter>();
      for (let b = 0; b < 8; b++) {
        const batch = s.batch(1 + (b % 3) * 30);
        const applied = reference.apply(batch);
        const expected = convertWith(converterFor(reference, referenceConverters), applied.rows);
        const check = b === 0 ? undefined : subject.fusedCheck(batch[0]!);
        const data = check && converterFor(subject, subjectConverters).convertIfFits(batch, CONSTANTS, check);
        if (data !== undefined) {
          fused++;
          if (check!.renamed) fusedRenamed++;
          expect(applied.changes, `seed ${seed} batch ${b}`).toEqual([]);
          // Without renames `apply` hands the records over as they are; with them, rows rebuilt for the columns.
          if (!check!.renamed) expect(applied.rows, `seed ${seed} batch ${b}`).toBe(batch);
          expect({ data }, `seed ${seed} batch ${b}`).toEqual(expected);
        } else {
          givenUp++;
          const own = subject.apply(batch);
          expect(own.changes).toEqual(applied.changes);
          expect(convertWith(converterFor(subject, subjectConverters), own.rows)).toEqual(expected);
        }
        expect(subject.columns).toEqual(reference.columns);
        expect(subject.names).toEqual(reference.names);
      }
    }
    // Both ways were taken often, so neither went untested.
    expect(fused).toBeGreaterThan(150);
    expect(fusedRenamed).toBeGreaterThan(30);
    expect(givenUp).toBeGreaterThan(500);
  });

  it('gives up on a batch with a new field, a new type or other keys, and reads renamed keys into their columns', () => {
    const schema = new StreamSchema([], { ts: 'timestamp' });
    schema.apply([{ id: 1, name: 'a', ts: '2024-01-01T00:00:00Z', gone: null }]);
    const converter = new RowConverter([...schema.columns, ...METADATA_COLUMNS]);
    const fits = (rows: SourceRecord[]): boolean => {
      const check = schema.fusedCheck(rows[0]!);
      return check !== undefined && converter.convertIfFits(rows, CONSTANTS, check) !== undefined;
    };
    const row = { id: 2, name: 'b', ts: '2024-01-02T00:00:00Z', gone: null };
    expect(fits([row, { ...row, id: 3 }])).toBe(true);
    // A value for a field that never held one would add a column.
    expect(fits([row, { ...row, gone: 'now' }])).toBe(false);
    // A new field in a later record.
    expect(fits([row, { ...row, more: 1 }])).toBe(false);
    // A missing key, and the same keys in another order.
    expect(fits([row, { id: 3, name: 'c', ts: '2024-01-03T00:00:00Z' }])).toBe(false);
    expect(fits([row, { name: 'c', id: 3, ts: '2024-01-03T00:00:00Z', gone: null }])).toBe(false);
    // A bigint widens the int column; a double goes to a variant; a bad timestamp string too.
    expect(fits([row, { ...row, id: 2 ** 40 }])).toBe(false);
    expect(fits([row, { ...row, id: 1.5 }])).toBe(false);
    expect(fits([row, { ...row, ts: 'yesterday' }])).toBe(false);
    // A key inherited from a prototype is a field to the schema's scan (for…in).
    expect(fits([row, Object.assign(Object.create({ inherited: 1 }), row)])).toBe(false);
    // A renamed field lands in its column, as the schema step's rebuilt rows would, if records are plain.
    const renamed = new StreamSchema([], {}, {});
    renamed.apply([{ Name: 'a', id: 1 }]);
    const renamedConverter = new RowConverter([...renamed.columns, ...METADATA_COLUMNS]);
    const batch = [
      { Name: 'b', id: 2 },
      { Name: null, id: 3 },
    ];
    const check = renamed.fusedCheck(batch[0]!)!;
    expect(check.renamed).toBe(true);
    expect(renamedConverter.convertIfFits(batch, CONSTANTS, check)).toEqual(
      renamedConverter.convert(renamed.apply(batch).rows, CONSTANTS),
    );
    class Item {
      public constructor(
        public Name: string,
        public id: number,
      ) {}
    }
    const instance = new Item('c', 4) as unknown as SourceRecord;
    expect(renamedConverter.convertIfFits([instance], CONSTANTS, check)).toBeUndefined();
  });
});
