/**
 * The streaming file writer: converts rows on the caller's thread as they
 * are written, gathers them into a row group until its column data reaches
 * `rowGroupBytes`, hands the group to the encoder (the shared worker thread,
 * or inline), and passes the encoded bytes to the sink in file order.
 * Memory is bounded by bytes, not rows: at most one group is in flight and
 * one is being gathered; a write that completes a group waits for the group
 * in flight to reach the sink before handing the next one over
 * (backpressure), so converting group N+1 overlaps with encoding group N
 * on the thread (inline, the group is encoded before the writer goes on).
 */
import type { SourceRecord } from '../../connectors/sdk/types.js';
import { markChunkDisposable } from '../disposable-chunks.js';
import { ArrowIpcWriter, IpcStream } from './arrow.js';
import {
  type ColumnData,
  type FusedCheck,
  type ParquetColumn,
  RowConverter,
  type RowGroupData,
} from './convert.js';
import { plainColumns } from './dictionary.js';
import type {
  EncodedGroup,
  GroupEncoder,
  NumberedText,
  ParquetCompression,
  PreparedGroup,
  TextColumn,
} from './encoder.js';
import { type EncoderPlace, encoderPlace } from './encoder-place.js';
import { ThreadEncoder } from './encoder-thread.js';
import { ParquetError } from './errors.js';
import { keepIdleIpcBuffers, takeIdleIpcBuffer } from './idle-ipc-buffers.js';
import { RowSizer } from './slice.js';

/** Default `rowGroupBytes`: the Arrow size at which a row group is cut (see ADR 0002). */
export const DEFAULT_ROW_GROUP_BYTES = 32 * 1024 * 1024;
/** A new IPC buffer starts at most this large (it grows when a group needs more). */
const MAX_FIRST_BUFFER = 64 * 1024 * 1024;
/** Default `rowGroupRows`: parquet-rs's own row-group limit. */
export const DEFAULT_ROW_GROUP_ROWS = 1024 * 1024;

export interface ParquetWriterOptions {
  /** @default 'snappy' */
  readonly compression?: ParquetCompression;
  /**
   * Encode on the shared worker thread so conversion and encoding use two
   * cores (`true`), or inline (`false`). Falls back to inline encoding when
   * no worker can be started. @default the thread on two cores or more,
   * inline on one; SLUICE_PARQUET_ENCODER overrides (see encoder-place.ts)
   */
  readonly worker?: boolean;
  /**
   * A row group is cut once its converted column data (Arrow bytes: fixed
   * widths plus UTF-8 text) reaches this size; it exceeds it by less than
   * the row that reached it. @default 33554432 (32 MiB)
   */
  readonly rowGroupBytes?: number;
  /** At most this many rows per row group. @default 1048576 */
  readonly rowGroupRows?: number;
  /**
   * Gather text columns on their own and dictionary-encode them in
   * JavaScript (text-dictionary.ts, ADR 0017) rather than in parquet-rs.
   * Snappy files, string columns only. @default true, unless
   * SLUICE_PARQUET_TEXT=wasm
   */
  readonly textInJs?: boolean;
}

export interface ParquetFileWriter {
  /**
   * Adds rows to the row group being gathered, cutting groups by
   * `rowGroupBytes`. Columns named in `constants` take that value on every
   * row instead of reading row[name]. The rows are converted whole before
   * any joins the group, so a value that does not convert rejects the call
   * and leaves the writer as it was; once it resolves the caller may drop
   * the rows. Waits while a completed group cannot be handed over yet.
   */
  write(rows: readonly SourceRecord[], constants?: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * `write`, when every record and value holds to `check` (RowConverter's
   * `convertIfFits`); resolves false, having written nothing, when one does
   * not.
   */
  writeIfFits(
    rows: readonly SourceRecord[],
    constants: Readonly<Record<string, unknown>> | undefined,
    check: FusedCheck,
  ): Promise<boolean>;
  /**
   * `write`, then ends the row group (which may also have been cut earlier
   * by size). May resolve before the group is fully encoded.
   */
  writeRowGroup(rows: readonly SourceRecord[], constants?: Readonly<Record<string, unknown>>): Promise<void>;
  /** Ends the row group being gathered, if it holds rows. */
  endRowGroup(): Promise<void>;
  /**
   * Adds `rows` rows, as `write` does, from column buffers in Arrow layout
   * (`data` by column name, e.g. a connector's column batch); columns named in
   * `constants` take that value, any other column is null. The buffers are
   * copied before it resolves; row groups are cut by size, and
   * `endRowGroup` ends one early.
   */
  writeColumns(
    rows: number,
    data: Readonly<Record<string, ColumnData>>,
    constants?: Readonly<Record<string, unknown>>,
  ): Promise<void>;
  /** Flushes the last group and the footer to the sink; the file is then complete. */
  finish(): Promise<void>;
  /** Releases resources (worker state, buffers) without finishing; safe after finish. */
  close(): Promise<void>;
  readonly bytesWritten: number;
  readonly rows: number;
  readonly rowGroups: number;
  /** Arrow bytes of the rows gathered for the next row group (not yet handed to the encoder). */
  readonly bufferedBytes: number;
  /** Where this file's groups are encoded, once that is settled (read-only; for tests and diagnostics). */
  encodedOn(): Promise<EncodedOn>;
}

/** `thread`: the shared encoder worker; `inline`: the caller's thread (chosen, or the worker did not start). */
export type EncodedOn = EncoderPlace;

interface Encoder {
  encode(group: PreparedGroup): Promise<EncodedGroup>;
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
  public async encode(group: PreparedGroup): Promise<EncodedGroup> {
    const bytes = (await this.live()).encode(group);
    return { bytes, spare: group.ipc.buffer as ArrayBuffer };
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
  public async encode(group: PreparedGroup): Promise<EncodedGroup> {
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
  public bufferedBytes = 0;
  private readonly converter: RowConverter;
  private readonly ipc: ArrowIpcWriter;
  private readonly encoder: Encoder;
  private readonly sizer: RowSizer;
  private readonly targetBytes: number;
  private readonly maxRows: number;
  /** The row group being gathered, laid out as Arrow IPC part by part. */
  private gathering: IpcStream | undefined;
  /** Positions of the string columns that may be gathered apart (ADR 0017), and a stream writer for each. */
  private readonly textIndexes: readonly number[];
  private readonly textWriters: readonly ArrowIpcWriter[];
  /**
   * How the group being gathered holds each of those columns (see
   * `gatherText`): apart as its rows' ids, apart as a stream of its own
   * (ids turned into text part-way), or INLINE, as text in `gathering`.
   */
  private texts: (TextIds | IpcStream | typeof INLINE | undefined)[] = [];
  private bufferedRows = 0;
  /** Rows of the last group handed over: the next group's text ids are sized for as many. */
  private lastGroupRows = 0;
  /** IPC buffers of encoded groups, reused for the next groups (at most two circulate). */
  private spares: ArrayBuffer[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private queue: Promise<unknown> = Promise.resolve();
  private state: State = State.open;
  private failure: Error | undefined;

  public constructor(
    private readonly columns: readonly ParquetColumn[],
    private readonly sink: (chunk: Uint8Array) => Promise<void>,
    options: ParquetWriterOptions,
  ) {
    const compression = options.compression ?? 'snappy';
    if (compression !== 'snappy' && compression !== 'zstd') {
      throw new ParquetError(`Unknown Parquet compression "${String(compression)}"; use snappy or zstd`);
    }
    this.ipc = new ArrowIpcWriter(columns);
    const textInJs = options.textInJs ?? textInJsFromEnvironment();
    this.textIndexes =
      compression === 'snappy' && textInJs ? columns.flatMap((c, j) => (c.type === 'string' ? [j] : [])) : [];
    this.textWriters = this.textIndexes.map((j) => new ArrowIpcWriter([columns[j]!]));
    this.converter = new RowConverter(columns, this.textIndexes.length > 0);
    this.sizer = new RowSizer(columns);
    this.targetBytes = positive(options.rowGroupBytes, DEFAULT_ROW_GROUP_BYTES, 'rowGroupBytes');
    this.maxRows = positive(options.rowGroupRows, DEFAULT_ROW_GROUP_ROWS, 'rowGroupRows');
    const place = options.worker === undefined ? encoderPlace() : options.worker ? 'thread' : 'inline';
    this.encoder = place === 'inline' ? new InlineEncoder(compression) : new FallbackEncoder(compression);
  }

  public encodedOn(): Promise<EncodedOn> {
    return this.encoder instanceof FallbackEncoder ? this.encoder.encodedOn : Promise.resolve('inline');
  }

  public write(rows: readonly SourceRecord[], constants?: Readonly<Record<string, unknown>>): Promise<void> {
    return this.serialize(() => this.add(rows, constants));
  }

  public async writeIfFits(
    rows: readonly SourceRecord[],
    constants: Readonly<Record<string, unknown>> | undefined,
    check: FusedCheck,
  ): Promise<boolean> {
    let fitted = false;
    await this.serialize(async () => {
      this.assertOpen('write');
      if (rows.length === 0) {
        fitted = true;
        return;
      }
      const data = this.converter.convertIfFits(rows, constants, check);
      if (data === undefined) return;
      fitted = true;
      await this.append(data);
    });
    return fitted;
  }

  public writeRowGroup(
    rows: readonly SourceRecord[],
    constants?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    return this.serialize(async () => {
      await this.add(rows, constants);
      await this.cut();
    });
  }

  public endRowGroup(): Promise<void> {
    return this.serialize(async () => {
      this.assertOpen('endRowGroup');
      await this.cut();
    });
  }

  public writeColumns(
    rows: number,
    data: Readonly<Record<string, ColumnData>>,
    constants?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    return this.serialize(async () => {
      this.assertOpen('writeColumns');
      if (rows === 0) return;
      await this.append(this.converter.assemble(rows, data, constants));
    });
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

  private async add(
    rows: readonly SourceRecord[],
    constants?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    this.assertOpen('write');
    if (rows.length === 0) return;
    // Converting here overlaps with the encoding of the group in flight.
    await this.append(this.converter.convert(rows, constants));
  }

  /**
   * Adds converted rows to the group being gathered; each time the group
   * reaches the byte target (or the row limit) the rows that reached it are
   * split off and the group is handed to the encoder.
   */
  private async append(data: RowGroupData): Promise<void> {
    let rest = data;
    while (rest.rows > 0) {
      const bytes = this.sizer.bytes(rest);
      if (this.bufferedBytes + bytes < this.targetBytes && this.bufferedRows + rest.rows < this.maxRows) {
        this.gather(rest, bytes);
        return;
      }
      const take = this.sizer.cut(
        rest,
        this.bufferedBytes,
        this.targetBytes,
        this.maxRows - this.bufferedRows,
      );
      const head = this.sizer.slice(rest, 0, take);
      this.gather(head, take === rest.rows ? bytes : this.sizer.bytes(head));
      rest = this.sizer.slice(rest, take, rest.rows);
      await this.cut();
    }
  }

  /** Copies converted rows into the group's IPC stream: the caller's converted data is garbage at once. */
  private gather(part: RowGroupData, bytes: number): void {
    this.gathering ??= this.ipc.begin((size) => this.allocate(size));
    if (this.textIndexes.length === 0) this.gathering.add(part);
    else {
      const columns = [...part.columns];
      this.textIndexes.forEach((j, k) => {
        columns[j] = this.gatherText(k, j, part.rows, part.columns[j]!);
      });
      this.gathering.add({ rows: part.rows, columns });
    }
    this.bufferedRows += part.rows;
    this.bufferedBytes += bytes;
  }

  /**
   * Gathers a text column's part and returns what the group's own stream
   * holds for it. A group whose first part of the column came numbered
   * (ColumnData.ids) gathers the column apart, as ids, and its stream holds
   * nulls there; one whose first part came as text (column batches, or
   * after the interner stopped) holds the text in its stream, as before
   * ADR 0017, and numbered parts are turned into text. When a part comes as
   * text into a group gathering ids, the ids gathered so far become text on
   * a stream of the column's own, which parquet-rs encodes alone.
   */
  private gatherText(k: number, j: number, rows: number, column: ColumnData): ColumnData {
    let gathered = this.texts[k];
    if (gathered === undefined) {
      if (column.ids === undefined) {
        this.texts[k] = INLINE;
        return column;
      }
      gathered = this.texts[k] = new TextIds(this.lastGroupRows);
    }
    const text = (): ColumnData =>
      column.ids === undefined ? column : this.converter.textOf(j, column.ids, column.nullCount);
    if (gathered === INLINE) return text();
    if (gathered instanceof TextIds) {
      if (column.ids !== undefined) {
        gathered.add(column.ids, column.nullCount);
        return nullText(rows);
      }
      const ids = gathered.end();
      const stream = this.textWriters[k]!.begin(textBuffer);
      stream.add({ rows: ids.length, columns: [this.converter.textOf(j, ids, gathered.nulls)] });
      gathered = this.texts[k] = stream;
    }
    gathered.add({ rows, columns: [text()] });
    return nullText(rows);
  }

  /** Hands the gathered group to the encoder once the group in flight has reached the sink. */
  private async cut(): Promise<void> {
    if (this.bufferedRows === 0 || this.gathering === undefined) return;
    const stream = this.gathering;
    const rows = this.bufferedRows;
    // Sampled from the stream itself: the parts were not kept.
    const plain = plainColumns(this.columns, stream.parts());
    const text: TextColumn[] = [];
    const numbered: NumberedText[] = [];
    this.textIndexes.forEach((j, k) => {
      // Every group carries the values numbered since the last, whichever group's rows use them.
      const entries = this.converter.drainText(j);
      if (entries !== undefined) numbered.push({ index: j, entries });
      const gathered = this.texts[k];
      const column = { index: j, name: this.columns[j]!.name };
      if (gathered instanceof TextIds)
        text.push({ ...column, nullCount: gathered.nulls, ids: gathered.end() });
      else if (gathered instanceof IpcStream) {
        const parts = gathered.textParts();
        const nullCount = parts.reduce((sum, part) => sum + part.nullCount, 0);
        text.push({ ...column, nullCount, ipc: gathered.end(), parts });
      }
    });
    const group: PreparedGroup = { rows, ipc: stream.end(), plain, text, numbered };
    this.gathering = undefined;
    this.texts = [];
    this.bufferedRows = 0;
    this.bufferedBytes = 0;
    await this.settle();
    this.rows += rows;
    this.rowGroups++;
    this.lastGroupRows = rows;
    this.inFlight = this.encoder.encode(group).then(({ bytes, spare }) => {
      if (spare !== undefined && this.spares.length < 2) this.spares.push(spare);
      return this.emit(bytes);
    });
    this.inFlight.catch((error: unknown) => this.fail(error));
  }

  /**
   * An IPC buffer (not zeroed: the stream writes every byte it uses) of at least `bytes`: a spare one if there is one
   * (the largest, if it holds `bytes`; the stream grows it when the group needs more), else one a closed writer
   * left (idle-ipc-buffers.ts), else a new one with room
   * for a group of the target size, so buffers circulate between this
   * thread and the encoder instead of each group's becoming garbage there.
   */
  private allocate(bytes: number): Uint8Array {
    const spare = this.spares.sort((a, b) => a.byteLength - b.byteLength).pop();
    if (spare !== undefined && spare.byteLength >= bytes) return new Uint8Array(spare);
    const size = Math.max(bytes, this.newBufferBytes());
    // Only one with room for a whole group: a smaller one would be grown (copied) at once.
    const kept = takeIdleIpcBuffer(size);
    if (kept !== undefined) return new Uint8Array(kept);
    return new Uint8Array(Math.ceil(size / 65_536) * 65_536);
  }

  /** A new IPC buffer's size: room for a group of the target size, rounded to 64 KiB. */
  private newBufferBytes(): number {
    const room = Math.min(this.targetBytes * 1.125 + 65_536, MAX_FIRST_BUFFER);
    return Math.ceil(room / 65_536) * 65_536;
  }

  private async complete(): Promise<void> {
    this.assertOpen('finish');
    await this.cut();
    await this.settle();
    try {
      // A file without rows still needs its schema: encode one empty group.
      if (this.rowGroups === 0) {
        const ipc = this.ipc.write([this.converter.convert([])]);
        await this.emit((await this.encoder.encode({ rows: 0, ipc, plain: [] })).bytes);
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
    this.gathering = undefined;
    this.texts = [];
    this.bufferedRows = 0;
    this.bufferedBytes = 0;
    await this.inFlight.catch(() => undefined);
    // After the group in flight: its buffer is back among the spares. The next file's writer takes them.
    keepIdleIpcBuffers(this.spares, this.newBufferBytes());
    this.spares = [];
    await this.encoder.release();
  }

  /** Waits for the group in flight; rethrows its failure. */
  private async settle(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Hands `bytes` to the sink, which may free them once written (disposable-chunks.ts): counted first. */
  private async emit(bytes: Uint8Array): Promise<void> {
    const length = bytes.length;
    if (length === 0) return;
    markChunkDisposable(bytes);
    await this.sink(bytes);
    this.bytesWritten += length;
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

/** SLUICE_PARQUET_TEXT: `js` (the default) or `wasm`, to compare with parquet-rs encoding text itself. */
function textInJsFromEnvironment(): boolean {
  const value = process.env.SLUICE_PARQUET_TEXT;
  if (value === undefined || value === '' || value === 'js') return true;
  if (value === 'wasm') return false;
  throw new ParquetError(`SLUICE_PARQUET_TEXT must be js or wasm, not "${value}"`);
}

/** A text column the group holds in its own stream, as text. */
const INLINE = 'inline';

/** A text column's own stream starts at 256 KiB, so that it seldom grows (each growth is a copy). */
function textBuffer(bytes: number): Uint8Array {
  return new Uint8Array(Math.max(bytes, 256 * 1024));
}

let zeros = new Uint8Array(0);

/** A text column of `rows` nulls: what the group's own stream holds where a text column is gathered apart. */
function nullText(rows: number): ColumnData {
  const bytes = (rows + 1) * 4;
  if (zeros.length < bytes) zeros = new Uint8Array(Math.max(bytes, zeros.length * 2));
  return {
    nullCount: rows,
    validity: zeros.subarray(0, (rows + 7) >> 3),
    offsets: new Int32Array(zeros.buffer, 0, rows + 1),
    values: zeros.subarray(0, 0),
  };
}

/** Row ids of one text column, gathered part by part into one growing array. */
class TextIds {
  private ids: Int32Array;
  private length = 0;
  public nulls = 0;

  /** Room for `rows` ids (a little more, for a group a few rows longer), at least 4,096. */
  public constructor(rows: number) {
    this.ids = new Int32Array(Math.max(4_096, Math.ceil(rows * 1.0625)));
  }

  public add(ids: Int32Array, nulls: number): void {
    this.nulls += nulls;
    if (this.length + ids.length > this.ids.length) {
      const grown = new Int32Array(Math.max(this.length + ids.length, this.ids.length * 2));
      grown.set(this.ids.subarray(0, this.length));
      this.ids = grown;
    }
    this.ids.set(ids, this.length);
    this.length += ids.length;
  }

  public end(): Int32Array {
    return this.ids.subarray(0, this.length);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ParquetError(`${name} must be a whole number of at least 1, not ${String(value)}`);
  return value;
}

/** `sink` receives the file's bytes in order (the first chunk starts with PAR1); the writer awaits it. */
export function createParquetWriter(
  columns: readonly ParquetColumn[],
  sink: (chunk: Uint8Array) => Promise<void>,
  options: ParquetWriterOptions = {},
): ParquetFileWriter {
  return new StreamingParquetWriter(columns, sink, options);
}
