/**
 * Splices single-row-group Parquet files into one multi-row-group file.
 *
 * Each group is encoded as a complete little file (`PAR1`, column chunks,
 * page indexes, footer). Its column chunks are appended to the output as
 * they are, and its row-group metadata is kept with every file offset
 * shifted to the chunks' new position. Its page indexes (a few bytes per
 * page) are held back: column indexes verbatim (min/max, no offsets), offset
 * indexes re-encoded with each page location shifted likewise. At the end
 * they are written together after the last row group, column indexes then
 * offset indexes, as parquet-rs lays out a file itself, followed by the
 * footer: the first group's (schema, Arrow schema, column orders,
 * created_by) with the total row count and every row group.
 */
import { ParquetError } from './errors.js';
import type { TextChunk } from './text-dictionary.js';
import {
  decodeStruct,
  encodeStruct,
  field,
  intField,
  listField,
  removeField,
  setIntField,
  type ThriftList,
  type ThriftStruct,
  ThriftType,
} from './thrift.js';

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // PAR1

// Field ids of parquet.thrift.
const FileMeta = { numRows: 3, rowGroups: 4 } as const;
const RowGroup = {
  columns: 1,
  totalByteSize: 2,
  numRows: 3,
  fileOffset: 5,
  totalCompressedSize: 6,
  ordinal: 7,
} as const;
const Chunk = {
  fileOffset: 2,
  metaData: 3,
  offsetIndexOffset: 4,
  offsetIndexLength: 5,
  columnIndexOffset: 6,
  columnIndexLength: 7,
} as const;
const ChunkMeta = {
  totalUncompressedSize: 6,
  totalCompressedSize: 7,
  dataPageOffset: 9,
  indexPageOffset: 10,
  dictionaryPageOffset: 11,
  bloomFilterOffset: 14,
  bloomFilterLength: 15,
  sizeStatistics: 16,
} as const;
const OffsetIndex = { pageLocations: 1 } as const;
const PageLocation = { offset: 1 } as const;

interface HeldChunk {
  readonly chunk: ThriftStruct;
  readonly columnIndex: Uint8Array | undefined;
  readonly offsetIndex: Uint8Array | undefined;
}

function isMagic(bytes: Uint8Array, at: number): boolean {
  return MAGIC.every((b, i) => bytes[at + i] === b);
}

function columnsOf(rowGroup: ThriftStruct): ThriftStruct[] {
  return listField(rowGroup, RowGroup.columns).items as ThriftStruct[];
}

function metaOf(chunk: ThriftStruct): ThriftStruct {
  const f = field(chunk, Chunk.metaData);
  if (f === undefined) throw new ParquetError('Parquet column chunk lacks its metadata');
  return f.value as ThriftStruct;
}

function shift(struct: ThriftStruct, id: number, delta: bigint): void {
  const value = intField(struct, id);
  if (value !== undefined) setIntField(struct, id, field(struct, id)!.type, value + delta);
}

/** The bytes [offset, offset + length) named by a chunk's offset/length field pair, if present. */
function region(
  file: Uint8Array,
  chunk: ThriftStruct,
  offsetId: number,
  lengthId: number,
): Uint8Array | undefined {
  const offset = intField(chunk, offsetId);
  const length = intField(chunk, lengthId);
  if (offset === undefined || length === undefined) return undefined;
  if (offset < 0n || offset + length > BigInt(file.length))
    throw new ParquetError('Parquet page index out of range');
  return file.subarray(Number(offset), Number(offset + length));
}

export class FileAssembler {
  /** Bytes emitted so far (the file position of the next chunk). */
  private position = 0n;
  private template: ThriftStruct | undefined;
  private readonly rowGroupList: ThriftStruct[] = [];
  private readonly held: HeldChunk[] = [];
  private rows = 0n;

  /** Number of row groups added. */
  public get rowGroups(): number {
    return this.rowGroupList.length;
  }

  /**
   * Takes a complete Parquet file with at most one row group and returns the
   * bytes to append to the output now: `PAR1` first for the first file, then
   * the group's column chunks. A column named in `replacements` takes its
   * chunk from there instead (the file's own chunk for it is dropped): pages
   * encoded here (text-dictionary.ts), or the only chunk of a one-column
   * file parquet-rs wrote for it.
   */
  public add(file: Uint8Array, replacements?: ReadonlyMap<number, ChunkReplacement>): Uint8Array {
    const meta = footerOf(file);
    const first = this.template === undefined;
    if (first) this.template = meta;
    const start = first ? 0 : 4;
    const rowGroups = listField(meta, FileMeta.rowGroups).items as ThriftStruct[];
    if (rowGroups.length === 0) {
      this.position += BigInt(4 - start);
      return file.subarray(0, 4 - start);
    }
    if (rowGroups.length > 1) throw new ParquetError('Encoder split one row group in two');
    const rowGroup = rowGroups[0]!;
    const chunks = columnsOf(rowGroup).map((chunk) => sourceChunk(file, chunk));
    if (replacements === undefined || replacements.size === 0) {
      return this.place(rowGroup, chunks, file, start);
    }
    const columns = columnsOf(rowGroup);
    for (const [j, replacement] of replacements) {
      if (j < 0 || j >= columns.length) throw new ParquetError(`Parquet row group has no column ${j}`);
      const chunk = replaced(columns[j]!, replacement);
      columns[j] = chunk.chunk;
      chunks[j] = chunk;
    }
    let uncompressed = 0n;
    let compressed = 0n;
    for (const chunk of chunks) {
      uncompressed += intField(metaOf(chunk.chunk), ChunkMeta.totalUncompressedSize) ?? 0n;
      compressed += intField(metaOf(chunk.chunk), ChunkMeta.totalCompressedSize) ?? 0n;
    }
    setIntField(rowGroup, RowGroup.totalByteSize, ThriftType.i64, uncompressed);
    if (field(rowGroup, RowGroup.totalCompressedSize) !== undefined)
      setIntField(rowGroup, RowGroup.totalCompressedSize, ThriftType.i64, compressed);
    // The chunks come from several buffers: lay them out one after another in a new one.
    const length = chunks.reduce((sum, c) => sum + Number(c.end - c.begin), 0);
    const body = new Uint8Array(4 - start + length);
    body.set(MAGIC.subarray(0, 4 - start), 0);
    let at = 4 - start;
    for (const chunk of chunks) {
      body.set(chunk.source.subarray(Number(chunk.begin), Number(chunk.end)), at);
      this.hold(chunk, this.position + BigInt(at) - chunk.begin);
      at += Number(chunk.end - chunk.begin);
    }
    setIntField(rowGroup, RowGroup.fileOffset, ThriftType.i64, this.position + BigInt(4 - start));
    return this.appendGroup(rowGroup, body);
  }

  /** The group's chunks as the file lays them out, [4, end of the last chunk), moved as one. */
  private place(rowGroup: ThriftStruct, chunks: SourceChunk[], file: Uint8Array, start: number): Uint8Array {
    let dataEnd = 4n;
    for (const chunk of chunks) if (chunk.end > dataEnd) dataEnd = chunk.end;
    // A byte at offset x of the group's file lands at x + delta in the output.
    const delta = this.position - BigInt(start);
    shift(rowGroup, RowGroup.fileOffset, delta);
    for (const chunk of chunks) this.hold(chunk, delta);
    return this.appendGroup(rowGroup, file.subarray(start, Number(dataEnd)));
  }

  /** Shifts a chunk's offsets by `delta` and holds its page indexes back for `finish`. */
  private hold(source: SourceChunk, delta: bigint): void {
    const { chunk } = source;
    const m = metaOf(chunk);
    const fileOffset = intField(chunk, Chunk.fileOffset);
    // parquet-rs leaves the deprecated file_offset 0, as does a chunk encoded here; shift it only where it points at data.
    if (
      fileOffset !== undefined &&
      fileOffset > 0n &&
      fileOffset >= source.begin &&
      fileOffset < source.end
    ) {
      shift(chunk, Chunk.fileOffset, delta);
    }
    shift(m, ChunkMeta.dataPageOffset, delta);
    shift(m, ChunkMeta.indexPageOffset, delta);
    shift(m, ChunkMeta.dictionaryPageOffset, delta);
    // Bloom filters are never enabled; drop any reference rather than carry a stale one.
    removeField(m, ChunkMeta.bloomFilterOffset);
    removeField(m, ChunkMeta.bloomFilterLength);
    this.held.push({
      chunk,
      columnIndex: source.columnIndex,
      offsetIndex: shiftedOffsetIndex(source.offsetIndex, delta),
    });
  }

  private appendGroup(rowGroup: ThriftStruct, body: Uint8Array): Uint8Array {
    setIntField(rowGroup, RowGroup.ordinal, ThriftType.i16, BigInt(this.rowGroupList.length));
    this.rows += intField(rowGroup, RowGroup.numRows) ?? 0n;
    this.rowGroupList.push(rowGroup);
    this.position += BigInt(body.length);
    return body;
  }

  /** The end of the file: the page indexes, the footer, its length and `PAR1`. */
  public finish(): Uint8Array {
    const template = this.template;
    if (template === undefined) throw new ParquetError('No Parquet file was added before finish');
    const parts: Uint8Array[] = [];
    let position = this.position;
    const place = (
      chunk: ThriftStruct,
      bytes: Uint8Array | undefined,
      offsetId: number,
      lengthId: number,
    ): void => {
      if (bytes === undefined) {
        removeField(chunk, offsetId);
        removeField(chunk, lengthId);
        return;
      }
      setIntField(chunk, offsetId, ThriftType.i64, position);
      setIntField(chunk, lengthId, ThriftType.i32, BigInt(bytes.length));
      parts.push(bytes);
      position += BigInt(bytes.length);
    };
    for (const h of this.held)
      place(h.chunk, h.columnIndex, Chunk.columnIndexOffset, Chunk.columnIndexLength);
    for (const h of this.held)
      place(h.chunk, h.offsetIndex, Chunk.offsetIndexOffset, Chunk.offsetIndexLength);

    setIntField(template, FileMeta.numRows, ThriftType.i64, this.rows);
    (listField(template, FileMeta.rowGroups) as ThriftList).items = this.rowGroupList;
    const footer = encodeStruct(template);
    const indexLength = Number(position - this.position);
    const out = new Uint8Array(indexLength + footer.length + 8);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    out.set(footer, at);
    at += footer.length;
    new DataView(out.buffer).setUint32(at, footer.length, true);
    out.set(MAGIC, at + 4);
    this.position += BigInt(out.length);
    return out;
  }
}

/** An offset index with every page location moved by `delta`, re-encoded. */
function shiftedOffsetIndex(index: ThriftStruct | undefined, delta: bigint): Uint8Array | undefined {
  if (index === undefined) return undefined;
  for (const page of listField(index, OffsetIndex.pageLocations).items as ThriftStruct[]) {
    shift(page, PageLocation.offset, delta);
  }
  return encodeStruct(index);
}

/** What replaces a column's chunk in a group (see `FileAssembler.add`). */
export type ChunkReplacement =
  | { readonly kind: 'pages'; readonly chunk: TextChunk }
  | { readonly kind: 'file'; readonly file: Uint8Array };

/** A column chunk, where its bytes lie in their buffer, and its page indexes. */
interface SourceChunk {
  readonly chunk: ThriftStruct;
  readonly source: Uint8Array;
  /** [begin, end): the chunk's pages in `source`; the chunk's offsets are relative to `source`. */
  readonly begin: bigint;
  readonly end: bigint;
  readonly columnIndex: Uint8Array | undefined;
  readonly offsetIndex: ThriftStruct | undefined;
}

function footerOf(file: Uint8Array): ThriftStruct {
  const footerLength = new DataView(file.buffer, file.byteOffset + file.length - 8, 4).getUint32(0, true);
  const footerStart = file.length - 8 - footerLength;
  if (file.length < 12 || !isMagic(file, 0) || !isMagic(file, file.length - 4) || footerStart < 4) {
    throw new ParquetError('Encoder produced an invalid Parquet file');
  }
  return decodeStruct(file.subarray(footerStart, file.length - 8));
}

function sourceChunk(file: Uint8Array, chunk: ThriftStruct): SourceChunk {
  const m = metaOf(chunk);
  const dictionary = intField(m, ChunkMeta.dictionaryPageOffset);
  const begin =
    dictionary !== undefined && dictionary > 0n ? dictionary : intField(m, ChunkMeta.dataPageOffset)!;
  const end = begin + intField(m, ChunkMeta.totalCompressedSize)!;
  const footerLength = new DataView(file.buffer, file.byteOffset + file.length - 8, 4).getUint32(0, true);
  if (begin < 4n || end > BigInt(file.length - 8 - footerLength))
    throw new ParquetError('Parquet column chunks overlap the footer');
  const offsetIndex = region(file, chunk, Chunk.offsetIndexOffset, Chunk.offsetIndexLength);
  return {
    chunk,
    source: file,
    begin,
    end,
    columnIndex: region(file, chunk, Chunk.columnIndexOffset, Chunk.columnIndexLength)?.slice(),
    offsetIndex: offsetIndex === undefined ? undefined : decodeStruct(offsetIndex),
  };
}

/** The chunk that replaces `placeholder` (the file's own chunk for the column). */
function replaced(placeholder: ThriftStruct, replacement: ChunkReplacement): SourceChunk {
  if (replacement.kind === 'file') {
    const rowGroups = listField(footerOf(replacement.file), FileMeta.rowGroups).items as ThriftStruct[];
    const columns = rowGroups.length === 1 ? columnsOf(rowGroups[0]!) : [];
    if (columns.length !== 1) throw new ParquetError('A replacement column file must hold one column chunk');
    return sourceChunk(replacement.file, columns[0]!);
  }
  const { chunk } = replacement;
  const m = metaOf(placeholder);
  for (const f of chunk.meta) {
    removeField(m, f.id);
    m.fields.push({ id: f.id, type: f.type, value: f.value });
  }
  // Statistics of the placeholder's bytes (size statistics) no longer describe the column.
  removeField(m, ChunkMeta.sizeStatistics);
  removeField(m, ChunkMeta.indexPageOffset);
  removeField(placeholder, Chunk.offsetIndexOffset);
  removeField(placeholder, Chunk.offsetIndexLength);
  removeField(placeholder, Chunk.columnIndexOffset);
  removeField(placeholder, Chunk.columnIndexLength);
  return {
    chunk: placeholder,
    source: chunk.bytes,
    begin: 0n,
    end: BigInt(chunk.bytes.length),
    columnIndex: chunk.columnIndex,
    offsetIndex: chunk.offsetIndex,
  };
}
