/**
 * The columnar fast path's decoder: `COPY (SELECT …) TO STDOUT (FORMAT
 * binary)` decoded as it streams in, straight into Arrow column buffers (a
 * `ColumnBatch`), with no JS object per row or per value.
 *
 * Each value lands exactly as the record path would land its text form
 * (connectors/postgres/mapping.ts): timestamps and dates clamped to
 * 0001–9999 the same way, `numeric(p,s)` as the unscaled decimal, text as
 * its UTF-8 bytes (the session's client encoding). A value the record path
 * would treat differently (a numeric NaN that goes to a variant column, a
 * clamped keyset key whose text no longer says where the chunk ended) marks
 * the chunk `fallback`: the reader reads that chunk again as records, in the
 * same snapshot, so the lake is the same either way.
 */
import type pg from 'pg';
import { type BatchColumn, type ColumnBatch, type ColumnVector, columnBatch } from '../sdk/column-batch.js';
import { parseDecimalType } from '../sdk/column-types.js';
import type { TableColumn } from './catalog.js';

/** How one selected column's binary value is decoded. */
export const Decode = {
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float8: 'float8',
  bool: 'bool',
  text: 'text',
  jsonb: 'jsonb',
  uuid: 'uuid',
  date: 'date',
  timestamp: 'timestamp',
  numeric: 'numeric',
  /** `tableoid` of a keyless table (key only, not landed). */
  oid: 'oid',
  /** `ctid` of a keyless table (key only, not landed). */
  tid: 'tid',
} as const;
export type Decode = (typeof Decode)[keyof typeof Decode];

/** Small integers for the per-value switch (cheaper than comparing strings). */
const CODE: Readonly<Record<Decode, number>> = {
  text: 0,
  int4: 1,
  int8: 2,
  timestamp: 3,
  float8: 4,
  bool: 5,
  numeric: 6,
  date: 7,
  int2: 8,
  jsonb: 9,
  uuid: 10,
  oid: 11,
  tid: 12,
};

const BY_TYPE: Readonly<Record<string, Decode>> = {
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float8: 'float8',
  bool: 'bool',
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  json: 'text',
  jsonb: 'jsonb',
  uuid: 'uuid',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
};

/**
 * How the fast path decodes a column, or undefined when it does not (the
 * table is then read as records). Arrays and composites are selected as
 * `to_json(…)::text`, so they decode as text.
 */
export function decodeOf(column: TableColumn): Decode | undefined {
  if (column.mapping.kind === 'json') return 'text';
  if (column.type.typname === 'numeric') {
    return parseDecimalType(column.mapping.columnType) ? 'numeric' : undefined;
  }
  return BY_TYPE[column.type.typname];
}

const TWO_32 = 4_294_967_296;
/** Microseconds and days from PostgreSQL's epoch (2000-01-01) to Unix's. */
const PG_EPOCH_MICROS = 946_684_800_000_000;
const PG_EPOCH_DAYS = 10_957;
const OFFSET_HI = Math.floor(PG_EPOCH_MICROS / TWO_32);
const OFFSET_LO = PG_EPOCH_MICROS - OFFSET_HI * TWO_32;
/** 0001-01-01 and 9999-12-31 as Unix days: what the record path clamps dates to. */
const MIN_DAYS = -719_162;
const MAX_DAYS = 2_932_896;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, as PostgreSQL-epoch int64 words. */
const MIN_TS = words(-62_135_596_800_000_000n - 946_684_800_000_000n);
const MAX_TS = words(253_402_300_799_999_999n - 946_684_800_000_000n);
const MIN_UNIX = words(-62_135_596_800_000_000n);
const MAX_UNIX = words(253_402_300_799_999_999n);

function words(n: bigint): readonly [number, number] {
  return [Number(BigInt.asIntN(32, n >> 32n)), Number(BigInt.asUintN(32, n))];
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export interface Builder {
  readonly name: string;
  readonly decode: Decode;
  readonly code: number;
  /** decimal scale, for numeric. */
  readonly scale: number;
  readonly precision: number;
  readonly validity: Uint8Array;
  nulls: number;
  readonly values: Uint8Array | Int32Array | Float64Array;
  bytes: Uint8Array;
  at: number;
  readonly offsets: Int32Array | null;
  /** A value was clamped (timestamps, dates beyond 0001–9999). */
  clamped: boolean;
}

export interface DecodedChunk {
  readonly rows: number;
  readonly batch: ColumnBatch;
  /** Per selected column (data columns, then key-only columns), its values (see `keyText`). */
  readonly builders: readonly Builder[];
  /** Why the chunk must be read as records instead; undefined when the batch is exact. */
  readonly fallback: string | undefined;
}

export interface SelectedColumn {
  readonly name: string;
  readonly decode: Decode;
  /** The lake type (data columns); undefined for key-only columns. */
  readonly type?: BatchColumn['type'];
}

function newBuilder(column: SelectedColumn, capacity: number, textBytes: number | undefined): Builder {
  const decimal = column.type ? parseDecimalType(column.type) : undefined;
  let values: Uint8Array | Int32Array | Float64Array;
  let offsets: Int32Array | null = null;
  switch (column.decode) {
    case 'bool':
      values = new Uint8Array((capacity + 7) >> 3);
      break;
    case 'int2':
    case 'int4':
    case 'date':
      values = new Int32Array(capacity);
      break;
    case 'int8':
    case 'timestamp':
    case 'tid':
      values = new Int32Array(capacity * 2);
      break;
    case 'oid':
    case 'float8':
      values = new Float64Array(capacity);
      break;
    case 'numeric':
      values = new Int32Array(capacity * 4);
      break;
    default:
      values = new Uint8Array(0);
      offsets = new Int32Array(capacity + 1);
  }
  return {
    name: column.name,
    decode: column.decode,
    code: CODE[column.decode],
    scale: decimal?.scale ?? 0,
    precision: decimal?.precision ?? 0,
    validity: new Uint8Array((capacity + 7) >> 3),
    nulls: 0,
    values,
    // Sized from the previous chunk's text when known: growing copies, and garbage drives the GC.
    bytes: offsets ? new Uint8Array(textBytes ?? Math.max(1024, capacity * 16)) : (values as Uint8Array),
    at: 0,
    offsets,
    clamped: false,
  };
}

/** Room for `more` bytes in a text builder. */
function reserve(b: Builder, more: number): Uint8Array {
  if (b.at + more <= b.bytes.length) return b.bytes;
  let size = b.bytes.length * 2;
  while (size < b.at + more) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(b.bytes.subarray(0, b.at));
  b.bytes = grown;
  return grown;
}

/** (hi, lo) < (bhi, blo), lo unsigned. */
function below(hi: number, lo: number, bound: readonly [number, number]): boolean {
  return hi < bound[0] || (hi === bound[0] && lo < bound[1]);
}

/**
 * Streams one binary COPY's rows into column builders. Feed it every CopyData
 * chunk in order (synchronously: the driver reuses the chunk's memory).
 */
export class CopyDecoder {
  private readonly builders: Builder[];
  private carry: Buffer | undefined;
  private headerDone = false;
  private ended = false;
  private rows = 0;
  private fallback: string | undefined;

  /** @param textBytes per column, the text bytes to reserve (e.g. from `textBytes()` of the previous chunk) */
  public constructor(
    private readonly columns: readonly SelectedColumn[],
    private readonly capacity: number,
    textBytes?: readonly number[],
  ) {
    this.builders = columns.map((c, j) => newBuilder(c, capacity, textBytes?.[j]));
  }

  /** Per column, text bytes worth reserving for a next chunk like this one (a little more than used). */
  public textBytes(): number[] {
    return this.builders.map((b) => Math.max(1024, Math.ceil(b.at * 1.05) + 256));
  }

  public feed(chunk: Buffer): void {
    let b = chunk;
    if (this.carry !== undefined) {
      b = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let p = 0;
    if (!this.headerDone) {
      if (b.length < 19) {
        this.carry = Buffer.from(b);
        return;
      }
      if (!b.subarray(0, 11).equals(SIGNATURE)) throw new Error('binary COPY output has no PGCOPY signature');
      const extension = b.readInt32BE(15);
      if (b.length < 19 + extension) {
        this.carry = Buffer.from(b);
        return;
      }
      p = 19 + extension;
      this.headerDone = true;
    }
    const n = b.length;
    const fields = this.builders.length;
    while (p + 2 <= n && !this.ended) {
      const count = b.readInt16BE(p);
      if (count === -1) {
        this.ended = true;
        p += 2;
        break;
      }
      if (count !== fields) throw new Error(`binary COPY row has ${count} fields, expected ${fields}`);
      // The whole row must be here before any of it is decoded.
      let q = p + 2;
      let complete = true;
      for (let j = 0; j < fields; j++) {
        if (q + 4 > n) {
          complete = false;
          break;
        }
        const len = b.readInt32BE(q);
        q += 4 + Math.max(len, 0);
        if (q > n) {
          complete = false;
          break;
        }
      }
      if (!complete) break;
      if (this.rows >= this.capacity) throw new Error(`binary COPY returned more than ${this.capacity} rows`);
      this.decodeRow(b, p + 2);
      p = q;
    }
    if (p < n && !this.ended) this.carry = Buffer.from(b.subarray(p));
  }

  private decodeRow(b: Buffer, start: number): void {
    const row = this.rows;
    const builders = this.builders;
    let p = start;
    for (let j = 0; j < builders.length; j++) {
      const c = builders[j]!;
      const len = b.readInt32BE(p);
      p += 4;
      if (len < 0) {
        c.nulls++;
        if (c.offsets !== null) c.offsets[row + 1] = c.at;
        continue;
      }
      c.validity[row >> 3]! |= 1 << (row & 7);
      switch (c.code) {
        case 0 /* text */:
          {
            const out = reserve(c, len);
            if (len < 48) for (let k = 0; k < len; k++) out[c.at + k] = b[p + k]!;
            else b.copy(out, c.at, p, p + len);
            c.at += len;
            c.offsets![row + 1] = c.at;
            break;
          }
        case 9 /* jsonb */:
          {
            // Version 1, then the same text jsonb_out prints.
            if (b[p] !== 1) this.fallback ??= `jsonb binary version ${b[p]} in column "${c.name}"`;
            const out = reserve(c, len - 1);
            b.copy(out, c.at, p + 1, p + len);
            c.at += len - 1;
            c.offsets![row + 1] = c.at;
            break;
          }
        case 1 /* int4 */:
          (c.values as Int32Array)[row] = b.readInt32BE(p);
          break;
        case 8 /* int2 */:
          (c.values as Int32Array)[row] = b.readInt16BE(p);
          break;
        case 2 /* int8 */:
          {
            const v = c.values as Int32Array;
            v[row << 1] = b.readInt32BE(p + 4);
            v[(row << 1) + 1] = b.readInt32BE(p);
            break;
          }
        case 4 /* float8 */:
          (c.values as Float64Array)[row] = b.readDoubleBE(p);
          break;
        case 5 /* bool */:
          if (b[p] !== 0) c.values[row >> 3]! |= 1 << (row & 7);
          break;
        case 7 /* date */:
          {
            const raw = b.readInt32BE(p);
            let days = raw + PG_EPOCH_DAYS;
            if (raw > MAX_DAYS - PG_EPOCH_DAYS) {
              days = MAX_DAYS;
              c.clamped = true;
            } else if (raw < MIN_DAYS - PG_EPOCH_DAYS) {
              days = MIN_DAYS;
              c.clamped = true;
            }
            (c.values as Int32Array)[row] = days;
            break;
          }
        case 3 /* timestamp */:
          this.timestamp(c, row, b.readInt32BE(p), b.readUInt32BE(p + 4));
          break;
        case 6 /* numeric */:
          if (!numeric(b, p, c, row))
            this.fallback ??= `a numeric value of "${c.name}" does not fit ${c.precision},${c.scale} (NaN or infinity)`;
          break;
        case 10 /* uuid */:
          {
            const out = reserve(c, 36);
            let at = c.at;
            for (let k = 0; k < 16; k++) {
              if (k === 4 || k === 6 || k === 8 || k === 10) out[at++] = 45;
              const hex = HEX[b[p + k]!]!;
              out[at++] = hex.charCodeAt(0);
              out[at++] = hex.charCodeAt(1);
            }
            c.at = at;
            c.offsets![row + 1] = at;
            break;
          }
        case 11 /* oid */:
          (c.values as Float64Array)[row] = b.readUInt32BE(p);
          break;
        case 12 /* tid */:
          {
            const v = c.values as Int32Array;
            v[row << 1] = b.readInt32BE(p);
            v[(row << 1) + 1] = b.readUInt16BE(p + 4);
            break;
          }
      }
      p += len;
    }
    this.rows++;
  }

  /** PostgreSQL-epoch micros (hi, lo) → Unix micros words, clamped to 0001–9999 as the record path does. */
  private timestamp(c: Builder, row: number, hi: number, lo: number): void {
    const v = c.values as Int32Array;
    let outHi: number;
    let outLo: number;
    if (below(hi, lo, MIN_TS)) {
      [outHi, outLo] = MIN_UNIX;
      c.clamped = true;
    } else if (!below(hi, lo, MAX_TS) && !(hi === MAX_TS[0] && lo === MAX_TS[1])) {
      [outHi, outLo] = MAX_UNIX;
      c.clamped = true;
    } else {
      const sum = lo + OFFSET_LO;
      const carry = sum >= TWO_32 ? 1 : 0;
      outLo = sum - carry * TWO_32;
      outHi = hi + OFFSET_HI + carry;
    }
    v[row << 1] = outLo;
    v[(row << 1) + 1] = outHi;
  }

  /** The decoded chunk; throws if the COPY ended early. */
  public finish(): DecodedChunk {
    if (!this.ended) throw new Error('binary COPY ended without its trailer');
    const rows = this.rows;
    const columns: BatchColumn[] = [];
    this.columns.forEach((column, j) => {
      if (column.type === undefined) return;
      columns.push({ name: column.name, type: column.type, data: vector(this.builders[j]!, rows) });
    });
    return { rows, batch: columnBatch(rows, columns), builders: this.builders, fallback: this.fallback };
  }
}

function vector(b: Builder, rows: number): ColumnVector {
  const validity = b.nulls === 0 ? null : b.validity.subarray(0, (rows + 7) >> 3);
  if (b.offsets !== null) {
    return {
      validity,
      nullCount: b.nulls,
      values: b.bytes.subarray(0, b.at),
      offsets: b.offsets.subarray(0, rows + 1),
    };
  }
  const per = b.decode === 'numeric' ? 4 : b.decode === 'int8' || b.decode === 'timestamp' ? 2 : 1;
  const values =
    b.decode === 'bool'
      ? (b.values as Uint8Array).subarray(0, (rows + 7) >> 3)
      : b.values instanceof Float64Array
        ? b.values.subarray(0, rows)
        : (b.values as Int32Array).subarray(0, rows * per);
  return { validity, nullCount: b.nulls, values, offsets: null };
}

const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * numeric's binary form (ndigits, weight, sign, dscale, base-10000 digits) →
 * the unscaled decimal(p,s) as four int32 words. False for NaN, ±infinity or
 * a value the column cannot hold.
 */
function numeric(b: Buffer, p: number, c: Builder, row: number): boolean {
  const ndigits = b.readInt16BE(p);
  const weight = b.readInt16BE(p + 2);
  const sign = b.readUInt16BE(p + 4);
  if (sign !== 0 && sign !== 0x4000) return false;
  const words = c.values as Int32Array;
  const base = row * 4;
  // Exponent (base 10) of the last digit group in the unscaled value.
  const shift = 4 * (weight - ndigits + 1) + c.scale;
  let small = 0;
  let exact = true;
  for (let k = 0; k < ndigits; k++) {
    // Past this, one more digit group could leave the exact integers of a double.
    if (small >= 900_719_925_474) {
      exact = false;
      break;
    }
    small = small * 10_000 + b.readInt16BE(p + 8 + 2 * k);
  }
  if (exact && shift >= -15 && shift <= 15) {
    let unscaled: number;
    if (shift >= 0) unscaled = small * POW10[shift]!;
    else {
      const div = POW10[-shift]!;
      if (small % div !== 0) return false;
      unscaled = small / div;
    }
    if (Number.isSafeInteger(unscaled)) {
      if (c.precision <= 15 && unscaled >= POW10[c.precision]!) return false;
      const value = sign === 0x4000 ? -unscaled : unscaled;
      const hi = Math.floor(value / TWO_32);
      words[base] = value - hi * TWO_32;
      words[base + 1] = hi;
      words[base + 2] = hi < 0 ? -1 : 0;
      words[base + 3] = hi < 0 ? -1 : 0;
      return true;
    }
  }
  let big = 0n;
  for (let k = 0; k < ndigits; k++) big = big * 10_000n + BigInt(b.readInt16BE(p + 8 + 2 * k));
  if (shift >= 0) big *= 10n ** BigInt(shift);
  else {
    const div = 10n ** BigInt(-shift);
    if (big % div !== 0n) return false;
    big /= div;
  }
  if (big >= 10n ** BigInt(c.precision)) return false;
  if (sign === 0x4000) big = -big;
  for (let k = 0; k < 4; k++) words[base + k] = Number(BigInt.asIntN(32, big >> BigInt(32 * k)));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Keyset keys: the last row's key in PostgreSQL's text form, for the checkpoint and next chunk.

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const utf8 = new TextDecoder('utf-8');

/**
 * The text PostgreSQL prints for row `row` of a key column (what the record
 * path reads back as the keyset position), or undefined when the value was
 * clamped or cannot be printed here (the chunk is then read as records).
 */
export function keyText(c: Builder, row: number, typname: string): string | undefined {
  if ((c.validity[row >> 3]! & (1 << (row & 7))) === 0) return undefined;
  switch (c.decode) {
    case 'int2':
    case 'int4':
      return String((c.values as Int32Array)[row]);
    case 'int8': {
      const v = c.values as Int32Array;
      return ((BigInt(v[(row << 1) + 1]!) << 32n) | BigInt(v[row << 1]! >>> 0)).toString();
    }
    case 'oid':
      return String((c.values as Float64Array)[row]);
    case 'tid': {
      const v = c.values as Int32Array;
      return `(${v[row << 1]! >>> 0},${v[(row << 1) + 1]})`;
    }
    case 'text':
    case 'uuid':
      return utf8.decode(c.bytes.subarray(c.offsets![row]!, c.offsets![row + 1]!));
    case 'date':
      return c.clamped ? undefined : dateText((c.values as Int32Array)[row]!);
    case 'timestamp': {
      if (c.clamped) return undefined;
      const v = c.values as Int32Array;
      const micros = (BigInt(v[(row << 1) + 1]!) << 32n) | BigInt(v[row << 1]! >>> 0);
      return timestampText(micros, typname === 'timestamptz');
    }
    default:
      return undefined;
  }
}

function dateText(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
}

/** `2026-01-02 03:04:05.5+00`: PostgreSQL's ISO output in UTC (fraction without trailing zeros). */
function timestampText(micros: bigint, zone: boolean): string {
  let seconds = micros / 1_000_000n;
  let fraction = micros - seconds * 1_000_000n;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += 1_000_000n;
  }
  const d = new Date(Number(seconds) * 1000);
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const frac = fraction === 0n ? '' : `.${fraction.toString().padStart(6, '0').replace(/0+$/, '')}`;
  return `${date} ${time}${frac}${zone ? '+00' : ''}`;
}

/**
 * Runs one `COPY … TO STDOUT` on `client` (its simple-query protocol, as a
 * pg "submittable"), feeding every CopyData chunk to `onData` as it arrives.
 */
export function copyOut(client: pg.Client, text: string, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: unknown;
    const submittable = {
      callback: undefined,
      submit(connection: { query(text: string): void }) {
        connection.query(text);
      },
      handleCopyData(message: { chunk: Buffer }) {
        if (failure !== undefined) return;
        try {
          onData(message.chunk);
        } catch (error) {
          failure = error;
        }
      },
      handleCommandComplete() {},
      handleReadyForQuery() {
        if (failure !== undefined) reject(failure);
        else resolve();
      },
      handleError(error: unknown) {
        reject(error);
      },
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyInResponse() {},
    };
    client.query(submittable as unknown as pg.QueryConfig);
  });
}
