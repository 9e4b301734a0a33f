/**
 * Dictionary-encodes a text column chunk in JavaScript (ADR 0017).
 *
 * parquet-rs spent about half of its encoding time on text columns, most of
 * it interning each value into its dictionary (ahash in WASM) and comparing
 * byte arrays for page statistics. Here the rows come as ids of values the
 * writer numbered as it converted them (text-ids.ts), so no value is hashed
 * or compared per row: the group's dictionary is the ids its rows use, and
 * page statistics come from each entry's rank in the sorted dictionary. The
 * chunk is what parquet-rs writes for such a column: a PLAIN dictionary
 * page, v1 data pages of RLE_DICTIONARY indices with RLE definition levels
 * (20,480 rows a page), Snappy, min/max/null-count statistics cut to 64
 * bytes as parquet-rs cuts them, a column index and an offset index.
 */
import { compress } from 'snappyjs';
import { ParquetError } from './errors.js';
import type { TextEntries } from './text-ids.js';
import { encodeStruct, type ThriftList, type ThriftStruct, ThriftType, type ThriftValue } from './thrift.js';

/** parquet-rs's default dictionary page size limit. */
export const DICTIONARY_PAGE_LIMIT = 1024 * 1024;
/** parquet-rs's default data page row count limit (a multiple of 8: levels pack into whole bytes). */
export const PAGE_ROWS = 20_480;

// parquet.thrift enums.
const PageType = { data: 0, dictionary: 2 } as const;
const Encoding = { plain: 0, rle: 3, rleDictionary: 8 } as const;
const Codec = { snappy: 1 } as const;
const BoundaryOrder = { unordered: 0, ascending: 1, descending: 2 } as const;

/** A column chunk encoded here: its pages, and the metadata and page indexes that describe them. */
export interface TextChunk {
  /**
   * The pages, from the dictionary page on; every offset below is relative
   * to their start. A view of the caller's buffer: valid until it encodes the
   * next chunk into it.
   */
  readonly bytes: Uint8Array;
  /** ColumnMetaData fields that replace those of the chunk parquet-rs wrote for the column (all nulls). */
  readonly meta: readonly MetaField[];
  /** The encoded ColumnIndex. */
  readonly columnIndex: Uint8Array;
  /** The OffsetIndex, not yet encoded: its page offsets move with the chunk. */
  readonly offsetIndex: ThriftStruct;
}

export interface MetaField {
  readonly id: number;
  readonly type: ThriftType;
  readonly value: ThriftValue;
}

function struct(fields: [number, ThriftType, ThriftValue][]): ThriftStruct {
  return { kind: 'struct', fields: fields.map(([id, type, value]) => ({ id, type, value })) };
}

function list(elementType: ThriftType, items: ThriftValue[]): ThriftList {
  return { kind: 'list', elementType, set: false, items };
}

/** Where one record batch of a one-column Arrow IPC stream keeps its buffers (byte offsets into the stream). */
export interface TextPart {
  readonly rows: number;
  readonly nullCount: number;
  /** The validity bitmap's offset; -1 when the part has no nulls. */
  readonly validity: number;
  /** Offset of the rows + 1 int32 value offsets. */
  readonly offsets: number;
  /** Offset of the UTF-8 bytes the value offsets point into. */
  readonly values: number;
}

/** The dictionary of one chunk: entry k is bytes[starts[k], ends[k]). */
interface Dictionary {
  readonly count: number;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** Index of each row's value; -1 for nulls. */
  readonly indices: Int32Array;
  /** Bytes of the PLAIN dictionary page: a 4-byte length before each entry. */
  readonly pageBytes: number;
}

/**
 * The values a writer has numbered (text-ids.ts), by id, as they arrive
 * with each group: entry k is bytes[starts[k], ends[k]).
 */
export class NumberedValues {
  public bytes = new Uint8Array(64 * 1024);
  public starts: Int32Array = new Int32Array(1024);
  public ends: Int32Array = new Int32Array(1024);
  public count = 0;
  private length = 0;

  public add(entries: TextEntries): void {
    const n = entries.offsets.length - 1;
    if (entries.first !== this.count)
      throw new ParquetError(
        `Numbered text values arrived out of order: ${entries.first}, expected ${this.count}`,
      );
    if (this.length + entries.bytes.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.length + entries.bytes.length, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(entries.bytes, this.length);
    while (this.count + n > this.starts.length) {
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    for (let k = 0; k < n; k++) {
      this.starts[this.count + k] = this.length + entries.offsets[k]!;
      this.ends[this.count + k] = this.length + entries.offsets[k + 1]!;
    }
    this.count += n;
    this.length += entries.bytes.length;
  }
}

/**
 * Buffers an encoder reuses from chunk to chunk, so that encoding a group's
 * text columns leaves little garbage behind (it would pile up on a thread
 * that seldom collects).
 */
export class TextScratch {
  private indices = new Int32Array(0);
  private local = new Int32Array(0);
  public readonly levels = new Int32Array(PAGE_ROWS);
  public readonly present = new Int32Array(PAGE_ROWS);
  public readonly range = new Int32Array(2);
  public readonly page = new ByteSink();

  /** Room for a dictionary index per row. */
  public indicesFor(rows: number): Int32Array {
    if (this.indices.length < rows) this.indices = new Int32Array(Math.max(rows, this.indices.length * 2));
    return this.indices;
  }

  /** A local index per numbered value, every one -1 (not in the group's dictionary yet). */
  public localFor(count: number): Int32Array {
    if (this.local.length < count) this.local = new Int32Array(Math.max(count, this.local.length * 2));
    this.local.fill(-1, 0, count);
    return this.local;
  }
}

/**
 * The group's dictionary: the ids its rows use, in order of first use.
 */
function groupDictionary(
  ids: Int32Array,
  values: NumberedValues,
  rows: number,
  scratch: TextScratch,
): Dictionary {
  const local = scratch.localFor(values.count);
  let starts: Int32Array = new Int32Array(Math.min(values.count, rows) + 1);
  let ends: Int32Array = new Int32Array(starts.length);
  let count = 0;
  let pageBytes = 0;
  const indices = scratch.indicesFor(rows);
  for (let row = 0; row < rows; row++) {
    const id = ids[row]!;
    if (id < 0) {
      indices[row] = -1;
      continue;
    }
    if (id >= values.count) throw new ParquetError(`Numbered text value ${id} never arrived`);
    let index = local[id]!;
    if (index < 0) {
      const start = values.starts[id]!;
      const end = values.ends[id]!;
      pageBytes += 4 + end - start;
      if (count === starts.length) {
        starts = grow(starts);
        ends = grow(ends);
      }
      starts[count] = start;
      ends[count] = end;
      index = count++;
      local[id] = index;
    }
    indices[row] = index;
  }
  return { count, starts, ends, indices, pageBytes };
}

function grow(array: Int32Array): Int32Array {
  const next = new Int32Array(array.length * 2);
  next.set(array);
  return next;
}

/** Appends bytes to one growing buffer, which a chunk's pages reuse from group to group. */
export class ByteSink {
  public bytes = new Uint8Array(64 * 1024);
  public length = 0;

  public reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  public byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  public uleb(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.byte(v);
  }

  public u32(n: number): void {
    this.reserve(4);
    new DataView(this.bytes.buffer).setUint32(this.length, n, true);
    this.length += 4;
  }

  public append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }
}

/**
 * The RLE/bit-packing hybrid encoding of values[0, n) at `width` bits
 * (1–24): runs of 8 or more equal values that start on a multiple of 8 become
 * RLE runs, the rest bit-packed runs of 8-value groups (the last group
 * zero-padded, which only the end of the data may be).
 */
function writeHybrid(out: ByteSink, values: Int32Array, n: number, width: number): void {
  const valueBytes = (width + 7) >> 3;
  let packedFrom = 0;
  let i = 0;
  while (i < n) {
    const v = values[i]!;
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    if (j - i >= 8) {
      writePacked(out, values, packedFrom, i, width);
      out.uleb((j - i) * 2);
      for (let b = 0; b < valueBytes; b++) out.byte((v >>> (8 * b)) & 0xff);
      i = j;
      packedFrom = i;
      continue;
    }
    i = Math.min(i + 8, n);
  }
  writePacked(out, values, packedFrom, n, width);
}

/** One bit-packed run of values[from, to): whole groups of 8, the last padded with zeros. */
function writePacked(out: ByteSink, values: Int32Array, from: number, to: number, width: number): void {
  if (to <= from) return;
  const groups = (to - from + 7) >> 3;
  out.uleb(groups * 2 + 1);
  out.reserve(groups * width);
  const bytes = out.bytes;
  let at = out.length;
  let acc = 0;
  let bits = 0;
  const end = from + groups * 8;
  for (let k = from; k < end; k++) {
    // width ≤ 24 and bits ≤ 7 before the shift: the accumulator stays within 31 bits.
    acc |= (k < to ? values[k]! : 0) << bits;
    bits += width;
    while (bits >= 8) {
      bytes[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out.length = at;
}

function bitWidth(maxValue: number): number {
  return maxValue <= 0 ? 1 : 32 - Math.clz32(maxValue);
}

/**
 * Fills one page's definition levels and its non-null indices; `range` gets
 * the least and greatest rank among them. Returns how many are non-null.
 */
function gatherPage(
  indices: Int32Array,
  rank: Int32Array,
  first: number,
  pageRows: number,
  levels: Int32Array,
  present: Int32Array,
  range: Int32Array,
): number {
  let n = 0;
  let min = 0x7fffffff;
  let max = -1;
  for (let r = 0; r < pageRows; r++) {
    const index = indices[first + r]!;
    if (index < 0) {
      levels[r] = 0;
      continue;
    }
    levels[r] = 1;
    present[n++] = index;
    const at = rank[index]!;
    if (at < min) min = at;
    if (at > max) max = at;
  }
  range[0] = min;
  range[1] = max;
  return n;
}

/**
 * The entries sorted by their bytes (`order`) and each entry's place in
 * that order (`rank`), so a page's min and max are integer comparisons. The
 * first four bytes, big-endian, decide most comparisons.
 */
function byteOrder(
  bytes: Uint8Array,
  starts: Int32Array,
  ends: Int32Array,
  count: number,
): { order: Int32Array; rank: Int32Array } {
  const prefix = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    let key = 0;
    for (let b = 0; b < 4; b++) {
      const at = starts[k]! + b;
      // A shorter value sorts before any longer one it begins: 0 for a missing byte, 1 + byte otherwise.
      key = key * 257 + (at < ends[k]! ? bytes[at]! + 1 : 0);
    }
    prefix[k] = key;
  }
  const order = new Int32Array(count);
  for (let k = 0; k < count; k++) order[k] = k;
  order.sort(
    (a, b) => prefix[a]! - prefix[b]! || compareBytes(bytes, starts[a]!, ends[a]!, starts[b]!, ends[b]!),
  );
  const rank = new Int32Array(count);
  for (let r = 0; r < count; r++) rank[order[r]!] = r;
  return { order, rank };
}

/** How many bytes parquet-rs keeps of a min or max, in statistics and column indexes. */
export const BOUND_BYTES = 64;

interface Bound {
  readonly bytes: Uint8Array;
  /** Whether the bound is the value itself (Statistics.is_min_value_exact / is_max_value_exact). */
  readonly exact: boolean;
}

/** Where a cut at `limit` bytes of UTF-8 leaves whole characters: before any character the limit splits. */
function charBoundary(value: Uint8Array, limit: number): number {
  let cut = limit;
  while (cut > 0 && (value[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}

/** A lower bound of `value`, at most BOUND_BYTES long: its longest prefix of whole characters that fits. */
export function lowerBound(value: Uint8Array): Bound {
  if (value.length <= BOUND_BYTES) return { bytes: value, exact: true };
  return { bytes: value.slice(0, charBoundary(value, BOUND_BYTES)), exact: false };
}

/**
 * An upper bound of `value`, about BOUND_BYTES long: its prefix with the
 * last character that can be incremented incremented (every value with
 * that prefix sorts before it); the value itself when none can.
 */
export function upperBound(value: Uint8Array): Bound {
  if (value.length <= BOUND_BYTES) return { bytes: value, exact: true };
  let end = charBoundary(value, BOUND_BYTES);
  while (end > 0) {
    let start = end - 1;
    while (start > 0 && (value[start]! & 0xc0) === 0x80) start--;
    const next = Buffer.from(value.subarray(start, end)).toString('utf8').codePointAt(0)! + 1;
    const code = next >= 0xd800 && next <= 0xdfff ? 0xe000 : next;
    if (code <= 0x10ffff) {
      const last = Buffer.from(String.fromCodePoint(code), 'utf8');
      const bound = new Uint8Array(start + last.length);
      bound.set(value.subarray(0, start));
      bound.set(last, start);
      return { bytes: bound, exact: false };
    }
    end = start;
  }
  return { bytes: value, exact: true };
}

/** Compares two byte ranges of `bytes` as unsigned bytes (Parquet's order for UTF-8 and JSON). */
function compareBytes(bytes: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const d = bytes[a0 + k]! - bytes[b0 + k]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

/**
 * The chunk of one text column of `rows` rows, dictionary-encoded, given
 * each row's id among the values the writer numbered (-1 for null). The
 * interner stops before its values outgrow one dictionary page, so the
 * group's, a subset of them, never does.
 */
export function encodeTextDictionary(
  ids: Int32Array,
  numbered: NumberedValues,
  rows: number,
  scratch: TextScratch,
  out: ByteSink,
): TextChunk {
  const dictionary = groupDictionary(ids, numbered, rows, scratch);
  const { count, starts, ends, indices } = dictionary;
  const values = numbered.bytes;

  const { order, rank } = byteOrder(values, starts, ends, count);
  const entryBytes = (k: number): Uint8Array => values.slice(starts[k]!, ends[k]!);

  out.length = 0;
  const page = scratch.page;
  page.length = 0;
  // Headers and pages as they would be uncompressed (total_uncompressed_size).
  let uncompressed = 0;
  /** Appends `page` as one page, Snappy-compressed, after its header. */
  const writePage = (type: number, detail: [number, ThriftStruct]): void => {
    const body = compress(page.bytes.subarray(0, page.length));
    const header = encodeStruct(
      struct([
        [1, ThriftType.i32, type],
        [2, ThriftType.i32, page.length],
        [3, ThriftType.i32, body.length],
        [detail[0], ThriftType.struct, detail[1]],
      ]),
    );
    out.append(header);
    out.append(body);
    uncompressed += header.length + page.length;
  };

  // The dictionary page.
  page.reserve(dictionary.pageBytes);
  for (let k = 0; k < count; k++) {
    page.u32(ends[k]! - starts[k]!);
    page.append(values.subarray(starts[k]!, ends[k]!));
  }
  writePage(PageType.dictionary, [
    7,
    struct([
      [1, ThriftType.i32, count],
      [2, ThriftType.i32, Encoding.plain],
      [3, ThriftType.boolTrue, false],
    ]),
  ]);
  const dataPageOffset = out.length;

  const width = bitWidth(count - 1);
  const { levels, range, present } = scratch;
  const nullPages: boolean[] = [];
  const mins: Uint8Array[] = [];
  const maxes: Uint8Array[] = [];
  const nullCounts: bigint[] = [];
  const locations: ThriftStruct[] = [];
  let pages = 0;
  let nulls = 0;
  let chunkMin = -1;
  let chunkMax = -1;
  for (let first = 0; first < rows; first += PAGE_ROWS) {
    const pageRows = Math.min(PAGE_ROWS, rows - first);
    const n = gatherPage(indices, rank, first, pageRows, levels, present, range);
    const min = range[0]!;
    const max = range[1]!;
    page.length = 0;
    // Definition levels (every column is optional): their byte length, then the hybrid encoding at width 1.
    page.u32(0);
    const levelsStart = page.length;
    if (n === pageRows) {
      // No nulls: one RLE run of 1s.
      page.uleb(pageRows * 2);
      page.byte(1);
    } else writeHybrid(page, levels, pageRows, 1);
    new DataView(page.bytes.buffer).setUint32(levelsStart - 4, page.length - levelsStart, true);
    page.byte(width);
    writeHybrid(page, present, n, width);
    locations.push(
      struct([
        [1, ThriftType.i64, BigInt(out.length)],
        [2, ThriftType.i32, 0], // set below, once the header's size is known
        [3, ThriftType.i64, BigInt(first)],
      ]),
    );
    const headerStart = out.length;
    writePage(PageType.data, [
      5,
      struct([
        [1, ThriftType.i32, pageRows],
        [2, ThriftType.i32, Encoding.rleDictionary],
        [3, ThriftType.i32, Encoding.rle],
        [4, ThriftType.i32, Encoding.rle],
      ]),
    ]);
    locations[pages]!.fields[1]!.value = out.length - headerStart;
    pages++;
    nulls += pageRows - n;
    nullCounts.push(BigInt(pageRows - n));
    nullPages.push(n === 0);
    if (n === 0) {
      mins.push(new Uint8Array(0));
      maxes.push(new Uint8Array(0));
      continue;
    }
    mins.push(lowerBound(entryBytes(order[min]!)).bytes);
    maxes.push(upperBound(entryBytes(order[max]!)).bytes);
    if (chunkMin < 0 || min < chunkMin) chunkMin = min;
    if (max > chunkMax) chunkMax = max;
  }

  const statistics: [number, ThriftType, ThriftValue][] = [[3, ThriftType.i64, BigInt(nulls)]];
  if (chunkMax >= 0) {
    const chunkUpper = upperBound(entryBytes(order[chunkMax]!));
    const chunkLower = lowerBound(entryBytes(order[chunkMin]!));
    statistics.push(
      [5, ThriftType.binary, chunkUpper.bytes],
      [6, ThriftType.binary, chunkLower.bytes],
      [7, ThriftType.boolTrue, chunkUpper.exact],
      [8, ThriftType.boolTrue, chunkLower.exact],
    );
  }
  const size = BigInt(out.length);
  const meta: MetaField[] = [
    {
      id: 2,
      type: ThriftType.list,
      value: list(ThriftType.i32, [Encoding.plain, Encoding.rle, Encoding.rleDictionary]),
    },
    { id: 4, type: ThriftType.i32, value: Codec.snappy },
    { id: 5, type: ThriftType.i64, value: BigInt(rows) },
    { id: 6, type: ThriftType.i64, value: BigInt(uncompressed) },
    { id: 7, type: ThriftType.i64, value: size },
    { id: 9, type: ThriftType.i64, value: BigInt(dataPageOffset) },
    { id: 11, type: ThriftType.i64, value: 0n },
    { id: 12, type: ThriftType.struct, value: struct(statistics) },
    {
      id: 13,
      type: ThriftType.list,
      value: list(ThriftType.struct, [
        struct([
          [1, ThriftType.i32, PageType.data],
          [2, ThriftType.i32, Encoding.rleDictionary],
          [3, ThriftType.i32, pages],
        ]),
        struct([
          [1, ThriftType.i32, PageType.dictionary],
          [2, ThriftType.i32, Encoding.plain],
          [3, ThriftType.i32, 1],
        ]),
      ]),
    },
  ];
  const columnIndex = encodeStruct(
    struct([
      [1, ThriftType.list, list(ThriftType.boolTrue, nullPages)],
      [2, ThriftType.list, list(ThriftType.binary, mins)],
      [3, ThriftType.list, list(ThriftType.binary, maxes)],
      [4, ThriftType.i32, boundaryOrder(mins, maxes, nullPages)],
      [5, ThriftType.list, list(ThriftType.i64, nullCounts)],
    ]),
  );
  const offsetIndex = struct([[1, ThriftType.list, list(ThriftType.struct, locations)]]);
  return { bytes: out.bytes.subarray(0, out.length), meta, columnIndex, offsetIndex };
}

/** ASCENDING or DESCENDING when the non-null pages' mins and maxes both run that way, else UNORDERED. */
function boundaryOrder(mins: Uint8Array[], maxes: Uint8Array[], nullPages: boolean[]): number {
  let ascending = true;
  let descending = true;
  let previous = -1;
  for (let p = 0; p < mins.length; p++) {
    if (nullPages[p]) continue;
    if (previous >= 0) {
      const byMin = Buffer.compare(mins[previous]!, mins[p]!);
      const byMax = Buffer.compare(maxes[previous]!, maxes[p]!);
      if (byMin > 0 || byMax > 0) ascending = false;
      if (byMin < 0 || byMax < 0) descending = false;
    }
    previous = p;
  }
  return ascending
    ? BoundaryOrder.ascending
    : descending
      ? BoundaryOrder.descending
      : BoundaryOrder.unordered;
}
