/**
 * Column buffers → one Arrow IPC stream (schema + one record batch + end
 * marker), the format parquet-wasm reads. apache-arrow encodes the small
 * flatbuffer metadata; the body is laid out here with a single copy of each
 * buffer into one allocation (apache-arrow's own writer copies every buffer
 * twice: into a chunk list, then into the joined output).
 */
// @ts-nocheck

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

/** Writes IPC streams for one column list; the schema message is encoded once. */
export class ArrowIpcWriter {
  private readonly schemaMessage: Uint8Array;

  public constructor(columns: readonly ParquetColumn[]) {
    const schema = new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true)));
    this.schemaMessage = frame(Message.encode(Message.from(schema)));
  }

  /** The whole stream for one group, in one buffer. */
  public write(group: RowGroupData): Uint8Array {
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
    const batchMessage = frame(Message.encode(Message.from(header, bodyLength)));

    const total = this.schemaMessage.length + batchMessage.length + bodyLength + END_OF_STREAM.length;
    const out = new Uint8Array(total);
    out.set(this.schemaMessage, 0);
    out.set(batchMessage, this.schemaMessage.length);
    const bodyStart = this.schemaMessage.length + batchMessage.length;
    buffers.forEach((view, k) => {
      if (view !== null && view.byteLength > 0) {
        out.set(
          new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
          bodyStart + regions[k]!.offset,
        );
      }
    });
    out.set(END_OF_STREAM, bodyStart + bodyLength);
    return out;
  }
}
