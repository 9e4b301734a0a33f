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
import { FileAssembler } from './assemble.js';
import { ParquetError } from './errors.js';

export type ParquetCompression = 'snappy' | 'zstd';

/** A converted row group, ready for the encoder. */
export interface PreparedGroup {
  readonly rows: number;
  /** Arrow IPC stream: the schema and the group's record batches (written as one row group). */
  readonly ipc: Uint8Array;
  /** Columns to write without dictionary encoding (see dictionary.ts). */
  readonly plain: readonly string[];
}

/** An encoded group: the bytes to append, and the group's IPC buffer, free to reuse. */
export interface EncodedGroup {
  readonly bytes: Uint8Array;
  readonly spare: ArrayBuffer | undefined;
}

export class GroupEncoder {
  private readonly assembler = new FileAssembler();

  public constructor(private readonly compression: ParquetCompression) {}

  /** Encodes one group; returns the bytes to append to the file now. */
  public encode(group: PreparedGroup): Uint8Array {
    let table: Table;
    try {
      table = Table.fromIPCStream(group.ipc);
    } catch (cause) {
      throw new ParquetError('parquet-wasm rejected the Arrow data of a row group', { cause });
    }
    let builder = new WriterPropertiesBuilder()
      .setCompression(this.compression === 'zstd' ? Compression.ZSTD : Compression.SNAPPY)
      .setStatisticsEnabled(EnabledStatistics.Page)
      .setWriterVersion(WriterVersion.V1)
      .setMaxRowGroupSize(Math.max(1, group.rows));
    for (const name of group.plain) builder = builder.setColumnDictionaryEnabled(name, false);
    let file: Uint8Array;
    try {
      file = writeParquet(table, builder.build());
    } catch (cause) {
      throw new ParquetError('parquet-wasm failed to encode a row group', { cause });
    }
    return this.assembler.add(file);
  }

  /** The file's end: page indexes and footer. At least one group (possibly empty) must come first. */
  public finish(): Uint8Array {
    return this.assembler.finish();
  }
}
