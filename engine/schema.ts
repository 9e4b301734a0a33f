/**
 * Schema inference and evolution that never breaks an Athena reader
 * (docs/adr/0006-athena-safe-schema-evolution.md).
 *
 * A stream's schema starts from its declared columns, the catalog's latest
 * version, or its first records, then only grows. Athena reads Parquet by
 * column name and accepts, in place, only files whose physical type the
 * declared type reads: so a column's declared type changes only where that
 * holds (int → bigint: Parquet INT32 read as BIGINT). A value that does not
 * fit its column's type lands in a variant column named after its type
 * (`amount__double`, `amount__string`, as dlt does). Columns that disappear
 * stay.
 *
 * Source field names are normalised to what Glue stores (lowercase
 * snake_case, letters, digits and `_`, at most 255 characters); collisions
 * (`id`/`ID`), the partition key `dt` and the engine's `_sluice_*` columns
 * get deterministic other names. The field → column mapping travels in the
 * schema history (`SchemaVersion.names`), so it never changes once chosen.
 *
 * `apply(records)` evolves the schema for a batch and returns the rows the
 * writer receives, keyed by column name: the records themselves when no
 * field is renamed and no value is rerouted (the common case, no copy).
 */
import { columnKind, parseColumnType, parseDecimalType } from '../connectors/sdk/column-types.js';
import { PreciseDate } from '../connectors/sdk/precise-date.js';
import { type ColumnType, DELETED_FIELD, type SourceRecord } from '../connectors/sdk/types.js';
import { MAX_NAME_LENGTH, PARTITION_KEY, RESERVED_PREFIX } from './catalog-rules.js';
import { ValidationError } from './errors.js';
import type { FusedCheck } from './parquet/index.js';
import {
  parseDateDays,
  parseTimestampMicros,
  parseUtcTimestampMicros,
  smallDecimalUnscaled,
  toDecimalUnscaled,
  toInt32,
  toInt64,
  toTimestampMicrosExact,
} from './parquet/values.js';
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
const DAY_MS = 86_400_000;
const DAY_MICROS = 86_400_000_000n;
/** Room left after a base name for a variant suffix (`__timestamp`) and a collision suffix (`_99`). */
const BASE_NAME_LENGTH = MAX_NAME_LENGTH - 15;
/** A landed column name Glue and Athena take (Glue lowercases it; Athena matches Parquet ignoring case). */
const LEGACY_NAME = new RegExp(`^[A-Za-z0-9_]{1,${MAX_NAME_LENGTH}}$`);

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

/** The narrowest type both `a` and `b` values fit in (for a new column, which has no older files). */
export function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  const ra = NUMERIC_RANK[a];
  const rb = NUMERIC_RANK[b];
  if (ra !== undefined && rb !== undefined) return ra > rb ? a : b;
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return 'string';
}

/**
 * Whether a column declared `from` may be redeclared `to` over files already
 * written as `from`: Athena reads Parquet INT32 as BIGINT (and FLOAT as
 * DOUBLE, a type the lake never writes); nothing else.
 */
export function widensInPlace(from: ColumnType, to: ColumnType): boolean {
  return from === 'int' && to === 'bigint';
}

/** Does every value of type `value` fit a `column`? `check`: some do, test each value. */
type Holds = 'yes' | 'no' | 'check';

function holds(column: ColumnType, value: ColumnType): Holds {
  if (column === value) return 'yes';
  switch (columnKind(column)) {
    case 'string':
      return 'yes';
    case 'json':
      return value === 'string' ? 'yes' : 'no';
    case 'bigint':
      return value === 'int' ? 'yes' : value === 'string' ? 'check' : 'no';
    case 'double':
      return value === 'int' ? 'yes' : value === 'bigint' || value === 'string' ? 'check' : 'no';
    case 'int':
    case 'boolean':
    case 'timestamp':
      return value === 'string' || value === 'bigint' ? 'check' : 'no';
    case 'date':
      return value === 'string' || value === 'timestamp' ? 'check' : 'no';
    case 'decimal':
      return value === 'string' || value === 'int' || value === 'bigint' || value === 'double'
        ? 'check'
        : 'no';
  }
}

const INTEGER_TEXT = /^\s*[-+]?\d+\s*$/;
const NUMBER_TEXT = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

const decimalSpecs = new Map<ColumnType, { precision: number; scale: number }>();

/** `decimal(p,s)` parsed once per type, not per value. */
function decimalSpec(type: ColumnType): { precision: number; scale: number } {
  let spec = decimalSpecs.get(type);
  if (spec === undefined) {
    spec = parseDecimalType(type)!;
    decimalSpecs.set(type, spec);
  }
  return spec;
}

/** Whether the writer stores this (non-null) value in a column of `type` exactly. */
export function fits(value: unknown, type: ColumnType): boolean {
  switch (columnKind(type)) {
    case 'string':
      return true;
    case 'json':
      return (
        typeof value === 'string' || (typeof value === 'object' && value !== null && !(value instanceof Date))
      );
    case 'int':
      if (typeof value === 'string' && !INTEGER_TEXT.test(value)) return false;
      return typeof value !== 'boolean' && !Number.isNaN(toInt32(value));
    case 'bigint':
      if (typeof value === 'string' && !INTEGER_TEXT.test(value)) return false;
      return typeof value !== 'boolean' && toInt64(value) !== undefined;
    case 'double':
      if (typeof value === 'string') return NUMBER_TEXT.test(value);
      // Rounded, as a double holds it: a column typed double before 64-bit JSON ids came exact (sdk/json.ts)
      // keeps taking them, instead of moving them to a variant and leaving the column (often a key) null.
      if (typeof value === 'bigint') return true;
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false';
    case 'timestamp':
      if (value instanceof PreciseDate) return toTimestampMicrosExact(value) !== undefined;
      if (value instanceof Date) return !Number.isNaN(value.getTime());
      // The common canonical form skips the regex (it would match it).
      if (typeof value === 'string' && !Number.isNaN(parseUtcTimestampMicros(value))) return true;
      return (
        typeof value === 'string' && ISO_TIMESTAMP.test(value) && !Number.isNaN(parseTimestampMicros(value))
      );
    case 'date':
      // A PreciseDate's microseconds past midnight would be lost in a date.
      if (value instanceof PreciseDate) return value.micros % DAY_MICROS === 0n;
      if (value instanceof Date) return value.getTime() % DAY_MS === 0;
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(parseDateDays(value));
    case 'decimal': {
      const spec = decimalSpec(type);
      if (typeof value === 'string' && !Number.isNaN(smallDecimalUnscaled(value, spec.precision, spec.scale)))
        return true;
      return toDecimalUnscaled(value, spec.precision, spec.scale) !== undefined;
    }
  }
}

/** The type of the variant column that takes values of type `value`: integers share one. */
function variantType(value: ColumnType): ColumnType {
  return value === 'int' ? 'bigint' : value;
}

/**
 * A source field name as a column name Glue and Athena accept: accents
 * dropped, camelCase split, lowercase, every run of other characters one
 * `_` (none at the ends), a leading digit prefixed with `_`, the engine's
 * `_sluice_` prefix stripped of its underscores, and names over 240
 * characters cut with a hash of the whole name. Collisions are resolved by
 * the schema, which knows the other names.
 */
export function normalizeName(field: string): string {
  let name = field
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, ' ')
    .trim()
    .replace(/ /g, '_');
  if (name === '') name = 'unnamed';
  if (name.startsWith(RESERVED_PREFIX)) name = name.replace(/^_+/, '');
  if (/^[0-9]/.test(name)) name = `_${name}`;
  if (name.length > BASE_NAME_LENGTH) name = `${name.slice(0, BASE_NAME_LENGTH - 9)}_${fnv1a(field)}`;
  return name;
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export const SchemaChangeKind = {
  added: 'added',
  widened: 'widened',
  variant: 'variant',
  renamed: 'renamed',
  dropped: 'dropped',
  kept: 'kept',
} as const;
export type SchemaChangeKind = (typeof SchemaChangeKind)[keyof typeof SchemaChangeKind];

export interface SchemaChange {
  readonly kind: SchemaChangeKind;
  readonly column: string;
  /** widened, kept: the type before; undefined otherwise. */
  readonly from: ColumnType | undefined;
  /** added, widened, variant: the column's type; kept: the declared type not applied. */
  readonly to: ColumnType;
  /** renamed: the source field; variant: the base column. */
  readonly of?: string;
  /** dropped, renamed: why. */
  readonly reason?: string;
}

export function describeChange(change: SchemaChange): string {
  switch (change.kind) {
    case 'added':
      return `added column ${change.column} (${change.to})`;
    case 'widened':
      return `widened ${change.column}: ${change.from} → ${change.to}`;
    case 'variant':
      return `added variant column ${change.column} (${change.to}) for values of ${change.of} that are not ${change.from}`;
    case 'renamed':
      return `field ${JSON.stringify(change.of)} lands in column ${change.column}${change.reason ? ` (${change.reason})` : ''}`;
    case 'dropped':
      return `dropped column ${change.column} (${change.reason})`;
    case 'kept':
      return `kept ${change.column} as ${change.from}: the declared ${change.to} cannot be read over the files already landed`;
  }
}

/** Bit per inferred type, to collect the types a field holds in a batch cheaply. */
const TYPE_BIT: Readonly<Record<string, number>> = {
  boolean: 1,
  int: 2,
  bigint: 4,
  double: 8,
  string: 16,
  timestamp: 32,
  date: 64,
  json: 128,
};
const BIT_TYPE = Object.entries(TYPE_BIT).map(([type, bit]) => [bit, type as ColumnType] as const);
const BIT = {
  boolean: TYPE_BIT.boolean!,
  int: TYPE_BIT.int!,
  bigint: TYPE_BIT.bigint!,
  double: TYPE_BIT.double!,
  string: TYPE_BIT.string!,
  timestamp: TYPE_BIT.timestamp!,
  json: TYPE_BIT.json!,
} as const;

/** Every bit `inferTypeBit` can give. */
const ALL_BITS = Object.values(BIT).reduce((a, b) => a | b, 0);

/** `TYPE_BIT[inferType(value)]` (0 for a null) without the string lookup: runs once per value. */
export function inferTypeBit(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return BIT.string;
    case 'number':
      if (Number.isInteger(value)) {
        if (value >= INT32_MIN && value <= INT32_MAX) return BIT.int;
        return Number.isSafeInteger(value) ? BIT.bigint : BIT.double;
      }
      return BIT.double;
    case 'boolean':
      return BIT.boolean;
    case 'bigint':
      return BIT.bigint;
    case 'object':
      if (value === null) return 0;
      return value instanceof Date ? BIT.timestamp : BIT.json;
    case 'undefined':
      return 0;
    default:
      return BIT.string;
  }
}

/**
 * The types each field holds across the records, as bits, in the order the
 * fields first held a value (nulls say nothing about a type: a column only
 * appears once it holds a value, as in dlt). Records of one batch mostly
 * share their keys' order, so a field is looked for first at its position in
 * the previous records, and in a map only when that misses.
 */
function typesSeen(records: readonly SourceRecord[]): Map<string, number> {
  const names: string[] = [];
  const masks: number[] = [];
  const firstTyped: number[] = [];
  const index = new Map<string, number>();
  let typed = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    let k = 0;
    for (const name in record) {
      const bit = inferTypeBit(record[name]);
      let j = names[k] === name ? k : index.get(name);
      if (j === undefined) {
        j = names.length;
        names.push(name);
        masks.push(0);
        firstTyped.push(-1);
        index.set(name, j);
      }
      if (bit !== 0) {
        if (masks[j] === 0) firstTyped[j] = typed++;
        masks[j]! |= bit;
      }
      k++;
    }
  }
  const order = names.map((_, j) => j).filter((j) => firstTyped[j]! >= 0);
  order.sort((a, b) => firstTyped[a]! - firstTyped[b]!);
  return new Map(order.map((j) => [names[j]!, masks[j]!]));
}

/** Where values of one inferred type of one field go. */
type Route =
  | { readonly to: 'column' }
  | { readonly to: 'check' }
  | { readonly to: 'variant'; readonly column: string };

interface FieldPlan {
  readonly column: string;
  readonly type: ColumnType;
  /** Every value goes to `column` unchanged. */
  readonly direct: boolean;
  readonly routes: ReadonlyMap<ColumnType, Route>;
}

const TO_COLUMN: Route = { to: 'column' };
const TO_CHECK: Route = { to: 'check' };

/** The evolving schema of one stream (without the metadata columns). */
export class StreamSchema {
  private readonly types = new Map<string, ColumnType>();
  /** Variant column → its base column. */
  private readonly variantOf = new Map<string, string>();
  /** Base column → variant type → variant column. */
  private readonly variants = new Map<string, Map<ColumnType, string>>();
  /** Source field → column, for every field seen or declared. */
  private readonly fields = new Map<string, string>();
  /** Source field → column where they differ: what the schema history keeps. */
  private readonly renamed = new Map<string, string>();
  /** Columns some other field was renamed into: never the identity target of a field. */
  private readonly renameTargets = new Set<string>();
  /** Lowercased names in use or reserved: Glue compares names ignoring case. */
  private readonly taken = new Set<string>([PARTITION_KEY, ...METADATA_NAMES]);
  private readonly declared = new Set<string>();
  /** Changes found before the first batch (catalog migration, declarations), reported with it. */
  private pending: SchemaChange[] = [];

  /**
   * @param initial the catalog's latest columns (metadata columns are skipped)
   * @param declared the stream's declared types by source field name; they win over inference
   * @param names the catalog's field → column mapping (`SchemaVersion.names`)
   * @param keyFields the stream's primary-key fields: a value that does not fit their column is refused
   */
  public constructor(
    initial: readonly Column[] = [],
    declared: Readonly<Record<string, ColumnType>> = {},
    names: Readonly<Record<string, string>> = {},
    private readonly keyFields: ReadonlySet<string> = new Set(),
  ) {
    for (const column of initial) {
      if (METADATA_NAMES.has(column.name)) continue;
      const folded = column.name.toLowerCase();
      // Written before names were normalised: Athena could never read these, so they are dropped here.
      const reason =
        folded === PARTITION_KEY
          ? 'hidden by the partition key'
          : this.taken.has(folded)
            ? 'Glue ignores case'
            : !LEGACY_NAME.test(column.name)
              ? 'not a name Athena reads'
              : undefined;
      if (reason !== undefined) {
        this.pending.push({
          kind: 'dropped',
          column: column.name,
          from: column.type,
          to: column.type,
          reason,
        });
        continue;
      }
      this.types.set(column.name, column.type);
      this.taken.add(folded);
      if (column.variantOf !== undefined) this.addVariant(column.variantOf, column.type, column.name);
    }
    for (const [field, column] of Object.entries(names)) {
      this.fields.set(field, column);
      this.renamed.set(field, column);
      this.renameTargets.add(column);
      this.taken.add(column.toLowerCase());
    }
    const isNew = this.types.size === 0;
    for (const field of resolutionOrder(Object.keys(declared))) {
      const type = declared[field]!;
      if (typeof type !== 'string' || parseColumnType(type) !== type) {
        throw new ValidationError(
          `column "${field}" is declared ${JSON.stringify(type)}, which is not a lake type (boolean, int, bigint, double, string, timestamp, date, json, decimal(p,s) with p ≤ 38)`,
          { field },
        );
      }
      const column = this.columnName(field);
      this.declared.add(column);
      const current = this.types.get(column);
      if (current === undefined) {
        this.types.set(column, type);
        if (!isNew) this.pending.push({ kind: 'added', column, from: undefined, to: type });
      } else if (current !== type) {
        if (widensInPlace(current, type)) {
          this.types.set(column, type);
          this.pending.push({ kind: 'widened', column, from: current, to: type });
        } else {
          this.pending.push({ kind: 'kept', column, from: current, to: type });
        }
      }
    }
  }

  /** Data columns in order of appearance (variants included); engine-owned `_sluice_*` columns last. */
  public get columns(): Column[] {
    const all: Column[] = [...this.types].map(([name, type]) => {
      const base = this.variantOf.get(name);
      return base === undefined ? { name, type } : { name, type, variantOf: base };
    });
    return [
      ...all.filter((c) => !c.name.startsWith(RESERVED_PREFIX)),
      ...all.filter((c) => c.name.startsWith(RESERVED_PREFIX)),
    ];
  }

  public get size(): number {
    return this.types.size;
  }

  /** Source field → column for every field whose column name differs (for `SchemaVersion.names`). */
  public get names(): Record<string, string> {
    return Object.fromEntries(this.renamed);
  }

  /** The column a source field lands in (its primary-key column, say); resolves the name if new. */
  public columnName(field: string): string {
    return this.fields.get(field) ?? this.resolve(field);
  }

  /**
   * Where a field lands now and as which type, without mapping a new field;
   * undefined for a field not seen or declared yet.
   */
  public landing(
    field: string,
  ): { readonly column: string; readonly type: ColumnType | undefined } | undefined {
    const column = this.fields.get(field);
    return column === undefined ? undefined : { column, type: this.types.get(column) };
  }

  /**
   * What a batch must hold to, for `apply` to change nothing and hand back
   * its records as they are, when every record has `record`'s keys: the
   * converter checks it in the same pass as it converts (`FusedCheck`), so
   * the values are scanned once. Per key, the value types that land in its
   * column as they are and those `fits` must confirm (what `plan` would
   * route to the column without a change); keys with no typed column must
   * hold nulls. A renamed key is read into its column, as `route` would
   * rebuild the row. Undefined when changes are pending: the batch takes
   * `apply`.
   */
  public fusedCheck(record: SourceRecord): FusedCheck | undefined {
    if (this.pending.length > 0) return undefined;
    const keys: string[] = [];
    for (const key in record) keys.push(key);
    const columnOf = new Map<string, string>();
    const allowed = new Map<string, number>();
    const checked = new Map<string, number>();
    const nullOnly: string[] = [];
    let renamed = false;
    for (const key of keys) {
      const column = this.fields.get(key);
      if (column !== undefined && column !== key) renamed = true;
      const type = column === undefined ? undefined : this.types.get(column);
      if (type === undefined) {
        nullOnly.push(key);
        continue;
      }
      // An undeclared int column widens in place for a bigint value: a change, so not allowed here.
      const widens = !this.declared.has(column!) && widensInPlace(type, 'bigint');
      let yes = 0;
      let check = 0;
      for (const [bit, valueType] of BIT_TYPE) {
        if (widens && valueType === 'bigint') continue;
        const fit = holds(type, valueType);
        if (fit === 'yes') yes |= bit;
        else if (fit === 'check') check |= bit;
      }
      columnOf.set(key, column!);
      allowed.set(column!, yes);
      checked.set(column!, check);
    }
    return {
      keys,
      columnOf,
      renamed,
      allowed,
      checked,
      nullOnly,
      bit: inferTypeBit,
      bits: { boolean: BIT.boolean, int: BIT.int, double: BIT.double, string: BIT.string, all: ALL_BITS },
      fitsIn: (column) => {
        const type = this.types.get(column)!;
        return (value) => fits(value, type);
      },
    };
  }

  /** Evolves the schema for a batch and returns what changed (see `apply`). */
  public observe(records: readonly SourceRecord[]): SchemaChange[] {
    return this.apply(records).changes;
  }

  /**
   * Evolves the schema to hold every value of the batch, Athena-safely, and
   * maps the records to rows keyed by column name. Declared columns keep
   * their type; a value that does not fit its column goes to a variant.
   */
  public apply(records: readonly SourceRecord[]): { changes: SchemaChange[]; rows: readonly SourceRecord[] } {
    // Types seen per field in this batch, as bits.
    const seen = typesSeen(records);
    for (const field of resolutionOrder([...seen.keys()].filter((f) => !this.fields.has(f))))
      this.resolve(field);
    const changes = this.pending;
    this.pending = [];
    const plans = new Map<string, FieldPlan>();
    let direct = true;
    for (const [field, mask] of seen) {
      const plan = this.plan(field, mask, records, changes);
      plans.set(field, plan);
      if (!plan.direct || plan.column !== field) direct = false;
    }
    return { changes, rows: direct ? records : this.route(records, plans) };
  }

  private plan(
    field: string,
    mask: number,
    records: readonly SourceRecord[],
    changes: SchemaChange[],
  ): FieldPlan {
    const column = this.fields.get(field)!;
    const types = BIT_TYPE.filter(([bit]) => (mask & bit) !== 0).map(([, type]) => type);
    let type = this.types.get(column);
    if (type === undefined) {
      // A new column has no older files: the narrowest type that holds every value.
      type = types.reduce(widen);
      this.types.set(column, type);
      changes.push({ kind: 'added', column, from: undefined, to: type });
      return { column, type, direct: true, routes: new Map() };
    }
    if (!this.declared.has(column) && (mask & TYPE_BIT.bigint!) !== 0 && widensInPlace(type, 'bigint')) {
      changes.push({ kind: 'widened', column, from: type, to: 'bigint' });
      type = 'bigint';
      this.types.set(column, type);
    }
    const routes = new Map<ColumnType, Route>();
    let isDirect = true;
    for (const valueType of types) {
      const fit = holds(type, valueType);
      if (fit === 'yes') {
        routes.set(valueType, TO_COLUMN);
        continue;
      }
      // Every value fits after all (ISO strings in a timestamp column): no row needs rerouting.
      if (fit === 'check' && this.allFit(records, field, valueType, type)) {
        routes.set(valueType, TO_COLUMN);
        continue;
      }
      // A key in a variant column leaves the base column null, and the row out of `current`: refuse it,
      // unless the table has that variant already (landed before keys were refused), whose syncs go on.
      if (this.keyFields.has(field) && !this.variants.get(column)?.has(variantType(valueType)))
        this.refuseKey(records, field, column, type, valueType);
      isDirect = false;
      const variant = this.variantFor(column, type, valueType, changes);
      routes.set(valueType, fit === 'check' ? TO_CHECK : { to: 'variant', column: variant });
    }
    return { column, type, direct: isDirect, routes };
  }

  private refuseKey(
    records: readonly SourceRecord[],
    field: string,
    column: string,
    type: ColumnType,
    valueType: ColumnType,
  ): never {
    const value = records.find((r) => inferType(r[field]) === valueType && !fits(r[field], type))?.[field];
    const shown = typeof value === 'bigint' ? String(value) : JSON.stringify(value);
    throw new ValidationError(
      `primary-key field "${field}" has the value ${shown} (${valueType}), which its column ${column} (${type}) cannot hold; a key never goes to a variant column, where its rows would drop out of the current table. Fix the source, or declare the field's type (columns) and reset the stream with its table dropped`,
      { field },
    );
  }

  /** Whether every value of `valueType` of `field` fits `type` (then no variant is needed). */
  private allFit(
    records: readonly SourceRecord[],
    field: string,
    valueType: ColumnType,
    type: ColumnType,
  ): boolean {
    for (const record of records) {
      const value = record[field];
      if (inferType(value) === valueType && !fits(value, type)) return false;
    }
    return true;
  }

  /** The variant column of `column` for values of `valueType`; created (and recorded) on first use. */
  private variantFor(
    column: string,
    type: ColumnType,
    valueType: ColumnType,
    changes: SchemaChange[],
  ): string {
    const target = variantType(valueType);
    const existing = this.variants.get(column)?.get(target);
    if (existing !== undefined) return existing;
    const name = this.claim(`${column}__${target}`);
    this.types.set(name, target);
    this.addVariant(column, target, name);
    changes.push({ kind: 'variant', column: name, from: type, to: target, of: column });
    return name;
  }

  private addVariant(base: string, type: ColumnType, name: string): void {
    this.variantOf.set(name, base);
    let byType = this.variants.get(base);
    if (byType === undefined) {
      byType = new Map();
      this.variants.set(base, byType);
    }
    byType.set(type, name);
  }

  /** Rows keyed by column, each value in the column it fits. */
  private route(records: readonly SourceRecord[], plans: ReadonlyMap<string, FieldPlan>): SourceRecord[] {
    const rows: SourceRecord[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const row: SourceRecord = {};
      for (const name in record) {
        const value = record[name];
        if (value === null || value === undefined) continue;
        const plan = plans.get(name)!;
        if (plan.direct) {
          row[plan.column] = value;
          continue;
        }
        const valueType = inferType(value)!;
        const route = plan.routes.get(valueType)!;
        if (route.to === 'column') row[plan.column] = value;
        else if (route.to === 'variant') row[route.column] = value;
        else if (fits(value, plan.type)) row[plan.column] = value;
        else row[this.variants.get(plan.column)!.get(variantType(valueType))!] = value;
      }
      rows[i] = row;
    }
    return rows;
  }

  /** Chooses (once) the column of a source field. */
  private resolve(field: string): string {
    const keeps =
      field === DELETED_FIELD ||
      (this.types.has(field) && !this.renameTargets.has(field) && !this.variantOf.has(field));
    const column = keeps ? field : this.claim(normalizeName(field));
    this.taken.add(column.toLowerCase());
    this.fields.set(field, column);
    if (column !== field) {
      this.renamed.set(field, column);
      this.renameTargets.add(column);
      const normal = normalizeName(field);
      const reason = column === normal ? undefined : `"${normal}" is taken`;
      this.pending.push({
        kind: 'renamed',
        column,
        from: undefined,
        to: this.types.get(column) ?? 'string',
        of: field,
        ...(reason ? { reason } : {}),
      });
    }
    return column;
  }

  /** `wanted`, or `wanted_2`, `wanted_3`, … : the first name not yet taken, ignoring case. */
  private claim(wanted: string): string {
    let name = wanted;
    for (let k = 2; this.taken.has(name.toLowerCase()); k++) {
      const suffix = `_${k}`;
      name = `${wanted.slice(0, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
    }
    this.taken.add(name.toLowerCase());
    return name;
  }
}

/**
 * The order new fields claim names in, independent of record key order:
 * fields already in normal form first (so `id` keeps `id` and `ID` becomes
 * `id_2`), then by code units.
 */
function resolutionOrder(fields: readonly string[]): string[] {
  return [...fields].sort((a, b) => {
    const na = normalizeName(a) === a ? 0 : 1;
    const nb = normalizeName(b) === b ? 0 : 1;
    if (na !== nb) return na - nb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}
