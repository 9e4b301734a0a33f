/**
 * Column buffers → one Arrow IPC stream (schema + record batches + end
 * marker), the format parquet-wasm reads. apache-arrow encodes the small
 * flatbuffer metadata; the body is laid out here with a single copy of each
 * buffer into one allocation (apache-arrow's own writer copies every buffer
 * twice: into a chunk list, then into the joined output).
 */
import {
  Bool,
  type DataType,
  DateDay,
  Decimal,
  Field,
  Float64,
  Int32,
  Int64,
  Schema,
  TimestampMicrosecond,
  Utf8,
} from 'apache-arrow';
import {
  BufferRegion,
  FieldNode,
  Message,
  RecordBatch as RecordBatchHeader,
} from 'apache-arrow/ipc/metadata/message';
import { parseDecimalType } from '../../connectors/sdk/column-types.js';
import type { ColumnType } from '../../connectors/sdk/types.js';
import type { ParquetColumn, RowGroupData } from './convert.js';
import type { TextPart } from './text-dictionary.js';

const ALIGN = 8;
const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function arrowType(type: ColumnType): DataType {
  const decimal = parseDecimalType(type);
  if (decimal) return new Decimal(decimal.scale, decimal.precision, 128);
  switch (type) {
    case 'boolean':
      return new Bool();
    case 'int':
      return new Int32();
    case 'bigint':
      return new Int64();
    case 'double':
      return new Float64();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'date':
      return new DateDay();
    default:
      return new Utf8();
  }
}

const pad = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/** An encapsulated IPC message header: continuation marker, length, flatbuffer, padding. */
function frame(metadata: Uint8Array): Uint8Array {
  const size = pad(8 + metadata.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, size - 8, true);
  out.set(metadata, 8);
  return out;
}

/** Returns bytes, at least that many, of any content: the stream zeroes what it lays out (padding included). */
export type Allocate = (bytes: number) => Uint8Array;

interface Batch {
  readonly message: Uint8Array;
  readonly bodyLength: number;
  readonly buffers: (Uint8Array | Int32Array | Float64Array | null)[];
  readonly regions: BufferRegion[];
}

type View = Uint8Array | Int32Array | Float64Array;
/** Where a buffer of a part lies in the stream, and its typed-array kind. */
type Placed = {
  readonly offset: number;
  readonly length: number;
  readonly kind: 'u8' | 'i32' | 'f64';
} | null;
interface PlacedPart {
  readonly rows: number;
  readonly columns: readonly {
    readonly nullCount: number;
    readonly validity: Placed;
    readonly offsets: Placed;
    readonly values: Placed;
  }[];
}

function place(view: View | null, offset: number): Placed {
  if (view === null) return null;
  const kind = view instanceof Float64Array ? 'f64' : view instanceof Int32Array ? 'i32' : 'u8';
  return { offset, length: view.length, kind };
}

/**
 * One group's IPC stream being laid out: each part is copied in when it is
 * added, so the caller may drop it at once; the buffer grows (a copy) when a
 * part does not fit. `parts()` reads the parts back as views of the stream.
 */
export class IpcStream {
  private out: Uint8Array;
  private at: number;
  private readonly placed: PlacedPart[] = [];

  public constructor(
    schemaMessage: Uint8Array,
    private readonly allocate: Allocate,
    private readonly batch: (part: RowGroupData) => Batch,
  ) {
    this.out = allocate(schemaMessage.length + END_OF_STREAM.length);
    this.out.set(schemaMessage, 0);
    this.at = schemaMessage.length;
  }

  public add(part: RowGroupData): void {
    const { message, bodyLength, buffers, regions } = this.batch(part);
    this.reserve(message.length + bodyLength + END_OF_STREAM.length);
    const out = this.out;
    // The buffer may be a reused one: zero the padding here, so pages past the stream's end stay untouched.
    out.fill(0, this.at, this.at + message.length + bodyLength);
    out.set(message, this.at);
    const bodyStart = this.at + message.length;
    buffers.forEach((view, k) => {
      if (view !== null && view.byteLength > 0) {
        out.set(
          new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
          bodyStart + regions[k]!.offset,
        );
      }
    });
    // Buffers per column in `batch`: validity, then offsets for text, then values.
    let k = 0;
    const at = () => bodyStart + regions[k++]!.offset;
    this.placed.push({
      rows: part.rows,
      columns: part.columns.map((c) => ({
        nullCount: c.nullCount,
        validity: place(c.validity, at()),
        offsets: c.offsets === null ? null : place(c.offsets, at()),
        values: place(c.values, at()),
      })),
    });
    this.at = bodyStart + bodyLength;
  }

  /** The parts added so far, as column data viewing this stream's buffer (no copy). */
  public parts(): RowGroupData[] {
    const buffer = this.out.buffer as ArrayBuffer;
    const base = this.out.byteOffset;
    const view = (p: Placed): View | null => {
      if (p === null) return null;
      if (p.kind === 'f64') return new Float64Array(buffer, base + p.offset, p.length);
      if (p.kind === 'i32') return new Int32Array(buffer, base + p.offset, p.length);
      return new Uint8Array(buffer, base + p.offset, p.length);
    };
    return this.placed.map((part) => ({
      rows: part.rows,
      columns: part.columns.map((c) => ({
        nullCount: c.nullCount,
        validity: view(c.validity) as Uint8Array | null,
        offsets: view(c.offsets) as Int32Array | null,
        values: view(c.values)!,
      })),
    }));
  }

  /** Where each part of a one-column text stream keeps its buffers (see text-dictionary.ts). */
  public textParts(): TextPart[] {
    return this.placed.map((part) => {
      const column = part.columns[0]!;
      return {
        rows: part.rows,
        nullCount: column.nullCount,
        validity: column.validity?.offset ?? -1,
        offsets: column.offsets!.offset,
        values: column.values!.offset,
      };
    });
  }

  /** The finished stream: a view of exactly its bytes (its buffer may be larger). */
  public end(): Uint8Array {
    this.reserve(END_OF_STREAM.length);
    this.out.set(END_OF_STREAM, this.at);
    return new Uint8Array(this.out.buffer, this.out.byteOffset, this.at + END_OF_STREAM.length);
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    const grown = this.allocate(Math.max(this.at + bytes, Math.ceil(this.out.length * 1.5)));
    grown.set(this.out.subarray(0, this.at));
    this.out = grown;
  }
}

/** Writes IPC streams for one column list; the schema message is encoded once. */
export class ArrowIpcWriter {
  private readonly schemaMessage: Uint8Array;

  public constructor(columns: readonly ParquetColumn[]) {
    const schema = new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true)));
    this.schemaMessage = frame(Message.encode(Message.from(schema)));
  }

  /**
   * Starts one group's stream: its parts are laid out as they come, one
   * record batch each (a group gathered from several writes), which the
   * encoder writes as one row group.
   */
  public begin(allocate: Allocate = (bytes) => new Uint8Array(bytes)): IpcStream {
    return new IpcStream(this.schemaMessage, allocate, (part) => this.batch(part));
  }

  /** The whole stream of one group, in one buffer. */
  public write(parts: readonly RowGroupData[], allocate?: Allocate): Uint8Array {
    const stream = this.begin(allocate);
    for (const part of parts) stream.add(part);
    return stream.end();
  }

  private batch(group: RowGroupData): Batch {
    const nodes: FieldNode[] = [];
    const regions: BufferRegion[] = [];
    const buffers: (Uint8Array | Int32Array | Float64Array | null)[] = [];
    let bodyLength = 0;
    const add = (view: Uint8Array | Int32Array | Float64Array | null, byteLength: number): void => {
      regions.push(new BufferRegion(bodyLength, byteLength));
      buffers.push(view);
      bodyLength += pad(byteLength);
    };
    for (const column of group.columns) {
      nodes.push(new FieldNode(group.rows, column.nullCount));
      add(column.validity, column.validity === null ? 0 : column.validity.byteLength);
      if (column.offsets !== null) add(column.offsets, column.offsets.byteLength);
      add(column.values, column.values.byteLength);
    }
    const header = new RecordBatchHeader(group.rows, nodes, regions, null);
    return { message: frame(Message.encode(Message.from(header, bodyLength))), bodyLength, buffers, regions };
  }
}
