/**
 * Rows → Arrow column buffers, by hand. A converter is generated once per
 * column list (a `new Function` with every column name as a literal key), so
 * each field is read through a monomorphic named-property load in one pass
 * over the rows, and the common value of each type is stored with no call.
 * Anything else goes to the slow paths in values.ts; a value that cannot be
 * converted throws a ParquetConversionError naming the column and the row.
 *
 * Output buffers are freshly allocated per group; arrow.ts lays them out as
 * one Arrow IPC stream for the encoder.
 */
import { type ColumnKind, columnKind, parseDecimalType } from '../../connectors/sdk/column-types.js';
import type { ColumnType } from '../../connectors/sdk/types.js';
import { ParquetConversionError, ParquetError } from './errors.js';
import { type TextEntries, TextInterner } from './text-ids.js';
import {
  parseDateDays,
  parseTimestampMicros,
  parseUtcTimestampMicros,
  SAFE_MICROS,
  smallDecimalUnscaled,
  toBoolean,
  toDateDays,
  toDecimalUnscaled,
  toDouble,
  toInt32,
  toInt64,
  toJsonText,
  toStringValue,
  toTimestampMicros,
  toTimestampMicrosExact,
} from './values.js';

export interface ParquetColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/** One column of one row group as Arrow buffers. */
export interface ColumnData {
  /** Arrow validity bitmap (bit set = value present); null when the column has no nulls. */
  readonly validity: Uint8Array | null;
  readonly nullCount: number;
  /**
   * boolean: bit-packed values; int, date: int32 words; bigint, timestamp:
   * int64 as little-endian int32 word pairs; decimal: int128 as four
   * little-endian int32 words; double: float64; string, json: UTF-8 bytes.
   */
  readonly values: Uint8Array | Int32Array | Float64Array;
  /** Byte offsets into `values` (length rows + 1) for string and json columns. */
  readonly offsets: Int32Array | null;
  /**
   * string columns a writer numbers (text-ids.ts): each row's id in the
   * column's interner, -1 for null. Then `values` may be empty and `offsets`
   * count UTF-16 units (they size the row group, no more); the values
   * themselves reach the encoder through `RowConverter.drainText`.
   */
  readonly ids?: Int32Array;
}

export interface RowGroupData {
  readonly rows: number;
  readonly columns: readonly ColumnData[];
}

/**
 * What lets a batch of records be converted as they are, with no schema step
 * before it (StreamSchema.fusedCheck): the converter checks every record and
 * value against it in the same pass and gives up (`convertIfFits` returns
 * undefined) at the first that does not hold, so the caller can take the
 * full schema step instead.
 */
export interface FusedCheck {
  /** Every record's keys as `for…in` lists them, in this order. */
  readonly keys: readonly string[];
  /** The column of each key that has a typed one (its own name, or the name it was renamed to). */
  readonly columnOf: ReadonlyMap<string, string>;
  /**
   * Some key lands in a column of another name: the schema step would rebuild
   * each row with only the keys' columns, so any other column is null, and
   * records must be plain (prototype Object's or none) for that to hold.
   */
  readonly renamed: boolean;
  /** By column name, for columns named by a key: type bits (`bit`) whose values land as they are. */
  readonly allowed: ReadonlyMap<string, number>;
  /** By column name: type bits whose values land only where `fits` holds. */
  readonly checked: ReadonlyMap<string, number>;
  /** Keys with no column (or none typed yet): they must hold only null or undefined. */
  readonly nullOnly: readonly string[];
  /** A value's type bit (0 for null or undefined). */
  readonly bit: (value: unknown) => number;
  /**
   * The bits `bit` gives plain values, so common values are checked inline
   * (`typeof`) without calling it; `all`: every bit it can give.
   */
  readonly bits: {
    readonly boolean: number;
    readonly int: number;
    readonly double: number;
    readonly string: number;
    readonly all: number;
  };
  /** The test of whether a value of a `checked` type lands in the column. */
  readonly fitsIn: (column: string) => (value: unknown) => boolean;
}

/** The check as the fused loop reads it (its masks are literals of the generated code). */
interface FusedRuntime {
  readonly bit: (value: unknown) => number;
  /** The canonical ISO text parse, whose result a timestamp column's conversion takes as it is. */
  readonly utc: (text: string) => number;
  /** By column index: `FusedCheck.fitsIn` of the column (unused where no type is checked). */
  readonly fits: readonly ((value: unknown) => boolean)[];
}

/** Mutable per-group state the generated loop writes into. */
interface ColumnState {
  nulls: number[];
  /** bool values bitmap, int32 words, float64 values or int64 word pairs. */
  values: Uint8Array | Int32Array | Float64Array;
  /** string/json: every non-null value in row order, and the UTF-16 end offset of each row. */
  strings: string[];
  offsets: Int32Array | null;
}

type Fail = (column: number, row: number, value: unknown) => never;

/** Slow paths called from generated code; each returns the converted value or throws. */
interface Helpers {
  int32(v: unknown, column: number, row: number): number;
  int64(v: unknown, column: number, row: number, words: Int32Array): void;
  double(v: unknown, column: number, row: number): number;
  bool(v: unknown, column: number, row: number): boolean;
  tsString(v: string, column: number, row: number): number;
  ts(v: unknown, column: number, row: number): number;
  /** A timestamp whose microseconds tsString / ts returned outside ±2^53, recomputed exactly. */
  tsExact(v: unknown, column: number, row: number, words: Int32Array): void;
  dateString(v: string, column: number, row: number): number;
  date(v: unknown, column: number, row: number): number;
  str(v: unknown, column: number, row: number): string;
  json(v: unknown, column: number, row: number): string | null;
  decimal(v: unknown, column: number, row: number, words: Int32Array): void;
}

type Loop = (rows: readonly Record<string, unknown>[], n: number, state: ColumnState[], h: Helpers) => void;
/** The fused loop: false as soon as a record or value does not hold (see FusedCheck). */
type FusedLoop = (
  rows: readonly Record<string, unknown>[],
  n: number,
  state: ColumnState[],
  h: Helpers,
  f: FusedRuntime,
) => boolean;

const TWO_32 = 4_294_967_296;
/**
 * UTF-16 units of text joined into one string before it is UTF-8 encoded:
 * the joined string stays below V8's large-object size (128 KiB), so it dies
 * young instead of landing in old space, which only a full collection frees.
 */
export const TEXT_CHUNK = 1 << 15;
const MAX_BYTES = 2_147_483_647;
/** Fused loops kept per converter (one per key list and type masks seen). */
const MAX_FUSED_LOOPS = 8;

/** Converts one row group's rows to column buffers; reuse one per column list. */
export class RowConverter {
  private readonly loops = new Map<string, Loop>();
  private readonly fusedLoops = new Map<string, FusedLoop>();
  private readonly helpers: Helpers;
  /** One-column converters for constants, by column index. */
  private readonly singles = new Map<number, RowConverter>();

  /** By column: the interner of a string column whose values are numbered (see text-ids.ts). */
  private readonly interners: readonly (TextInterner | undefined)[];

  /** `internText`: number the values of string columns as they are converted (ColumnData.ids). */
  public constructor(
    private readonly columns: readonly ParquetColumn[],
    internText = false,
  ) {
    this.interners = columns.map((c) => (internText && c.type === 'string' ? new TextInterner() : undefined));
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c.name)) throw new ParquetError(`Duplicate Parquet column "${c.name}"`);
      seen.add(c.name);
    }
    this.helpers = makeHelpers(columns);
  }

  /**
   * Numbered text (ColumnData.ids) of column `j` as UTF-8, for a row group
   * that already holds the column as text (the interner stopped, or the
   * rows came as column buffers).
   */
  public textOf(j: number, ids: Int32Array, nullCount: number): ColumnData {
    const interner = this.interners[j];
    if (interner === undefined) throw new ParquetError(`Column ${j} has no numbered text`);
    const n = ids.length;
    const state = newState('string', n);
    state.strings = new Array<string>(n - nullCount);
    const offsets = state.offsets!;
    let k = 0;
    for (let row = 0; row < n; row++) {
      const id = ids[row]!;
      if (id < 0) state.nulls.push(row);
      else {
        const value = interner.valueOf(id);
        state.strings[k++] = value;
        offsets[row + 1] = offsets[row]! + value.length;
        continue;
      }
      offsets[row + 1] = offsets[row]!;
    }
    return finishColumn('string', n, state);
  }

  /** The values column `j`'s interner numbered since the last call; undefined if it has none. */
  public drainText(j: number): TextEntries | undefined {
    return this.interners[j]?.drain();
  }

  /** Converts `rows`; columns named in `constants` take that value on every row. */
  public convert(
    rows: readonly Record<string, unknown>[],
    constants?: Readonly<Record<string, unknown>>,
  ): RowGroupData {
    const n = rows.length;
    const constant = this.columns.map((c) => constants !== undefined && Object.hasOwn(constants, c.name));
    const state = this.columns.map((c, j) => newState(columnKind(c.type), constant[j] ? 0 : n, true));
    this.loopFor(constant)(rows, n, state, this.helpers);
    return this.group(n, constant, state, constants);
  }

  /**
   * `convert`, when every record and value holds to `check` (a batch the
   * schema would take as it is); undefined as soon as one does not, or a
   * value cannot be converted (whatever the error): nothing is kept, and the
   * caller takes the schema step and converts its rows with `convert`.
   */
  public convertIfFits(
    rows: readonly Record<string, unknown>[],
    constants: Readonly<Record<string, unknown>> | undefined,
    check: FusedCheck,
  ): RowGroupData | undefined {
    const n = rows.length;
    const constant = this.columns.map((c) => constants !== undefined && Object.hasOwn(constants, c.name));
    const index = new Map(this.columns.map((c, j) => [c.name, j]));
    const allowed = new Int32Array(this.columns.length);
    const checked = new Int32Array(this.columns.length);
    for (const column of check.columnOf.values()) {
      const j = index.get(column);
      // A key's column must be one of the written columns (and not a constant one) to be read into.
      if (j === undefined || constant[j]) return undefined;
      allowed[j] = check.allowed.get(column)!;
      checked[j] = check.checked.get(column)!;
    }
    const never = (): boolean => false;
    const runtime: FusedRuntime = {
      bit: check.bit,
      utc: parseUtcTimestampMicros,
      fits: this.columns.map((c, j) => (checked[j] === 0 ? never : check.fitsIn(c.name))),
    };
    const loop = this.fusedLoopFor(constant, check, allowed, checked);
    const state = this.columns.map((c, j) => newState(columnKind(c.type), constant[j] ? 0 : n, true));
    try {
      if (!loop(rows, n, state, this.helpers, runtime)) return undefined;
    } catch {
      // A value that does not convert: the schema step and `convert` meet it again and fail (or not)
      // as they always do, with their own error.
      return undefined;
    }
    return this.group(n, constant, state, constants);
  }

  /** The group of `n` converted rows: each column from its state, or its constant repeated. */
  private group(
    n: number,
    constant: readonly boolean[],
    state: ColumnState[],
    constants: Readonly<Record<string, unknown>> | undefined,
  ): RowGroupData {
    return {
      rows: n,
      columns: this.columns.map((c, j) => {
        const interner = this.interners[j];
        if (constant[j]) {
          const value = constants![c.name];
          // Past 2 GiB the UTF-16 offsets would wrap: the text path refuses such a group, naming why.
          const numbered =
            interner !== undefined && typeof value === 'string' && n * value.length <= MAX_BYTES;
          const ids = numbered ? interner.repeat(value as string, n) : undefined;
          if (ids === undefined) return this.constantColumn(j, n, value);
          // Numbered: the value's UTF-8 is not repeated per row (see ColumnData.ids).
          const offsets = new Int32Array(n + 1);
          for (let i = 1; i <= n; i++) offsets[i] = i * (value as string).length;
          return { validity: null, nullCount: 0, values: NO_TEXT, offsets, ids };
        }
        const s = state[j]!;
        const ids = interner?.idsOf(s.strings, s.nulls, n);
        // No value is longer than the longest numbered one, so the UTF-16 offsets stayed within 2 GiB.
        if (ids === undefined || n * interner!.longest > MAX_BYTES)
          return finishColumn(columnKind(c.type), n, s);
        // Numbered: no UTF-8 (the encoder gets each distinct value's once); offsets stay in UTF-16 units.
        return {
          validity: validityFor(n, s.nulls),
          nullCount: s.nulls.length,
          values: NO_TEXT,
          offsets: s.offsets,
          ids,
        };
      }),
    };
  }

  /**
   * A group from column buffers already in Arrow layout (a connector's column
   * batch): `data` by column name; columns named in `constants` take that
   * value on every row; any other column is null on every row.
   */
  public assemble(
    n: number,
    data: Readonly<Record<string, ColumnData>>,
    constants?: Readonly<Record<string, unknown>>,
  ): RowGroupData {
    return {
      rows: n,
      columns: this.columns.map((c, j) => {
        const given = Object.hasOwn(data, c.name) ? data[c.name] : undefined;
        if (given !== undefined) return checkedColumn(c, columnKind(c.type), n, given);
        const value = constants !== undefined && Object.hasOwn(constants, c.name) ? constants[c.name] : null;
        return this.constantColumn(j, n, value);
      }),
    };
  }

  private loopFor(constant: readonly boolean[]): Loop {
    const key = constant.map((b) => (b ? '1' : '0')).join('');
    let loop = this.loops.get(key);
    if (loop === undefined) {
      loop = generateLoop(this.columns, constant);
      this.loops.set(key, loop);
    }
    return loop;
  }

  private fusedLoopFor(
    constant: readonly boolean[],
    check: FusedCheck,
    allowed: Int32Array,
    checked: Int32Array,
  ): FusedLoop {
    const key = JSON.stringify([
      constant,
      check.keys,
      check.nullOnly,
      [...check.columnOf],
      check.renamed,
      [...allowed],
      [...checked],
    ]);
    let loop = this.fusedLoops.get(key);
    if (loop === undefined) {
      // Records whose keys vary from batch to batch would compile a loop per batch: keep a few.
      if (this.fusedLoops.size >= MAX_FUSED_LOOPS) this.fusedLoops.clear();
      loop = generateFusedLoop(this.columns, constant, check, allowed, checked);
      this.fusedLoops.set(key, loop);
    }
    return loop;
  }

  /** Converts the constant once through the same per-row code, then repeats it. */
  private constantColumn(j: number, n: number, value: unknown): ColumnData {
    const column = this.columns[j]!;
    let single = this.singles.get(j);
    if (single === undefined) {
      single = new RowConverter([column]);
      this.singles.set(j, single);
    }
    return repeatColumn(columnKind(column.type), single.convertSingle(value), n);
  }

  private convertSingle(value: unknown): ColumnData {
    const name = this.columns[0]!.name;
    try {
      return this.convert([{ [name]: value }]).columns[0]!;
    } catch (error) {
      if (error instanceof ParquetConversionError) {
        throw new ParquetError(`Cannot convert constant for column "${name}": ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

/** Bytes (or words) a column of `n` rows needs, checked so a short buffer fails here and not in the encoder. */
function checkedColumn(column: ParquetColumn, kind: ColumnKind, n: number, data: ColumnData): ColumnData {
  const words: Partial<Record<ColumnKind, number>> = {
    int: 1,
    date: 1,
    bigint: 2,
    timestamp: 2,
    decimal: 4,
    double: 1,
  };
  const bad = (what: string): never => {
    throw new ParquetError(`Column batch for "${column.name}" (${column.type}) has ${what} for ${n} rows`);
  };
  if (data.validity !== null && data.validity.byteLength < (n + 7) >> 3) bad('a short validity bitmap');
  if (kind === 'string' || kind === 'json') {
    if (data.offsets === null || data.offsets.length < n + 1) bad('too few offsets');
    if (!(data.values instanceof Uint8Array) || data.values.byteLength < data.offsets![n]!)
      bad('too few bytes');
    return data;
  }
  if (kind === 'boolean') {
    if (!(data.values instanceof Uint8Array) || data.values.byteLength < (n + 7) >> 3) bad('a short bitmap');
    return data;
  }
  const per = words[kind]!;
  const ok = kind === 'double' ? data.values instanceof Float64Array : data.values instanceof Int32Array;
  if (!ok || data.values.length < n * per) bad('too few values');
  return data;
}

/** Empty buffers for `n` rows; `gather`: also a list sized for the column's text (the converter's). */
function newState(type: ColumnKind, n: number, gather = false): ColumnState {
  const state: ColumnState = { nulls: [], values: new Uint8Array(0), strings: [], offsets: null };
  switch (type) {
    case 'boolean':
      state.values = new Uint8Array((n + 7) >> 3);
      break;
    case 'int':
    case 'date':
      state.values = new Int32Array(n);
      break;
    case 'bigint':
    case 'timestamp':
      state.values = new Int32Array(n * 2);
      break;
    case 'double':
      state.values = new Float64Array(n);
      break;
    case 'decimal':
      state.values = new Int32Array(n * 4);
      break;
    case 'string':
    case 'json':
      state.offsets = new Int32Array(n + 1);
      // Sized once, not grown push by push. Only up to the default group of 65,536 rows: V8 makes
      // `new Array(n)` a slow dictionary beyond 100,000 elements, so larger batches grow as before.
      if (gather) state.strings = n <= 65_536 ? new Array<string>(n) : [];
      break;
  }
  return state;
}

/**
 * JS that reads field `name` of record `r` into `x`. A name every object
 * inherits (`constructor`) is read only from the record itself: a record
 * without the field holds no value, not Object's constructor.
 */
function readField(name: string): string {
  const key = JSON.stringify(name);
  return name in Object.prototype
    ? `x = Object.hasOwn(r, ${key}) ? r[${key}] : undefined;`
    : `x = r[${key}];`;
}

/**
 * JS for one column of the loop body; `x` holds the field value, `i` the row.
 * `parsed`: a timestamp column whose text was parsed already, into `m` (NaN
 * where the canonical parse did not take it).
 */
function columnCode(type: ColumnKind, j: number, name: string, reads = true, parsed = false): string {
  const read = reads ? readField(name) : '';
  const nul = `else if (x === null || x === undefined) n${j}.push(i);`;
  switch (type) {
    case 'boolean':
      return `${read}
      if (x === true) v${j}[i >> 3] |= 1 << (i & 7);
      else if (x === false) {}
      ${nul}
      else if (h.bool(x, ${j}, i)) v${j}[i >> 3] |= 1 << (i & 7);`;
    case 'int':
      return `${read}
      if (typeof x === 'number' && (x | 0) === x) v${j}[i] = x;
      ${nul}
      else v${j}[i] = h.int32(x, ${j}, i);`;
    case 'bigint':
      return `${read}
      if (typeof x === 'number' && (x >>> 0) === x) v${j}[i << 1] = x;
      ${nul}
      else h.int64(x, ${j}, i, v${j});`;
    case 'double':
      return `${read}
      if (typeof x === 'number') v${j}[i] = x;
      ${nul}
      else v${j}[i] = h.double(x, ${j}, i);`;
    case 'timestamp':
      return `${read}
      if (x === null || x === undefined) n${j}.push(i);
      else {
        y = x;
        x = typeof x === 'string' ? ${parsed ? `(m === m ? m : h.tsString(x, ${j}, i))` : `h.tsString(x, ${j}, i)`} : h.ts(x, ${j}, i);
        if (x < ${SAFE_MICROS} && x > -${SAFE_MICROS}) {
          hi = Math.floor(x / ${TWO_32});
          v${j}[i << 1] = x - hi * ${TWO_32};
          v${j}[(i << 1) + 1] = hi;
        } else h.tsExact(y, ${j}, i, v${j});
      }`;
    case 'date':
      return `${read}
      if (typeof x === 'string') v${j}[i] = h.dateString(x, ${j}, i);
      ${nul}
      else v${j}[i] = h.date(x, ${j}, i);`;
    case 'decimal':
      return `${read}
      if (x === null || x === undefined) n${j}.push(i);
      else h.decimal(x, ${j}, i, v${j});`;
    case 'string':
      return `${read}
      if (typeof x === 'string') { s${j}[k${j}++] = x; t${j} += x.length; }
      ${nul}
      else { x = h.str(x, ${j}, i); s${j}[k${j}++] = x; t${j} += x.length; }
      o${j}[i + 1] = t${j};`;
    case 'json':
      return `${read}
      if (typeof x === 'string') { s${j}[k${j}++] = x; t${j} += x.length; }
      ${nul}
      else {
        x = h.json(x, ${j}, i);
        if (x === null) n${j}.push(i); else { s${j}[k${j}++] = x; t${j} += x.length; }
      }
      o${j}[i + 1] = t${j};`;
  }
}

/** Declarations, per-row statements and closing statements of a loop over `columns`. */
function loopParts(
  columns: readonly ParquetColumn[],
  constant: readonly boolean[],
  /** Per column: code run on the value first (it then holds in `x`), or undefined to read it as usual. */
  prelude: (c: ParquetColumn, j: number) => string | undefined = () => undefined,
  /** Timestamp columns whose prelude parsed their text into `m`. */
  parsed: ReadonlySet<number> = new Set(),
): { head: string[]; body: string[]; tail: string[] } {
  const head: string[] = [];
  const body: string[] = [];
  const tail: string[] = [];
  columns.forEach((c, j) => {
    if (constant[j]) return;
    head.push(`const c${j} = state[${j}], v${j} = c${j}.values, n${j} = c${j}.nulls;`);
    if (c.type === 'string' || c.type === 'json') {
      head.push(`const s${j} = c${j}.strings, o${j} = c${j}.offsets; let t${j} = 0, k${j} = 0;`);
      tail.push(`s${j}.length = k${j};`);
    }
    const first = prelude(c, j);
    body.push(
      `// ${JSON.stringify(c.name)} (${c.type})\n      ${first ?? ''}${columnCode(columnKind(c.type), j, c.name, first === undefined, parsed.has(j))}`,
    );
  });
  return { head, body, tail };
}

function generateLoop(columns: readonly ParquetColumn[], constant: readonly boolean[]): Loop {
  const { head, body, tail } = loopParts(columns, constant);
  const source = `'use strict';
    ${head.join('\n    ')}
    let x, y, hi;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      ${body.join('\n      ')}
    }
    ${tail.join('\n    ')}`;
  // Generated code is the point of this module: names enter only as JSON string literals.
  return new Function('rows', 'n', 'state', 'h', source) as Loop;
}

/**
 * The loop of `generateLoop`, checking as it goes what the schema's scan of
 * the batch would have found (FusedCheck): each record's keys (in order, as
 * for…in lists them), that keys without a column hold nulls, and each
 * value's type bit against its column's masks; a column that takes values
 * of every type as they are is not checked. False at the first miss.
 */
function generateFusedLoop(
  columns: readonly ParquetColumn[],
  constant: readonly boolean[],
  check: FusedCheck,
  allowed: Int32Array,
  checked: Int32Array,
): FusedLoop {
  const { keys, nullOnly, bits, renamed } = check;
  /** Column → the key read into it. */
  const source = new Map([...check.columnOf].map(([key, column]) => [column, key] as const));
  // Text bound for a timestamp column is parsed once: the canonical form both fits and converts to that.
  const parsed = new Set(
    columns.flatMap((c, j) =>
      source.has(c.name) && columnKind(c.type) === 'timestamp' && (checked[j]! & bits.string) !== 0
        ? [j]
        : [],
    ),
  );
  const { head, body, tail } = loopParts(
    columns,
    constant,
    (c, j) => {
      const key = source.get(c.name);
      // A rebuilt row holds only the keys' columns.
      if (key === undefined) return renamed ? 'x = undefined;\n      ' : undefined;
      const read = `${readField(key)}\n      `;
      const a = allowed[j]!;
      if ((a & bits.all) === bits.all) return read;
      // Values whose bit is surely allowed, tested without calling \`bit\`.
      const surely = [
        ...(a & bits.int ? ["(typeof x === 'number' && (x | 0) === x)"] : []),
        ...(a & bits.double ? ["(typeof x === 'number' && !Number.isInteger(x))"] : []),
        ...(a & bits.string ? ["typeof x === 'string'"] : []),
        ...(a & bits.boolean ? ["typeof x === 'boolean'"] : []),
      ];
      const test = `b = bit(x); if ((b & ${a}) === 0 && ((b & ${checked[j]}) === 0 || !fits[${j}](x))) return false;`;
      const other = `x !== null && x !== undefined${surely.length > 0 ? ` && !(${surely.join(' || ')})` : ''}`;
      if (!parsed.has(j)) return `${read}if (${other}) { ${test} }\n      `;
      return `${read}m = NaN;
      if (typeof x === 'string') { m = utc(x); if (m !== m && !fits[${j}](x)) return false; }
      else if (${other}) { ${test} }
      `;
    },
    parsed,
  );
  const nulls = nullOnly.map((k) => `${readField(k)} if (x !== null && x !== undefined) return false;`);
  const plain = renamed
    ? `p = Object.getPrototypeOf(r); if (p !== Object.prototype && p !== null) return false;`
    : '';
  // for-in, as the schema's scan lists keys (inherited enumerable ones too), without allocating.
  const code = `'use strict';
    ${head.join('\n    ')}
    const bit = f.bit, fits = f.fits, utc = f.utc, K = ${JSON.stringify(keys)};
    let x, y, hi, b, k, p, m;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (typeof r !== 'object' || r === null) return false;
      ${plain}
      k = 0;
      for (const key in r) if (key !== K[k++]) return false;
      if (k !== ${keys.length}) return false;
      ${nulls.join('\n      ')}
      ${body.join('\n      ')}
    }
    ${tail.join('\n    ')}
    return true;`;
  // Generated code is the point of this module: names enter only as JSON string literals.
  return new Function('rows', 'n', 'state', 'h', 'f', code) as FusedLoop;
}

function makeHelpers(columns: readonly ParquetColumn[]): Helpers {
  const fail: Fail = (column, row, value) => {
    const c = columns[column]!;
    throw new ParquetConversionError(c.name, c.type, row, value);
  };
  const decimals = columns.map((c) => parseDecimalType(c.type));
  const check = (n: number, column: number, row: number, value: unknown): number =>
    Number.isNaN(n) ? fail(column, row, value) : n;
  return {
    int32: (v, column, row) => check(toInt32(v), column, row, v),
    int64: (v, column, row, words) => {
      const n = toInt64(v);
      if (n === undefined) fail(column, row, v);
      if (typeof n === 'bigint') {
        words[row << 1] = Number(BigInt.asIntN(32, n));
        words[(row << 1) + 1] = Number(BigInt.asIntN(32, n >> 32n));
      } else {
        const hi = Math.floor(n / TWO_32);
        words[row << 1] = n - hi * TWO_32;
        words[(row << 1) + 1] = hi;
      }
    },
    double: (v, column, row) => {
      const n = toDouble(v);
      return Number.isNaN(n) && !(typeof v === 'string' && v.trim() === 'NaN') ? fail(column, row, v) : n;
    },
    bool: (v, column, row) => toBoolean(v) ?? fail(column, row, v),
    tsString: (v, column, row) => check(parseTimestampMicros(v), column, row, v),
    ts: (v, column, row) => check(toTimestampMicros(v), column, row, v),
    tsExact: (v, column, row, words) => {
      const micros = toTimestampMicrosExact(v);
      if (micros === undefined) fail(column, row, v);
      words[row << 1] = Number(BigInt.asIntN(32, micros));
      words[(row << 1) + 1] = Number(BigInt.asIntN(32, micros >> 32n));
    },
    dateString: (v, column, row) => check(parseDateDays(v), column, row, v),
    date: (v, column, row) => check(toDateDays(v), column, row, v),
    str: (v, column, row) => {
      try {
        return toStringValue(v);
      } catch (cause) {
        // No text for the value (an invalid Date, a circular or throwing toJSON): name the column and row.
        const c = columns[column]!;
        throw new ParquetConversionError(c.name, c.type, row, v, { cause });
      }
    },
    json: (v, column, row) => {
      try {
        return toJsonText(v) ?? null;
      } catch (cause) {
        const c = columns[column]!;
        throw new ParquetConversionError(c.name, c.type, row, v, { cause });
      }
    },
    decimal: (v, column, row, words) => {
      const spec = decimals[column]!;
      const small = typeof v === 'string' ? smallDecimalUnscaled(v, spec.precision, spec.scale) : Number.NaN;
      if (!Number.isNaN(small)) {
        // |small| < 2^53: the low word, then the high word sign-extended into the upper two.
        const hi = Math.floor(small / TWO_32);
        const base = row * 4;
        words[base] = small - hi * TWO_32;
        words[base + 1] = hi;
        words[base + 2] = hi < 0 ? -1 : 0;
        words[base + 3] = hi < 0 ? -1 : 0;
        return;
      }
      const n = toDecimalUnscaled(v, spec.precision, spec.scale);
      if (n === undefined) fail(column, row, v);
      for (let k = 0; k < 4; k++) words[row * 4 + k] = Number(BigInt.asIntN(32, n >> BigInt(32 * k)));
    },
  };
}

const NO_TEXT = new Uint8Array(0);

/** Bitmap with every row present except `nulls`. */
function validityFor(n: number, nulls: readonly number[]): Uint8Array | null {
  if (nulls.length === 0) return null;
  const bitmap = new Uint8Array((n + 7) >> 3).fill(0xff);
  for (const i of nulls) bitmap[i >> 3]! &= ~(1 << (i & 7));
  return bitmap;
}

function finishColumn(type: ColumnKind, n: number, state: ColumnState): ColumnData {
  const validity = validityFor(n, state.nulls);
  const nullCount = state.nulls.length;
  if (type !== 'string' && type !== 'json')
    return { validity, nullCount, values: state.values, offsets: null };
  const { data, offsets } = encodeStrings(state.strings, state.offsets!, n);
  return { validity, nullCount, values: data, offsets };
}

/**
 * UTF-8 encodes a column's strings with one native write per chunk of their
 * concatenation (`join` over slices of about TEXT_CHUNK units). Per-string
 * native writes cost more; `+=` ropes cost the same CPU but allocate a cons
 * string per value (issue 13: 1.24 → 0.92 GB allocated per 1M benchmark rows
 * with the preallocated `strings`).
 * `offsets` holds UTF-16 offsets: when every char is ASCII they are the byte
 * offsets already, otherwise they are rebuilt from per-string UTF-8 lengths.
 */
function encodeStrings(
  strings: readonly string[],
  offsets: Int32Array,
  n: number,
): { data: Uint8Array; offsets: Int32Array } {
  const chunks = concatenate(strings);
  const lengths = chunks.map((c) => Buffer.byteLength(c, 'utf8'));
  const byteLength = lengths.reduce((a, b) => a + b, 0);
  if (byteLength > MAX_BYTES) {
    throw new ParquetError(
      'A row group holds more than 2 GiB of text in one column; write smaller row groups',
    );
  }
  const data = Buffer.allocUnsafeSlow(byteLength);
  let at = 0;
  chunks.forEach((c, k) => {
    data.write(c, at, lengths[k]!, 'utf8');
    at += lengths[k]!;
  });
  if (byteLength === offsets[n]) return { data, offsets };
  // Some text is not ASCII: byte offsets from each string's own UTF-8 length.
  // `strings` holds every non-null value in row order; rows with no text (null or '') add nothing.
  let k = 0;
  let total = 0;
  let previous = 0;
  for (let i = 1; i <= n; i++) {
    const end = offsets[i]!;
    if (end !== previous) {
      let text = strings[k++]!;
      while (text.length === 0) text = strings[k++]!;
      total += Buffer.byteLength(text, 'utf8');
      previous = end;
    }
    offsets[i] = total;
  }
  if (total === byteLength) return { data, offsets };
  // Lone surrogates at row edges paired up across rows in the joined text: encode one by one.
  const exact = Buffer.allocUnsafeSlow(total);
  at = 0;
  for (const text of strings) {
    if (text.length > 0) at += exact.write(text, at, 'utf8');
  }
  return { data: exact, offsets };
}

/**
 * The strings concatenated in order, cut between strings once a chunk holds
 * TEXT_CHUNK UTF-16 units (a longer string is a chunk's last). Exported for
 * its tests: a chunk lost here would only show as encodeStrings' slow exact
 * path, which repairs the bytes.
 */
export function concatenate(strings: readonly string[]): string[] {
  const chunks: string[] = [];
  let start = 0;
  let chars = 0;
  for (let i = 0; i < strings.length; i++) {
    chars += strings[i]!.length;
    if (chars >= TEXT_CHUNK) {
      chunks.push(strings.slice(start, i + 1).join(''));
      start = i + 1;
      chars = 0;
    }
  }
  if (start < strings.length || chunks.length === 0) chunks.push(strings.slice(start).join(''));
  return chunks;
}

/** A one-row column repeated `n` times. */
function repeatColumn(type: ColumnKind, one: ColumnData, n: number): ColumnData {
  if (one.nullCount === 1) {
    const state = newState(type, n);
    const values = type === 'string' || type === 'json' ? new Uint8Array(0) : state.values;
    return { validity: new Uint8Array((n + 7) >> 3), nullCount: n, values, offsets: state.offsets };
  }
  switch (type) {
    case 'boolean':
      return {
        validity: null,
        nullCount: 0,
        values: new Uint8Array((n + 7) >> 3).fill(one.values[0] ? 0xff : 0),
        offsets: null,
      };
    case 'int':
    case 'date':
    case 'double': {
      const values = type === 'double' ? new Float64Array(n) : new Int32Array(n);
      values.fill(one.values[0]!);
      return { validity: null, nullCount: 0, values, offsets: null };
    }
    case 'bigint':
    case 'timestamp': {
      const values = new Int32Array(n * 2);
      new BigInt64Array(values.buffer).fill(new BigInt64Array(one.values.buffer)[0]!);
      return { validity: null, nullCount: 0, values, offsets: null };
    }
    case 'decimal': {
      const values = new Int32Array(n * 4);
      for (let i = 0; i < n; i++) values.set(one.values as Int32Array, i * 4);
      return { validity: null, nullCount: 0, values, offsets: null };
    }
    case 'string':
    case 'json': {
      const bytes = one.values as Uint8Array;
      const len = bytes.length;
      if (len * n > MAX_BYTES) {
        throw new ParquetError(
          'A constant repeated over the row group exceeds 2 GiB; write smaller row groups',
        );
      }
      const data = new Uint8Array(len * n);
      if (len > 0) {
        data.set(bytes, 0);
        for (let filled = len; filled < data.length; filled *= 2)
          data.copyWithin(filled, 0, Math.min(filled, data.length - filled));
      }
      const offsets = new Int32Array(n + 1);
      for (let i = 1; i <= n; i++) offsets[i] = i * len;
      return { validity: null, nullCount: 0, values: data, offsets };
    }
  }
}
