/**
 * The streaming file writer: converts each row group on the caller's thread,
 * hands it to the encoder (the shared worker thread, or inline), and passes
 * the encoded bytes to the sink in file order. At most one group is in
 * flight: converting group N+1 overlaps with encoding group N, and
 * `writeRowGroup` for N+1 waits for N to reach the sink before handing over.
 */
// @ts-nocheck

import type { SourceRecord } from '../../connectors/sdk/types.js';
import { ArrowIpcWriter } from './arrow.js';
import { type ParquetColumn, RowConverter, type RowGroupData } from './convert.js';
import { plainColumns } from './dictionary.js';
import type { GroupEncoder, ParquetCompression, PreparedGroup } from './encoder.js';
import { ThreadEncoder } from './encoder-thread.js';
import { ParquetError } from './errors.js';

export interface ParquetWriterOptions {
  /** @default 'snappy' */
  readonly compression?: ParquetCompression;
  /**
   * Encode on the shared worker thread so conversion and encoding use two
   * cores. Falls back to inline encoding when no worker can be started.
   * @default true
   */
  readonly worker?: boolean;
}

export interface ParquetFileWriter {
  /**
   * Encodes one row group from the rows. Columns named in `constants` take
   * that value on every row instead of reading row[name]. May resolve before
   * the group is fully encoded; at most one group is in flight.
   */
  writeRowGroup(rows: readonly SourceRecord[], constants?: Readonly<Record<string, unknown>>): Promise<void>;
  /** Flushes the last group and the footer to the sink; the file is then complete. */
  finish(): Promise<void>;
  /** Releases resources (worker state, buffers) without finishing; safe after finish. */
  close(): Promise<void>;
  readonly bytesWritten: number;
  readonly rows: number;
  readonly rowGroups: number;
  /** Where this file's groups are encoded, once that is settled (read-only; for tests and diagnostics). */
  encodedOn(): Promise<EncodedOn>;
}

/** `thread`: the shared encoder worker; `inline`: the caller's thread (asked for, or the worker did not start). */
export type EncodedOn = 'thread' | 'inline';

interface Encoder {
  encode(group: PreparedGroup): Promise<Uint8Array>;
  finish(): Promise<Uint8Array>;
  release(): Promise<void>;
}

/**
 * Encodes on the caller's thread. parquet-wasm is imported on first use, so
 * a process that encodes on the worker never instantiates WASM itself.
 */
class InlineEncoder implements Encoder {
  private encoder: Promise<GroupEncoder> | undefined;
  public constructor(compression: ParquetCompression) {
    this.encoder = import('./encoder.js').then((m) => new m.GroupEncoder(compression));
    this.encoder.catch(() => undefined);
  }
  public async encode(group: PreparedGroup): Promise<Uint8Array> {
    return (await this.live()).encode(group);
  }
  public async finish(): Promise<Uint8Array> {
    const bytes = (await this.live()).finish();
    this.encoder = undefined;
    return bytes;
  }
  public async release(): Promise<void> {
    this.encoder = undefined;
  }
  private live(): Promise<GroupEncoder> {
    if (this.encoder === undefined) throw new ParquetError('Parquet encoder already released');
    return this.encoder;
  }
}

/** Uses the worker thread, or inline encoding if the thread does not start. */
class FallbackEncoder implements Encoder {
  private readonly choice: Promise<Encoder>;
  public readonly encodedOn: Promise<EncodedOn>;
  public constructor(compression: ParquetCompression) {
    const thread = new ThreadEncoder(compression);
    this.choice = thread.started().then(
      () => thread,
      async () => {
        await thread.release();
        return new InlineEncoder(compression);
      },
    );
    this.encodedOn = this.choice.then((chosen) => (chosen === thread ? 'thread' : 'inline'));
  }
  public async encode(group: PreparedGroup): Promise<Uint8Array> {
    return (await this.choice).encode(group);
  }
  public async finish(): Promise<Uint8Array> {
    return (await this.choice).finish();
  }
  public async release(): Promise<void> {
    return (await this.choice).release();
  }
}

const State = { open: 'open', finished: 'finished', closed: 'closed', failed: 'failed' } as const;
type State = (typeof State)[keyof typeof State];

class StreamingParquetWriter implements ParquetFileWriter {
  public bytesWritten = 0;
  public rows = 0;
  public rowGroups = 0;
  private readonly converter: RowConverter;
  private readonly ipc: ArrowIpcWriter;
  private readonly encoder: Encoder;
  private inFlight: Promise<void> = Promise.resolve();
  private queue: Promise<unknown> = Promise.resolve();
  private state: State = State.open;
  private failure: Error | undefined;

  public constructor(
    private readonly columns: readonly ParquetColumn[],
    private readonly sink: (chunk: Uint8Array) => Promise<void>,
    options: ParquetWriterOptions,
  ) {
    this.converter = new RowConverter(columns);
    const compression = options.compression ?? 'snappy';
    if (compression !== 'snappy' && compression !== 'zstd') {
      throw new ParquetError(`Unknown Parquet compression "${String(compression)}"; use snappy or zstd`);
    }
    this.ipc = new ArrowIpcWriter(columns);
    this.encoder =
      options.worker === false ? new InlineEncoder(compression) : new FallbackEncoder(compression);
  }

  public encodedOn(): Promise<EncodedOn> {
    return this.encoder instanceof FallbackEncoder ? this.encoder.encodedOn : Promise.resolve('inline');
  }

  public writeRowGroup(
    rows: readonly SourceRecord[],
    constants?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    return this.serialize(() => this.write(rows, constants));
  }

  public finish(): Promise<void> {
    return this.serialize(() => this.complete());
  }

  public close(): Promise<void> {
    return this.serialize(() => this.release());
  }

  /** Runs operations one after another even if a caller does not await the previous one. */
  private serialize(operation: () => Promise<void>): Promise<void> {
    const run = this.queue.then(operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(
    rows: readonly SourceRecord[],
    constants?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    this.assertOpen('writeRowGroup');
    if (rows.length === 0) return;
    // Converting here overlaps with the encoding of the group in flight.
    const group = this.prepare(this.converter.convert(rows, constants));
    await this.settle();
    this.rows += rows.length;
    this.rowGroups++;
    this.inFlight = this.encoder.encode(group).then((bytes) => this.emit(bytes));
    this.inFlight.catch((error: unknown) => this.fail(error));
  }

  private async complete(): Promise<void> {
    this.assertOpen('finish');
    await this.settle();
    try {
      // A file without rows still needs its schema: encode one empty group.
      if (this.rowGroups === 0) {
        await this.emit(await this.encoder.encode(this.prepare(this.converter.convert([]))));
      }
      await this.emit(await this.encoder.finish());
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
    this.state = State.finished;
  }

  private async release(): Promise<void> {
    if (this.state === State.closed) return;
    if (this.state === State.open || this.state === State.failed) this.state = State.closed;
    await this.inFlight.catch(() => undefined);
    await this.encoder.release();
  }

  /** Lays a converted group out as Arrow IPC, the encoder's input, here on the caller's thread. */
  private prepare(group: RowGroupData): PreparedGroup {
    return { rows: group.rows, ipc: this.ipc.write(group), plain: plainColumns(this.columns, group) };
  }

  /** Waits for the group in flight; rethrows its failure. */
  private async settle(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    if (this.failure !== undefined) throw this.failure;
  }

  private async emit(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    await this.sink(bytes);
    this.bytesWritten += bytes.length;
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new ParquetError(String(error));
    if (this.state === State.open) this.state = State.failed;
  }

  private assertOpen(operation: string): void {
    if (this.state === State.failed && this.failure !== undefined) throw this.failure;
    if (this.state !== State.open)
      throw new ParquetError(`Cannot ${operation}: the Parquet writer is ${this.state}`);
  }
}

/** `sink` receives the file's bytes in order (the first chunk starts with PAR1); the writer awaits it. */
export function createParquetWriter(
  columns: readonly ParquetColumn[],
  sink: (chunk: Uint8Array) => Promise<void>,
  options: ParquetWriterOptions = {},
): ParquetFileWriter {
  return new StreamingParquetWriter(columns, sink, options);
}
