/**
 * A generic reader and writer for the Thrift compact protocol, the encoding of
 * Parquet's footer. Structs decode to a list of fields keyed by field id so
 * that everything this code does not know about (newer footer fields,
 * statistics, size statistics) passes through byte-for-byte.
 */
// @ts-nocheck

import { ParquetError } from './errors.js';

export const ThriftType = {
  boolTrue: 1,
  boolFalse: 2,
  byte: 3,
  i16: 4,
  i32: 5,
  i64: 6,
  double: 7,
  binary: 8,
  list: 9,
  set: 10,
  map: 11,
  struct: 12,
} as const;
export type ThriftType = (typeof ThriftType)[keyof typeof ThriftType];

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftList | ThriftStruct | ThriftMap;

export interface ThriftField {
  readonly id: number;
  /** Wire type; `boolTrue` stands for both booleans. */
  readonly type: ThriftType;
  value: ThriftValue;
}

export interface ThriftStruct {
  readonly kind: 'struct';
  fields: ThriftField[];
}

export interface ThriftList {
  readonly kind: 'list';
  readonly elementType: ThriftType;
  readonly set: boolean;
  items: ThriftValue[];
}

export interface ThriftMap {
  readonly kind: 'map';
  readonly keyType: ThriftType;
  readonly valueType: ThriftType;
  entries: [ThriftValue, ThriftValue][];
}

class Reader {
  private pos = 0;
  public constructor(private readonly bytes: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new ParquetError('Truncated Parquet footer');
    return this.bytes[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case ThriftType.boolTrue:
      case ThriftType.boolFalse:
        // Inside a list or map a boolean is one byte; writers tag the element type 1 or 2.
        return this.byte() === 1;
      case ThriftType.byte:
        return (this.byte() << 24) >> 24;
      case ThriftType.i16:
      case ThriftType.i32:
        return Number(this.zigzag());
      case ThriftType.i64:
        return this.zigzag();
      case ThriftType.double: {
        const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
        this.pos += 8;
        return view.getFloat64(0, true);
      }
      case ThriftType.binary: {
        const length = Number(this.varint());
        const out = this.bytes.slice(this.pos, this.pos + length);
        this.pos += length;
        return out;
      }
      case ThriftType.list:
      case ThriftType.set: {
        const header = this.byte();
        let size = header >> 4;
        const elementType = (header & 0x0f) as ThriftType;
        if (size === 15) size = Number(this.varint());
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType));
        return { kind: 'list', elementType, set: type === ThriftType.set, items };
      }
      case ThriftType.map: {
        const size = Number(this.varint());
        if (size === 0)
          return { kind: 'map', keyType: ThriftType.byte, valueType: ThriftType.byte, entries: [] };
        const types = this.byte();
        const keyType = (types >> 4) as ThriftType;
        const valueType = (types & 0x0f) as ThriftType;
        const entries: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { kind: 'map', keyType, valueType, entries };
      }
      case ThriftType.struct:
        return this.struct();
      default:
        throw new ParquetError(`Unknown Thrift type ${type} in Parquet footer`);
    }
  }

  public struct(): ThriftStruct {
    const fields: ThriftField[] = [];
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return { kind: 'struct', fields };
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : lastId + delta;
      lastId = id;
      if (type === ThriftType.boolTrue || type === ThriftType.boolFalse) {
        fields.push({ id, type: ThriftType.boolTrue, value: type === ThriftType.boolTrue });
      } else {
        fields.push({ id, type: type as ThriftType, value: this.value(type) });
      }
    }
  }
}

/** Decodes one struct from the start of `bytes`. */
export function decodeStruct(bytes: Uint8Array): ThriftStruct {
  return new Reader(bytes).struct();
}

/** Grows as needed; `bytes()` returns exactly what was written. */
class Writer {
  private buf = new Uint8Array(1024);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b & 0xff;
  }

  private varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }

  private value(type: ThriftType, value: ThriftValue): void {
    switch (type) {
      case ThriftType.boolTrue:
      case ThriftType.boolFalse:
        this.byte(value === true ? 1 : 2);
        return;
      case ThriftType.byte:
        this.byte(Number(value));
        return;
      case ThriftType.i16:
      case ThriftType.i32:
      case ThriftType.i64:
        this.zigzag(BigInt(value as number | bigint));
        return;
      case ThriftType.double: {
        this.ensure(8);
        new DataView(this.buf.buffer, this.pos, 8).setFloat64(0, value as number, true);
        this.pos += 8;
        return;
      }
      case ThriftType.binary: {
        const bytes = value as Uint8Array;
        this.varint(BigInt(bytes.length));
        this.ensure(bytes.length);
        this.buf.set(bytes, this.pos);
        this.pos += bytes.length;
        return;
      }
      case ThriftType.list:
      case ThriftType.set: {
        const list = value as ThriftList;
        const elementType = list.elementType;
        if (list.items.length < 15) this.byte((list.items.length << 4) | elementType);
        else {
          this.byte(0xf0 | elementType);
          this.varint(BigInt(list.items.length));
        }
        for (const item of list.items) this.value(elementType, item);
        return;
      }
      case ThriftType.map: {
        const map = value as ThriftMap;
        this.varint(BigInt(map.entries.length));
        if (map.entries.length === 0) return;
        this.byte((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case ThriftType.struct:
        this.struct(value as ThriftStruct);
        return;
    }
  }

  public struct(struct: ThriftStruct): void {
    let lastId = 0;
    const fields = [...struct.fields].sort((a, b) => a.id - b.id);
    for (const field of fields) {
      const wireType =
        field.type === ThriftType.boolTrue || field.type === ThriftType.boolFalse
          ? field.value === true
            ? ThriftType.boolTrue
            : ThriftType.boolFalse
          : field.type;
      const delta = field.id - lastId;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | wireType);
      else {
        this.byte(wireType);
        this.zigzag(BigInt(field.id));
      }
      lastId = field.id;
      if (wireType !== ThriftType.boolTrue && wireType !== ThriftType.boolFalse)
        this.value(wireType, field.value);
    }
    this.byte(0);
  }

  public bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Encodes one struct. */
export function encodeStruct(struct: ThriftStruct): Uint8Array {
  const writer = new Writer();
  writer.struct(struct);
  return writer.bytes();
}

/** The field with this id, if present. */
export function field(struct: ThriftStruct, id: number): ThriftField | undefined {
  return struct.fields.find((f) => f.id === id);
}

/** The struct-typed value of field `id`; throws if missing. */
export function structField(struct: ThriftStruct, id: number): ThriftStruct {
  const f = field(struct, id);
  if (f?.type !== ThriftType.struct) throw new ParquetError(`Parquet footer lacks struct field ${id}`);
  return f.value as ThriftStruct;
}

/** The list-typed value of field `id`; throws if missing. */
export function listField(struct: ThriftStruct, id: number): ThriftList {
  const f = field(struct, id);
  if (f?.type !== ThriftType.list) throw new ParquetError(`Parquet footer lacks list field ${id}`);
  return f.value as ThriftList;
}

/** The integer value of field `id` as a bigint, or undefined. */
export function intField(struct: ThriftStruct, id: number): bigint | undefined {
  const f = field(struct, id);
  if (f === undefined) return undefined;
  return BigInt(f.value as number | bigint);
}

/** Sets (or adds) an integer field. */
export function setIntField(struct: ThriftStruct, id: number, type: ThriftType, value: bigint): void {
  const existing = field(struct, id);
  const v = type === ThriftType.i64 ? value : Number(value);
  if (existing) existing.value = v;
  else struct.fields.push({ id, type, value: v });
}

/** Removes a field if present. */
export function removeField(struct: ThriftStruct, id: number): void {
  struct.fields = struct.fields.filter((f) => f.id !== id);
}
