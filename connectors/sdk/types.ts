/**
 * The connector contract. A connector is a config schema, a `check` and a list
 * of streams; a stream is declared (name, key, disposition, cursor) and reads
 * lazily. Building streams must be cheap: no data is extracted until `read`.
 */

import type { ColumnBatch } from './column-batch.js';

/** How landed rows relate to earlier runs when the `current` table is built. */
export const WriteDisposition = {
  append: 'append',
  replace: 'replace',
  merge: 'merge',
} as const;
export type WriteDisposition = (typeof WriteDisposition)[keyof typeof WriteDisposition];

/** A plain JSON-like record. Dates, bigints and nested values are allowed. */
export type SourceRecord = Record<string, unknown>;

/**
 * What a stream's read yields: a record, a page of records, a checkpoint, or
 * (only when `ReadContext.acceptsColumnBatches`) a page as column buffers.
 */
export type StreamItem = SourceRecord | readonly SourceRecord[] | StreamCheckpoint | ColumnBatch;

/**
 * Marks a record as a deletion of the row with its primary key (a tombstone).
 * It lands in the raw table like any other row; merges honour it.
 */
export const DELETED_FIELD = '_sluice_deleted';

/**
 * A cursor value: an ISO-8601 timestamp string, a number or a plain string
 * (under `CursorType.number`, an integer beyond 2^53 as decimal text).
 */
export type CursorValue = string | number;

/**
 * How the engine reads and orders a stream's cursor values (docs/adr/0016).
 * `auto`: numbers as numbers, ISO-8601 text as instants, other text as text;
 * a bigint must fit in 2^53. `number`: every value is a number, whether the
 * source sends it as a number, numeric text (`"10"`) or a bigint; integers
 * beyond 2^53 are kept exact as decimal text and ordered numerically.
 */
export const CursorType = {
  auto: 'auto',
  number: 'number',
} as const;
export type CursorType = (typeof CursorType)[keyof typeof CursorType];

/**
 * What the engine does with a record whose cursor field is null or missing.
 * `fail`: the stream fails, naming the record. `land`: the record lands but
 * does not move the cursor, so a later run that reads it again lands it again
 * (the merged `current` table keeps one row per key).
 */
export const MissingCursor = {
  fail: 'fail',
  land: 'land',
} as const;
export type MissingCursor = (typeof MissingCursor)[keyof typeof MissingCursor];

/** dlt-style incremental declaration. */
export interface Incremental {
  /** Field of each record that only grows (e.g. `updated_at`). */
  readonly cursorField: string;
  /** Cursor value to start from on the first run or after a reset. */
  readonly initialValue: CursorValue;
  /**
   * How cursor values are read and ordered, the records' and the committed
   * cursor alike (a cursor committed as `"9"` reads as 9 under `number`).
   * @default 'auto'
   */
  readonly cursorType?: CursorType;
  /** @default 'fail' */
  readonly onMissingCursor?: MissingCursor;
  /**
   * Re-read this much before the committed cursor (seconds for timestamps,
   * units for numbers) to catch late writes. Records re-read inside the lag
   * window land again in raw; the merged `current` table deduplicates them.
   * An integer cursor lowered by a fractional lag is rounded down (it stays
   * an integer; re-reading one more unit is safe).
   * @default 0
   */
  readonly lag?: number;
}

export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface ReadContext {
  /**
   * Read records whose cursor is at or after this value (inclusive: records
   * sharing the last committed value are read again and the engine drops
   * those it already landed). Already lowered by `lag`. Undefined for
   * streams without an incremental cursor.
   */
  readonly since: CursorValue | undefined;
  /** The last committed cursor exactly, or undefined before the first commit. */
  readonly committedCursor: CursorValue | undefined;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Where an earlier slice of this same run stopped reading this stream: the
   * `position` of the last checkpoint the engine published. The read continues
   * right after it. Undefined when the stream starts from the beginning. For a
   * cursor-ascending stream the engine may have landed records after that
   * checkpoint and advanced the cursor (`since`) past it; the read still
   * resumes from the position (so per-run counts such as s3-files'
   * `maxFilesPerRun` carry on) and the engine skips what it yields again.
   */
  readonly resumeFrom?: StreamPosition;
  /**
   * Reports how many records the whole read will yield in this run (over all
   * its slices), when the connector knows it cheaply — an estimate is fine
   * (PostgreSQL's `reltuples` for a full load). Progress then shows % and ETA.
   */
  readonly reportTotal?: (records: number) => void;
  /**
   * The reader takes `ColumnBatch` items (connectors/sdk/column-batch.ts) as
   * well as records. Absent or false: yield records only.
   */
  readonly acceptsColumnBatches?: boolean;
}

/**
 * A resumable position inside one stream's read: small, JSON-serialisable
 * (it travels in the run checkpoint), meaningful only to the connector that
 * yielded it — a next-page token or URL with the incremental window, a keyset
 * position, a file key and line.
 */
export type StreamPosition = { readonly [key: string]: PositionValue };
export type PositionValue = string | number | boolean | null | readonly PositionValue[] | StreamPosition;

const CHECKPOINT_MARK: unique symbol = Symbol.for('sluice.checkpoint');

/**
 * Yielded by `read` between records: every record yielded before it may be
 * committed, and a later read given `resumeFrom: position` yields exactly the
 * records after it. A slice that must stop (deadline, abort) ends at the last
 * checkpoint it saw.
 */
export interface StreamCheckpoint {
  readonly [CHECKPOINT_MARK]: true;
  readonly position: StreamPosition;
}

export function checkpoint(position: StreamPosition): StreamCheckpoint {
  return { [CHECKPOINT_MARK]: true, position };
}

export function isCheckpoint(item: unknown): item is StreamCheckpoint {
  return (
    typeof item === 'object' && item !== null && (item as Record<symbol, unknown>)[CHECKPOINT_MARK] === true
  );
}

/**
 * Thrown by `read` when `resumeFrom` can no longer be honoured (an expired
 * page token, a snapshot that is gone). The engine then restarts the stream
 * as the run's resumability rules say (docs/adr/0005).
 */
export class ResumeUnavailableError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResumeUnavailableError';
  }
}

/**
 * The order `read` yields records in. `cursor-ascending`: non-decreasing
 * cursor values (Singer's `is_sorted`, dlt's `row_order`), so everything read
 * so far can be committed by advancing the cursor, and the stream can stop
 * between any two records. `unordered`: only checkpoints are resumable.
 */
export const ReadOrder = {
  cursorAscending: 'cursor-ascending',
  unordered: 'unordered',
} as const;
export type ReadOrder = (typeof ReadOrder)[keyof typeof ReadOrder];

export interface Stream {
  /** snake_case, unique within the connector; becomes the table name. */
  readonly name: string;
  /** Field names forming the primary key; empty for keyless append streams. */
  readonly primaryKey: readonly string[];
  readonly writeDisposition: WriteDisposition;
  readonly incremental?: Incremental;
  /** Optional declared columns; otherwise the schema is inferred from records. */
  readonly columns?: Readonly<Record<string, ColumnType>>;
  /** @default 'unordered' */
  readonly order?: ReadOrder;
  /**
   * Yields records or pages (arrays) of records, and, when the stream can
   * resume, checkpoints between them. Must stop when `ctx.signal` aborts.
   */
  read(ctx: ReadContext): AsyncIterable<StreamItem>;
}

/** Logical column types of the lake. Widening order: int → bigint → double → string. */
export const ColumnType = {
  boolean: 'boolean',
  int: 'int',
  bigint: 'bigint',
  double: 'double',
  string: 'string',
  timestamp: 'timestamp',
  date: 'date',
  json: 'json',
} as const;
/**
 * A lake column type: one of the names above, or `decimal(p,s)` (exact, precision 1–38, scale 0–p;
 * Parquet DECIMAL, Athena `decimal(p,s)`). See column-types.ts.
 */
export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType] | DecimalType;
export type DecimalType = `decimal(${number},${number})`;

/** A JSON Schema subset, with `secret: true` marking fields kept in a secret store. */
export interface ConfigProperty {
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  readonly description?: string;
  readonly secret?: boolean;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: ConfigProperty;
  readonly properties?: Readonly<Record<string, ConfigProperty>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | ConfigProperty;
}

export interface ConfigSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, ConfigProperty>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
}

/** `ok` with optional warnings (e.g. "no file matches glob …"), or one actionable sentence. */
export type CheckResult =
  | { readonly ok: true; readonly warnings?: readonly string[] }
  | { readonly ok: false; readonly message: string };

export interface Connector<Config = Record<string, unknown>> {
  /** Connector type, e.g. `sample`, `rest`, `postgres`. */
  readonly type: string;
  readonly description: string;
  readonly configSchema: ConfigSchema;
  /** One actionable sentence when the connection does not work. */
  check(config: Config, signal?: AbortSignal): Promise<CheckResult>;
  /** Cheap: builds stream declarations, reads nothing. May discover (e.g. list tables). */
  streams(config: Config): Promise<readonly Stream[]> | readonly Stream[];
  /**
   * `streams` reads nothing and answers at once (it builds the streams the
   * config declares), so the engine may call it when a source is registered
   * to check what names streams (`pii`). A connector that discovers leaves it unset.
   */
  readonly staticStreams?: boolean;
  /**
   * What the schema cannot say (a URL that parses, a date, a glob), checked
   * without I/O when a source is registered or changed, so a config that
   * could never sync is refused then, not at its first run. Throws a
   * ConfigError naming each field at fault. Secret fields may hold a
   * placeholder here, never the stored value.
   */
  validate?(config: Config): void;
}
