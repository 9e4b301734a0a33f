import {
  type Data,
  type DataType,
  type Decimal,
  type Dictionary,
  type Field,
  type Int,
  Table,
  type Time,
  type Timestamp,
  TimeUnit,
  Type,
  tableFromIPC,
  type Vector,
} from 'apache-arrow';
import type { ParquetFile } from 'parquet-wasm';
import { floorDiv, PreciseDate } from '../../sdk/precise-date.js';
import { generated } from './generated.js';
import type { MalformedHandler, Row } from './types.js';

/**
 * Random access to one object's bytes (S3 ranged GETs). parquet-wasm's async
 * reader only needs `size` and `slice(start, end).arrayBuffer()` — the Blob
 * interface — so the file is never downloaded whole: it reads the footer,
 * then the column chunks of one row group at a time.
 */
export interface RangeSource {
  readonly size: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

interface WasmRecordBatch {
  intoIPCStream(): Uint8Array;
}

type ParquetWasm = typeof import('parquet-wasm');
let parquetWasm: Promise<ParquetWasm> | undefined;

/** parquet-wasm is ~5 MB of WebAssembly: loaded on first use, not when the connector is imported. */
function loadParquetWasm(): Promise<ParquetWasm> {
  parquetWasm ??= import('parquet-wasm');
  return parquetWasm;
}

function asBlob(source: RangeSource, failures: unknown[]): BlobLike {
  return {
    size: source.size,
    slice: (start = 0, end = source.size) => ({
      arrayBuffer: async () => {
        const from = Math.max(0, start);
        const to = Math.min(source.size, end);
        if (to <= from) return new ArrayBuffer(0);
        try {
          const bytes = await source.read(from, to);
          return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
        } catch (error) {
          // Remember it: the error that surfaces from WebAssembly is a wrapped string.
          failures.push(error);
          throw error;
        }
      },
    }),
  };
}

/**
 * Streams a Parquet file one row group at a time, in batches of `batchSize`
 * rows. Memory holds one row group's compressed column chunks plus one
 * decoded batch, whatever the file's size. Values are converted to plain JS:
 * see `toPlain`. Row groups whose rows all come at or before row `skipThrough`
 * (1-based, from a resume position) are skipped without being fetched; the
 * caller drops the rows before it in the group where it lands.
 */
export async function* parquetRows(
  source: RangeSource,
  batchSize: number,
  malformed: MalformedHandler,
  signal: AbortSignal,
  skipThrough = 0,
): AsyncGenerator<Row[]> {
  const { ParquetFile } = await loadParquetWasm();
  const failures: unknown[] = [];
  const rethrowFetchFailure = (): void => {
    signal.throwIfAborted();
    if (failures.length > 0) throw failures[0];
  };
  let file: ParquetFile;
  try {
    file = await ParquetFile.fromFile(asBlob(source, failures) as unknown as Blob);
  } catch (error) {
    rethrowFetchFailure();
    malformed.file(undefined, `not a readable Parquet file (${describe(error)})`);
    return;
  }
  try {
    const metadata = file.metadata();
    const groups = metadata.numRowGroups();
    const groupRows = Array.from({ length: groups }, (_, i) => {
      const group = metadata.rowGroup(i);
      const rows = group.numRows();
      group.free();
      return rows;
    });
    metadata.free();
    let rowNumber = 0;
    for (let group = 0; group < groups; group++) {
      signal.throwIfAborted();
      if (rowNumber + groupRows[group]! <= skipThrough) {
        rowNumber += groupRows[group]!;
        continue;
      }
      let reader: ReadableStreamDefaultReader<WasmRecordBatch>;
      try {
        const stream = (await file.stream({
          rowGroups: [group],
          batchSize,
        })) as ReadableStream<WasmRecordBatch>;
        reader = stream.getReader();
      } catch (error) {
        rethrowFetchFailure();
        malformed.file(rowNumber + 1, `cannot read row group ${group} (${describe(error)})`);
        return;
      }
      try {
        for (;;) {
          let next: Awaited<ReturnType<typeof reader.read>>;
          try {
            next = await reader.read();
          } catch (error) {
            rethrowFetchFailure();
            malformed.file(rowNumber + 1, `cannot decode row group ${group} (${describe(error)})`);
            return;
          }
          if (next.done) break;
          const table = tableFromIPC(next.value.intoIPCStream());
          const rows = tableRows(table, rowNumber);
          rowNumber += rows.length;
          yield rows;
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    }
  } finally {
    file.free();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type ValueReader = (row: number) => unknown;
type RecordMaker = (row: number, readers: readonly ValueReader[]) => Record<string, unknown>;

/** The table's rows as records, `before` rows into the file. Exported for tests. */
export function tableRows(table: Table, before: number): Row[] {
  // parquet-wasm hands one record batch at a time; a table of several is read batch by batch,
  // so every column below is one Arrow chunk (the buffers `fastReader` reads).
  if (table.batches.length > 1) {
    const rows: Row[] = [];
    for (const batch of table.batches) {
      for (const row of tableRows(new Table(batch), before + rows.length)) rows.push(row);
    }
    return rows;
  }
  const fields = table.schema.fields;
  const vectors = fields.map((_, i) => table.getChildAt(i)!);
  // Top-level timestamps, text and 64-bit integers are read from their buffers (see `fastReader`).
  const readers = fields.map(
    (f, i): ValueReader =>
      fastReader(vectors[i]!, f.type) ?? ((r) => toPlain(vectors[i]!.get(r), f.type, false)),
  );
  const names = fields.map((f) => f.name);
  const make = generated(`parquet:${JSON.stringify(names)}`, () => recordMaker(names));
  const rows: Row[] = new Array(table.numRows);
  for (let r = 0; r < table.numRows; r++) rows[r] = { values: make(r, readers), line: before + r + 1 };
  return rows;
}

/**
 * One object literal per row with every field name as a literal key (a `new
 * Function`, as the engine's converter): records share one shape, their
 * properties inside the object, where assigning them one by one cost a
 * property-store lookup per value. A "__proto__" field is a computed key, so
 * it stays a field (as in JSON.parse) instead of setting the prototype.
 */
function recordMaker(names: readonly string[]): RecordMaker {
  const key = (name: string): string =>
    name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
  // Generated code: names enter only as JSON string literals.
  return new Function(
    'r',
    'R',
    `return { ${names.map((name, c) => `${key(name)}: R[${c}](r)`).join(', ')} };`,
  ) as RecordMaker;
}

/** Microseconds per unit; nanoseconds are divided (floor) instead. */
const MICROS_PER: Readonly<Record<TimeUnit, bigint>> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 1n,
};

type ChunkReader = (i: number) => unknown;

/**
 * A column's rows read straight from its Arrow buffers, giving what
 * `toPlain(vector.get(row))` gives except where noted, without its costs:
 * - timestamps as PreciseDate, exact (apache-arrow's get() yields float milliseconds);
 * - UTF-8 text: an ASCII value is a slice of the chunk decoded once, any
 *   other value is decoded alone (apache-arrow decodes every value alone);
 * - 64-bit integers from their two 32-bit halves, a BigInt only beyond 2^53.
 * Undefined for any other type (and for a vector of several chunks, which tableRows never passes).
 */
function fastReader(vector: Vector, type: DataType): ((row: number) => unknown) | undefined {
  let make: ((data: Data) => ChunkReader) | undefined;
  if (type.typeId === Type.Timestamp) make = timestampChunk((type as Timestamp).unit);
  else if (type.typeId === Type.Utf8) make = utf8Chunk;
  else if (type.typeId === Type.Int && (type as Int).bitWidth === 64 && (type as Int).isSigned)
    make = int64Chunk;
  // tableRows reads one record batch at a time: one chunk per column.
  if (make === undefined || vector.data.length !== 1) return undefined;
  const data = vector.data[0]!;
  const read = make(data);
  return (row) => (data.getValid(row) ? read(row) : null);
}

function timestampChunk(unit: TimeUnit): (data: Data) => ChunkReader {
  const scale = MICROS_PER[unit];
  return (data) => {
    const values = data.values as BigInt64Array;
    if (unit !== TimeUnit.NANOSECOND) return (i) => new PreciseDate(values[i]! * scale);
    // Floor to the microsecond, so an instant before 1970 does not move later.
    return (i) => new PreciseDate(floorDiv(values[i]!, 1000n));
  };
}

const utf8 = new TextDecoder();

function utf8Chunk(data: Data): ChunkReader {
  const bytes = data.values as Uint8Array;
  const offsets = data.valueOffsets as Int32Array;
  const base = offsets[0]!;
  const end = offsets[data.length]!;
  // Latin-1 maps each byte to one char: exact for the ASCII values sliced from it.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + base, end - base).toString('latin1');
  return (i) => {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    for (let b = from; b < to; b++) if (bytes[b]! >= 0x80) return utf8.decode(bytes.subarray(from, to));
    return text.slice(from - base, to - base);
  };
}

const TWO_32 = 4_294_967_296;

function int64Chunk(data: Data): ChunkReader {
  const values = data.values as BigInt64Array;
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  return (i) => {
    const n = words[(i << 1) + 1]! * TWO_32 + (words[i << 1]! >>> 0);
    // Exact below 2^53; beyond, the BigInt as toPlain keeps it.
    return Number.isSafeInteger(n) ? n : bigintToPlain(values[i]!, false);
  };
}

const MAX_EXACT_DECIMAL_DIGITS = 15;

/**
 * Arrow values → plain JS the engine lands:
 * - integers: numbers; 64-bit values beyond 2^53 stay bigint (nested: strings);
 * - decimals: numbers when precision ≤ 15 (exact in a double), else strings;
 * - timestamps: Date (millisecond precision, UTC; zone-less timestamps are read as UTC); a top-level
 *   column is read by `tableRows` as PreciseDate instead, exact to the microsecond;
 * - dates: "YYYY-MM-DD"; times: "HH:MM:SS.fff…";
 * - binary: base64 strings; structs and maps: objects; lists: arrays.
 */
export function toPlain(value: unknown, type: DataType, nested: boolean): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case Type.Int:
      return typeof value === 'bigint' ? bigintToPlain(value, nested) : value;
    case Type.Decimal:
      return decimalToPlain(String(value), (type as Decimal).scale, type);
    case Type.Timestamp:
      return new Date(Number(value));
    case Type.Date:
      return new Date(Number(value)).toISOString().slice(0, 10);
    case Type.Time:
      return timeToString(value as number | bigint, (type as Time).unit);
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView:
    case Type.FixedSizeBinary:
      return Buffer.from(value as Uint8Array).toString('base64');
    case Type.Struct: {
      const row = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const child of type.children as Field[])
        out[child.name] = toPlain(row[child.name], child.type, true);
      return out;
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const itemType = (type.children as Field[])[0]!.type;
      return Array.from(value as Iterable<unknown>, (item) => toPlain(item, itemType, true));
    }
    case Type.Map: {
      const entry = (type.children as Field[])[0]!.type.children as Field[];
      const keyType = entry[0]!.type;
      const valueType = entry[1]!.type;
      const out: Record<string, unknown> = {};
      for (const [k, v] of value as Iterable<[unknown, unknown]>) {
        out[String(toPlain(k, keyType, true))] = toPlain(v, valueType, true);
      }
      return out;
    }
    case Type.Dictionary:
      return toPlain(value, (type as Dictionary).dictionary, nested);
    default:
      if (typeof value === 'bigint') return bigintToPlain(value, nested);
      if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
      if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return (value as { toJSON(): unknown }).toJSON();
      }
      return value;
  }
}

function bigintToPlain(value: bigint, nested: boolean): number | bigint | string {
  if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(value);
  return nested ? value.toString() : value;
}

function decimalToPlain(unscaled: string, scale: number, type: DataType): number | string {
  const negative = unscaled.startsWith('-');
  let digits = negative ? unscaled.slice(1) : unscaled;
  let text = digits;
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    text = digits + '0'.repeat(-scale);
  }
  const signed = negative ? `-${text}` : text;
  const precision = (type as Decimal).precision;
  return precision <= MAX_EXACT_DECIMAL_DIGITS ? Number(signed) : signed;
}

function timeToString(value: number | bigint, unit: TimeUnit): string {
  const perSecond =
    { [TimeUnit.SECOND]: 1n, [TimeUnit.MILLISECOND]: 1_000n, [TimeUnit.MICROSECOND]: 1_000_000n }[
      unit as 0 | 1 | 2
    ] ?? 1_000_000_000n;
  const ticks = BigInt(value);
  const seconds = ticks / perSecond;
  const fraction = ticks % perSecond;
  const hh = String(seconds / 3600n).padStart(2, '0');
  const mm = String((seconds / 60n) % 60n).padStart(2, '0');
  const ss = String(seconds % 60n).padStart(2, '0');
  const width = String(perSecond).length - 1;
  return width > 0 ? `${hh}:${mm}:${ss}.${String(fraction).padStart(width, '0')}` : `${hh}:${mm}:${ss}`;
}
