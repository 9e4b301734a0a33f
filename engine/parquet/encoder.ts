/**
 * Encodes prepared row groups (Arrow IPC) with parquet-wasm (parquet-rs) and
 * splices them into one file. Runs on the encoder worker, or inline (on one
 * core, when asked, or when no worker can be started; see encoder-place.ts).
 * WASM memory never shrinks, so it is only ever asked
 * to hold one row group.
 */
import {
  Compression,
  EnabledStatistics,
  Table,
  WriterPropertiesBuilder,
  WriterVersion,
  writeParquet,
} from 'parquet-wasm';
import { type ChunkReplacement, FileAssembler } from './assemble.js';
import { plainText } from './dictionary.js';
import { ParquetError } from './errors.js';
import {
  ByteSink,
  encodeTextDictionary,
  NumberedValues,
  type TextPart,
  TextScratch,
} from './text-dictionary.js';
import type { TextEntries } from './text-ids.js';

export type ParquetCompression = 'snappy' | 'zstd';

/** A converted row group, ready for the encoder. */
export interface PreparedGroup {
  readonly rows: number;
  /** Arrow IPC stream: the schema and the group's record batches (written as one row group). */
  readonly ipc: Uint8Array;
  /** Columns to write without dictionary encoding (see dictionary.ts). */
  readonly plain: readonly string[];
  /**
   * Text columns gathered apart (ADR 0017): `ipc` holds them as nulls, and
   * each is encoded here, from ids of numbered values or from its own stream.
   */
  readonly text?: readonly TextColumn[];
  /** Values the writer numbered since the previous group, by column (text-ids.ts). */
  readonly numbered?: readonly NumberedText[];
}

export interface NumberedText {
  /** The column's position in the group's schema. */
  readonly index: number;
  readonly entries: TextEntries;
}

/** One text column of a group as its own Arrow IPC stream, and where its parts lie in it. */
export interface TextColumn {
  /** The column's position in the group's schema. */
  readonly index: number;
  readonly name: string;
  /** Rows of the column that are null. */
  readonly nullCount: number;
  /** Each row's id in the writer's numbering of the column's values (-1 null); or else: */
  readonly ids?: Int32Array;
  /** The column's own one-column IPC stream, and where its parts lie in it. */
  readonly ipc?: Uint8Array;
  readonly parts?: readonly TextPart[];
}

/** An encoded group: the bytes to append, and the group's IPC buffer, free to reuse. */
export interface EncodedGroup {
  readonly bytes: Uint8Array;
  readonly spare: ArrayBuffer | undefined;
}

export class GroupEncoder {
  private readonly assembler = new FileAssembler();
  /** By column position: the values the writer has numbered so far. */
  private readonly numbered = new Map<number, NumberedValues>();
  /**
   * Buffers text chunks reuse group after group: scratch for any column,
   * and each column's pages (the assembler copies them before the next group).
   */
  private readonly scratch = new TextScratch();
  private readonly pages = new Map<number, ByteSink>();

  public constructor(private readonly compression: ParquetCompression) {}

  /** Encodes one group; returns the bytes to append to the file now. */
  public encode(group: PreparedGroup): Uint8Array {
    const file = this.write(group.ipc, group.rows, group.plain);
    const replacements = new Map<number, ChunkReplacement>();
    for (const numbered of group.numbered ?? []) this.numberedOf(numbered.index).add(numbered.entries);
    for (const text of group.text ?? []) {
      // The group's own chunk for the column (all nulls) is right when every value is null.
      if (text.nullCount === group.rows) continue;
      replacements.set(text.index, this.textChunk(text, group.rows));
    }
    return this.assembler.add(file, replacements);
  }

  /** A text column's chunk: dictionary-encoded here from ids, else by parquet-rs alone. */
  private textChunk(text: TextColumn, rows: number): ChunkReplacement {
    if (text.ids !== undefined) {
      let pages = this.pages.get(text.index);
      if (pages === undefined) {
        pages = new ByteSink();
        this.pages.set(text.index, pages);
      }
      const chunk = encodeTextDictionary(text.ids, this.numberedOf(text.index), rows, this.scratch, pages);
      return { kind: 'pages', chunk };
    }
    // Ids turned into text part-way through the group (the interner stopped): parquet-rs encodes the column alone.
    const distinct = plainText(text.ipc!, text.parts!, rows);
    return { kind: 'file', file: this.write(text.ipc!, rows, distinct ? [text.name] : []) };
  }

  private numberedOf(index: number): NumberedValues {
    let values = this.numbered.get(index);
    if (values === undefined) {
      values = new NumberedValues();
      this.numbered.set(index, values);
    }
    return values;
  }

  private write(ipc: Uint8Array, rows: number, plain: readonly string[]): Uint8Array {
    let table: Table;
    try {
      table = Table.fromIPCStream(ipc);
    } catch (cause) {
      throw new ParquetError('parquet-wasm rejected the Arrow data of a row group', { cause });
    }
    let builder = new WriterPropertiesBuilder()
      .setCompression(this.compression === 'zstd' ? Compression.ZSTD : Compression.SNAPPY)
      .setStatisticsEnabled(EnabledStatistics.Page)
      .setWriterVersion(WriterVersion.V1)
      .setMaxRowGroupSize(Math.max(1, rows));
    for (const name of plain) builder = builder.setColumnDictionaryEnabled(name, false);
    try {
      return writeParquet(table, builder.build());
    } catch (cause) {
      throw new ParquetError('parquet-wasm failed to encode a row group', { cause });
    }
  }

  /** The file's end: page indexes and footer. At least one group (possibly empty) must come first. */
  public finish(): Uint8Array {
    return this.assembler.finish();
  }
}
