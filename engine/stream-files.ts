/**
 * Writes one stream's row groups into staged Parquet files: rotates to a new
 * file when the target size is reached or the schema changes, and streams
 * each file's bytes to the object store as they are encoded.
 */
import type { SourceRecord } from '../connectors/sdk/types.js';
import { ByteChannel } from './channel.js';
import type { ManifestFile } from './commit.js';
import { rawFileKey, stagingFileKey } from './layout.js';
import {
  type ColumnData,
  createParquetWriter,
  type FusedCheck,
  type ParquetFileWriter,
} from './parquet/index.js';
import type { Column, ObjectStore } from './ports.js';

export interface StreamFilesOptions {
  readonly objects: ObjectStore;
  readonly source: string;
  readonly stream: string;
  readonly runId: string;
  readonly partition: string;
  readonly targetFileBytes: number;
  readonly compression: 'snappy' | 'zstd';
  /** Cut a row group once its Arrow data reaches this many bytes. @default the writer's (32 MiB) */
  readonly rowGroupBytes?: number;
  /** At most this many rows per row group. @default the writer's (1,048,576) */
  readonly rowGroupRows?: number;
  /** Part number of the first file (a run's later slices continue the numbering). @default 0 */
  readonly firstIndex?: number;
  readonly onFileWritten?: (file: ManifestFile) => void | Promise<void>;
}

interface OpenFile {
  readonly index: number;
  readonly columns: readonly Column[];
  readonly writer: ParquetFileWriter;
  readonly channel: ByteChannel;
  readonly upload: Promise<number>;
}

function sameColumns(a: readonly Column[], b: readonly Column[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type);
}

export class StreamFiles {
  private open: OpenFile | undefined;
  private nextIndex: number;
  public readonly files: ManifestFile[] = [];

  public constructor(private readonly options: StreamFilesOptions) {
    this.nextIndex = options.firstIndex ?? 0;
  }

  /** The part number the next file will take. */
  public get nextPart(): number {
    return this.nextIndex;
  }

  /** Bytes of finished files plus what the open file has written so far. */
  public get bytes(): number {
    return this.files.reduce((sum, f) => sum + f.bytes, 0) + (this.open?.writer.bytesWritten ?? 0);
  }

  /** Adds rows to the open file's row group (cut by bytes); a new column list starts a new file. */
  public async write(
    columns: readonly Column[],
    rows: readonly SourceRecord[],
    constants: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const file = await this.fileFor(columns);
    await file.writer.write(rows, constants);
    if (file.writer.bytesWritten >= this.options.targetFileBytes) await this.closeFile();
  }

  /**
   * `write` into the open file, when its columns are `columns` and every
   * record and value holds to `check` (see RowConverter.convertIfFits);
   * false, having written nothing (and opened no file), otherwise.
   */
  public async writeIfFits(
    columns: readonly Column[],
    rows: readonly SourceRecord[],
    constants: Readonly<Record<string, unknown>>,
    check: FusedCheck,
  ): Promise<boolean> {
    const file = this.open;
    if (file === undefined || !sameColumns(file.columns, columns)) return false;
    if (!(await file.writer.writeIfFits(rows, constants, check))) return false;
    if (file.writer.bytesWritten >= this.options.targetFileBytes) await this.closeFile();
    return true;
  }

  /** `write`, then ends the row group with these rows. */
  public async writeRowGroup(
    columns: readonly Column[],
    rows: readonly SourceRecord[],
    constants: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const file = await this.fileFor(columns);
    await file.writer.writeRowGroup(rows, constants);
    if (file.writer.bytesWritten >= this.options.targetFileBytes) await this.closeFile();
  }

  /** Column buffers (by column name) as rows of the open file, gathered into row groups by size; see ParquetFileWriter.writeColumns. */
  public async writeColumns(
    columns: readonly Column[],
    rows: number,
    data: Readonly<Record<string, ColumnData>>,
    constants: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const file = await this.fileFor(columns);
    await file.writer.writeColumns(rows, data, constants);
    if (file.writer.bytesWritten >= this.options.targetFileBytes) await this.closeFile();
  }

  private async fileFor(columns: readonly Column[]): Promise<OpenFile> {
    if (this.open && !sameColumns(this.open.columns, columns)) await this.closeFile();
    return this.open ?? this.openFile(columns);
  }

  public async finish(): Promise<ManifestFile[]> {
    await this.closeFile();
    return this.files;
  }

  /** Stops writing and removes whatever this stream staged. */
  public async discard(): Promise<void> {
    const file = this.open;
    this.open = undefined;
    if (file) {
      file.channel.fail(new Error('discarded'));
      await file.writer.close().catch(() => undefined);
      await file.upload.catch(() => undefined);
      await this.options.objects.delete(this.stagingKey(file.index));
    }
    for (const staged of this.files) await this.options.objects.delete(staged.staging);
    this.files.length = 0;
  }

  private stagingKey(index: number): string {
    const { source, runId, stream } = this.options;
    return stagingFileKey(source, runId, stream, index);
  }

  private openFile(columns: readonly Column[]): OpenFile {
    const index = this.nextIndex++;
    const channel = new ByteChannel();
    const { compression, rowGroupBytes, rowGroupRows } = this.options;
    // The writer first: one that cannot be created (bad settings) must not leave an upload waiting.
    const writer = createParquetWriter(columns, (chunk) => channel.push(chunk), {
      compression,
      ...(rowGroupBytes === undefined ? {} : { rowGroupBytes }),
      ...(rowGroupRows === undefined ? {} : { rowGroupRows }),
    });
    const upload = this.options.objects.put(this.stagingKey(index), channel);
    // A failed upload must stop the writer's pushes rather than leave them waiting.
    upload.catch((error: unknown) => channel.fail(error));
    this.open = { index, columns, writer, channel, upload };
    return this.open;
  }

  private async closeFile(): Promise<void> {
    const file = this.open;
    if (!file) return;
    this.open = undefined;
    try {
      await file.writer.finish();
      file.channel.end();
      await file.upload;
    } catch (error) {
      file.channel.fail(error);
      await file.upload.catch(() => undefined);
      throw error;
    } finally {
      await file.writer.close();
    }
    const { source, stream, partition, runId } = this.options;
    const written: ManifestFile = {
      staging: this.stagingKey(file.index),
      final: rawFileKey(source, stream, partition, runId, file.index),
      rows: file.writer.rows,
      bytes: file.writer.bytesWritten,
    };
    this.files.push(written);
    await this.options.onFileWritten?.(written);
  }
}
