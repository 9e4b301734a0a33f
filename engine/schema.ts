/**
 * Schema inference and evolution. A stream's schema starts from its declared
 * columns or its first records, then only grows: new columns are added,
 * types widen (int → bigint → double → string; anything irreconcilable →
 * string), columns that disappear stay. Every change is described in words
 * so run reports and the catalog can say what happened.
 */
import type { ColumnType, SourceRecord } from '../connectors/sdk/types.js';
import type { Column } from './ports.js';

/** Columns the engine adds to every landed row. */
export const METADATA_COLUMNS: readonly Column[] = [
  { name: '_sluice_run_id', type: 'string' },
  { name: '_sluice_extracted_at', type: 'timestamp' },
  { name: '_sluice_source', type: 'string' },
];
const METADATA_NAMES = new Set(METADATA_COLUMNS.map((c) => c.name));

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The narrowest type that holds this value, or undefined for null/undefined. */
export function inferType(value: unknown): ColumnType | undefined {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      if (Number.isInteger(value)) {
        if (value >= INT32_MIN && value <= INT32_MAX) return 'int';
        return Number.isSafeInteger(value) ? 'bigint' : 'double';
      }
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'bigint';
    case 'object':
      if (value === null) return undefined;
      if (value instanceof Date) return 'timestamp';
      return 'json';
    case 'undefined':
      return undefined;
    default:
      return 'string';
  }
}

const NUMERIC_RANK: Partial<Record<ColumnType, number>> = { int: 0, bigint: 1, double: 2 };

/** The narrowest type both `a` and `b` values fit in. */
export function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  const ra = NUMERIC_RANK[a];
  const rb = NUMERIC_RANK[b];
  if (ra !== undefined && rb !== undefined) return ra > rb ? a : b;
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return 'string';
}

export interface SchemaChange {
  readonly column: string;
  readonly from: ColumnType | undefined;
  readonly to: ColumnType;
}

export function describeChange(change: SchemaChange): string {
  return change.from === undefined
    ? `added column ${change.column} (${change.to})`
    : `widened ${change.column}: ${change.from} → ${change.to}`;
}

/** The evolving schema of one stream (without the metadata columns). */
export class StreamSchema {
  private readonly types = new Map<string, ColumnType>();
  private readonly declared: ReadonlySet<string>;

  public constructor(initial: readonly Column[] = [], declared: Readonly<Record<string, ColumnType>> = {}) {
    for (const column of initial) {
      if (!METADATA_NAMES.has(column.name)) this.types.set(column.name, column.type);
    }
    for (const [name, type] of Object.entries(declared)) {
      const known = this.types.get(name);
      this.types.set(name, known === undefined ? type : widen(known, type));
    }
    this.declared = new Set(Object.keys(declared));
  }

  /** Data columns in order of appearance; engine-owned `_sluice_*` columns last. */
  public get columns(): Column[] {
    const all = [...this.types].map(([name, type]) => ({ name, type }));
    return [
      ...all.filter((c) => !c.name.startsWith('_sluice_')),
      ...all.filter((c) => c.name.startsWith('_sluice_')),
    ];
  }

  public get size(): number {
    return this.types.size;
  }

  /**
   * Widens the schema to hold every value of the batch. Declared columns keep
   * their type (the writer converts values); undeclared ones are inferred.
   */
  public observe(records: readonly SourceRecord[]): SchemaChange[] {
    // Seen types per column for this batch, merged once at the end: cheaper than widening per value.
    const seen = new Map<string, ColumnType>();
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      for (const name in record) {
        const type = inferType(record[name]);
        // Nulls say nothing about a type: a column only appears once it holds a value (as in dlt).
        if (type === undefined) continue;
        const previous = seen.get(name);
        if (previous !== type) seen.set(name, previous === undefined ? type : widen(previous, type));
      }
    }
    const changes: SchemaChange[] = [];
    for (const [name, type] of seen) {
      if (METADATA_NAMES.has(name)) continue;
      const current = this.types.get(name);
      if (current === undefined) {
        this.types.set(name, type);
        changes.push({ column: name, from: undefined, to: type });
      } else if (current !== type && !this.declared.has(name)) {
        const widened = widen(current, type);
        if (widened !== current) {
          this.types.set(name, widened);
          changes.push({ column: name, from: current, to: widened });
        }
      }
    }
    return changes;
  }
}
