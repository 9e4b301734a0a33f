/**
 * One stream's part of one slice: read from where the run left the stream,
 * write row groups into staged Parquet, stop when the slice must end (at a
 * checkpoint the stream yielded, or, for a cursor-ascending stream that
 * yields none, after any item), and say what the slice publishes for it.
 *
 * Cursor-ascending incremental streams publish every slice (files, schema,
 * cursor with its tie keys). Other streams keep each slice's files staged
 * (listed in the run state) and publish them all when the stream completes.
 */
import {
  batchRecord,
  batchRecords,
  batchValue,
  type ColumnBatch,
  isColumnBatch,
} from '../connectors/sdk/column-batch.js';
import { compareCursor, cursorOf, lowerByLag, normalizeCursor } from '../connectors/sdk/cursor.js';
import { SystemError } from '../connectors/sdk/errors.js';
import { stringifyExact } from '../connectors/sdk/json.js';
import type { CursorValue, Incremental, Logger, SourceRecord, Stream } from '../connectors/sdk/types.js';
import { DELETED_FIELD, isCheckpoint, ReadOrder, type StreamPosition } from '../connectors/sdk/types.js';
import { validateTableForCatalog } from './catalog-rules.js';
import { batchBytes, cursorRange, joinBatches } from './column-batches.js';
import { keysAtCursor, type ManifestFile, type ManifestStream } from './commit.js';
import { ValidationError } from './errors.js';
import { committedManifestKey, sliceManifestId, tableLocation } from './layout.js';
import type { StreamMasker } from './masking.js';
import type {
  Catalog,
  CursorState,
  ObjectStore,
  SchemaVersion,
  StateStore,
  StreamRunStats,
  TableDefinition,
} from './ports.js';
import { type StagedWork, type StreamState, StreamStatus } from './run-state.js';
import { describeChange, METADATA_COLUMNS, type SchemaChange, StreamSchema } from './schema.js';
import { StreamFiles } from './stream-files.js';
import { tieKeyOf } from './tie-keys.js';

/** More tie keys than this at one cursor value move from the state item into the manifest. */
export const INLINE_KEYS_LIMIT = 500;
/** A cursor state item larger than this is refused before the commit point (DynamoDB items stop at 400 KB). */
export const MAX_CURSOR_STATE_BYTES = 64 * 1024;
/** Records at the highest cursor kept whole before only their tie keys are kept (bounds memory). */
const RECORDS_AT_MAX_LIMIT = 1024;

export interface StreamLandingDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly logger: Logger;
  readonly clock: () => Date;
}

export interface StreamLandingSettings {
  readonly source: string;
  readonly runId: string;
  readonly slice: number;
  readonly partition: string;
  readonly targetFileBytes: number;
  readonly rowGroupRows: number;
  /** The Parquet writer cuts a row group once its Arrow data reaches this size. */
  readonly rowGroupBytes: number;
  readonly compression: 'snappy' | 'zstd';
  readonly progressIntervalMs: number;
  /** Masks the stream's `pii` fields before anything else sees a record (engine/masking.ts). */
  readonly masker?: StreamMasker;
}

export interface StreamLandingHooks {
  readonly signal: AbortSignal;
  /** True once the slice should end (rows or time used up); `rows` counts this stream's rows so far. */
  readonly shouldStop: (rows: number) => boolean;
  readonly onFileWritten: (file: ManifestFile) => void | Promise<void>;
  /** `totalRows`: the stream's rows in this run as the connector estimates them, when it reports them. */
  readonly onProgress: (
    rows: number,
    sliceRows: number,
    bytes: number,
    done: boolean,
    totalRows?: number,
  ) => void;
}

export interface LandedStreamSlice {
  readonly state: StreamState;
  /** What this slice publishes for the stream; absent when nothing (staged work stays staged). */
  readonly manifest: ManifestStream | undefined;
  /** The slice ended inside this stream (it is not complete). */
  readonly stopped: boolean;
  /** Rows this slice landed (published or staged). */
  readonly rows: number;
}

export function isAscending(stream: Stream): boolean {
  return stream.incremental !== undefined && stream.order === ReadOrder.cursorAscending;
}

function addStats(a: StreamRunStats, b: Omit<StreamRunStats, 'incremental' | 'cursorFrom'>): StreamRunStats {
  return {
    ...a,
    rows: a.rows + b.rows,
    bytes: a.bytes + b.bytes,
    files: a.files + b.files,
    durationMs: a.durationMs + b.durationMs,
    skipped: a.skipped + b.skipped,
    schemaChanges: [...a.schemaChanges, ...b.schemaChanges],
    cursorTo: b.cursorTo,
  };
}

const encoder = new TextEncoder();

/** The record's primary key as `id=5, region="eu"`, to name it in an error. */
function describeKey(record: SourceRecord, primaryKey: readonly string[]): string {
  if (primaryKey.length === 0) return 'the stream has no primary key';
  return `primary key ${primaryKey.map((name) => `${name}=${stringifyExact(record[name]) ?? 'undefined'}`).join(', ')}`;
}

/** Refuses, before the commit point, a cursor the state store could not hold. */
function validateCursor(source: string, stream: string, next: CursorState): void {
  const bytes = encoder.encode(JSON.stringify(next)).byteLength;
  if (bytes > MAX_CURSOR_STATE_BYTES) {
    throw new ValidationError(
      `the cursor of ${source}.${stream} would take ${bytes} bytes of state (at most ${MAX_CURSOR_STATE_BYTES}): ` +
        'its value is too long; use a shorter cursor field',
      { field: 'incremental.cursorField' },
    );
  }
}

/** One record in every this many is measured for the batch's size estimate. */
const SIZE_SAMPLE_EVERY = 64;
/**
 * Records are handed to the Parquet writer in batches of about this many
 * estimated bytes: the writer converts them at once into column data (far
 * smaller than the records) and gathers row groups by bytes itself, so only
 * one batch of record objects is alive at a time. The fewer records a batch
 * holds, the fewer survive a young-generation collection into old space, yet
 * each call costs a conversion, schema check and Arrow record batch. Measured
 * (bench/README.md, "2026-11-27 late"): 2 MiB against 4 MiB costs the same
 * CPU on the synthetic rows and less elsewhere (files 4–12%, PostgreSQL's
 * record path 5%), and lowers peak RSS by 20–25% (synthetic 1M 337 → 266 MB,
 * REST 302 → 256); 1 MiB costs the synthetic rows about 5% more CPU.
 */
const WRITE_BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Roughly the Arrow bytes a record takes: text as its length plus an offset,
 * nested values as their JSON-ish size, every other value 8 bytes.
 */
export function estimateRecordBytes(record: SourceRecord): number {
  let bytes = 0;
  for (const name in record) {
    const value = record[name];
    if (typeof value === 'string') bytes += value.length + 4;
    else if (typeof value === 'object' && value !== null && !(value instanceof Date))
      bytes += nestedBytes(value, 0);
    else bytes += 8;
  }
  return bytes;
}

function nestedBytes(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object' || value === null || depth > 4) return 8;
  let bytes = 2;
  if (Array.isArray(value)) for (const item of value) bytes += nestedBytes(item, depth + 1) + 1;
  else
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      bytes += key.length + 4 + nestedBytes(item, depth + 1);
  return bytes;
}

/** Lands one stream's part of a slice. Throws with this attempt's staged files removed. */
export async function landStreamSlice(
  deps: StreamLandingDeps,
  settings: StreamLandingSettings,
  stream: Stream,
  start: StreamState,
  hooks: StreamLandingHooks,
): Promise<LandedStreamSlice> {
  const { source, runId } = settings;
  const clock = deps.clock;
  const started = Date.now();
  const ascending = isAscending(stream);
  const incremental = stream.incremental;
  const staged: StagedWork | undefined = ascending ? undefined : start.staged;
  const { cursor, version } = await deps.state.getCursor(source, stream.name);
  const landedBefore = incremental ? await keysAtCursor(deps.objects, source, stream.name, cursor) : [];
  // A multiset: each landed record skips one re-read record with its key.
  const ties = new Map<string, number>();
  for (const key of landedBefore) ties.set(key, (ties.get(key) ?? 0) + 1);
  const cursorType = incremental?.cursorType ?? 'auto';
  const order = (a: CursorValue, b: CursorValue): number => compareCursor(a, b, cursorType);
  // Read as the stream reads its records' values: a cursor committed as "9" by an older version orders as 9.
  const committed: CursorValue | undefined =
    incremental && cursor
      ? (normalizeCursor(cursor.value, incremental.cursorField, cursorType) ?? cursor.value)
      : undefined;
  let unreadableCursors = 0;
  /**
   * The record's cursor value. Under onMissingCursor "land", one the stream's cursor type cannot
   * read (`""` or `"n/a"` for a number cursor) counts as missing: it lands without moving the cursor.
   */
  const cursorValueOf = (record: SourceRecord, declared: Incremental): CursorValue | undefined => {
    const raw = record[declared.cursorField];
    // Only text a number cursor cannot read; any other value the type refuses (an object, a bigint
    // beyond 2^53 under "auto") is a mistake in the stream's declaration, and fails it.
    if (declared.onMissingCursor !== 'land' || cursorType !== 'number' || typeof raw !== 'string')
      return cursorOf(record, declared.cursorField, cursorType);
    try {
      return cursorOf(record, declared.cursorField, cursorType);
    } catch (error) {
      if (!(error instanceof SystemError)) throw error;
      unreadableCursors++;
      return undefined;
    }
  };
  const lag = incremental?.lag ?? 0;
  // After this run advanced an ascending stream, the lag window was read already: do not re-land it per slice.
  const lagDone = ascending && start.advanced;
  const since: CursorValue | undefined = incremental
    ? committed !== undefined
      ? lagDone
        ? committed
        : lowerByLag(committed, lag, cursorType)
      : incremental.initialValue
    : undefined;
  const skipOlder = lag === 0 || lagDone;

  const table = await deps.catalog.getTable(source, stream.name);
  const versions: SchemaVersion[] = [...(staged?.versions ?? table?.schemaVersions ?? [])];
  // Keyed streams always carry the tombstone column, so queries over deletes work from the first run.
  const masker = settings.masker;
  const columns = masker ? masker.columns(stream.columns) : stream.columns;
  const declared =
    stream.primaryKey.length > 0 ? { [DELETED_FIELD]: 'boolean' as const, ...columns } : columns;
  const schema = new StreamSchema(
    versions.at(-1)?.columns ?? [],
    declared ?? {},
    versions.at(-1)?.names,
    new Set(stream.primaryKey),
  );
  const changes: string[] = [];
  const keyOf = (record: SourceRecord): string => tieKeyOf(record, stream.primaryKey);

  const files = new StreamFiles({
    objects: deps.objects,
    source,
    stream: stream.name,
    runId,
    partition: settings.partition,
    targetFileBytes: settings.targetFileBytes,
    compression: settings.compression,
    rowGroupBytes: settings.rowGroupBytes,
    rowGroupRows: settings.rowGroupRows,
    firstIndex: start.nextPart,
    onFileWritten: hooks.onFileWritten,
  });

  let rows = 0;
  let skipped = 0;
  let maxCursor: CursorValue | undefined = staged?.maxCursor ?? committed;
  // Tie keys of this run's records at `maxCursor`; the newest are kept as records and keyed in bulk.
  let keysAtMax: string[] = [...(staged?.keysAtMax ?? [])];
  let recordsAtMax: SourceRecord[] = [];
  let batch: SourceRecord[] = [];
  // Rows per batch follow the sampled record size, so a batch holds about WRITE_BATCH_BYTES whatever the row width.
  let rowBytes = 0;
  let rowLimit = settings.rowGroupRows;
  const writeBatchBytes = Math.min(WRITE_BATCH_BYTES, settings.rowGroupBytes);
  const metadataBytes = runId.length + source.length + 16;
  let lastProgress = Date.now();
  const priorRows = start.committed.rows + (staged?.rows ?? 0);
  const priorBytes = start.committed.bytes + (staged?.files.reduce((sum, f) => sum + f.bytes, 0) ?? 0);
  let totalRows: number | undefined;
  const report = (done: boolean): void =>
    hooks.onProgress(priorRows + rows, rows, priorBytes + files.bytes, done, totalRows);

  /** Records a new schema version when the schema changed or the table is new. */
  const recordChanges = (isNewTable: boolean, batchChanges: readonly SchemaChange[]): void => {
    if (batchChanges.length > 0 || isNewTable) {
      const described = isNewTable
        ? [
            `created table with ${schema.size} columns`,
            ...batchChanges.filter((c) => c.kind !== 'added').map(describeChange),
          ]
        : batchChanges.map(describeChange);
      const names = schema.names;
      changes.push(...described);
      const last = versions.at(-1);
      const ours = last !== undefined && last.runId === runId;
      const next: SchemaVersion = {
        version: ours ? last.version : (last?.version ?? 0) + 1,
        columns: [...schema.columns, ...METADATA_COLUMNS],
        changes: ours ? [...last.changes, ...described] : described,
        runId,
        createdAt: clock().toISOString(),
        ...(Object.keys(names).length > 0 ? { names } : {}),
      };
      if (ours) versions[versions.length - 1] = next;
      else versions.push(next);
    }
  };

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const isNewTable = versions.length === 0;
    const constants = { _sluice_run_id: runId, _sluice_extracted_at: clock(), _sluice_source: source };
    // A batch that changes nothing in the schema lands with its values scanned once, by the converter,
    // into the file already open; anything else (a new field or type, another key order, a record that
    // is not a plain object where keys are renamed, no open file for these columns) takes the schema
    // step (ADR 0011).
    const check = isNewTable ? undefined : schema.fusedCheck(batch[0]!);
    if (
      check &&
      (await files.writeIfFits([...schema.columns, ...METADATA_COLUMNS], batch, constants, check))
    ) {
      batch = [];
      return;
    }
    // Athena-safe evolution; `rows` are keyed by column, values rerouted to variants (engine/schema.ts).
    const { changes: batchChanges, rows: batchRows } = schema.apply(batch);
    recordChanges(isNewTable, batchChanges);
    await files.write([...schema.columns, ...METADATA_COLUMNS], batchRows, constants);
    batch = [];
  };

  // Column batches not yet handed to the writer (connectors/sdk/column-batch.ts): joined up to a
  // write batch, like records, since the writer gathers row groups by bytes itself.
  let columnBatches: ColumnBatch[] = [];
  let columnRows = 0;
  let columnBytes = 0;
  const flushColumns = async (): Promise<void> => {
    if (columnBatches.length === 0) return;
    const isNewTable = versions.length === 0;
    // Every batch column already lands in itself with its own type: only pending changes remain.
    recordChanges(isNewTable, schema.apply([]).changes);
    const { rows: groupRows, data } = joinBatches(columnBatches);
    columnBatches = [];
    columnRows = 0;
    columnBytes = 0;
    const constants = { _sluice_run_id: runId, _sluice_extracted_at: clock(), _sluice_source: source };
    await files.writeColumns([...schema.columns, ...METADATA_COLUMNS], groupRows, data, constants);
  };

  /**
   * Lands a column batch without a record per row, when that is exactly what
   * its records would do: every column lands in itself with its own type, and
   * (incremental) no row is at or behind the committed cursor, where records
   * would be checked one by one. False: land `batchRecords` instead.
   */
  const landColumns = async (input: ColumnBatch): Promise<boolean> => {
    const columnar = masker ? masker.maskBatch(input) : input;
    for (const column of columnar.columns) {
      const at = schema.landing(column.name);
      if (at === undefined || at.column !== column.name || at.type !== column.type) return false;
    }
    if (columnar.rows === 0) return true;
    if (incremental) {
      const field = incremental.cursorField;
      const column = columnar.columns.find((c) => c.name === field);
      const range = column ? cursorRange(column, columnar.rows) : undefined;
      if (column === undefined || range === undefined) return false;
      const low = batchValue(column, range.min);
      const high = batchValue(column, range.max);
      // Beyond 2^53 only a number cursor is exact; otherwise the record path says what to declare.
      if (cursorType !== 'number' && (typeof low === 'bigint' || typeof high === 'bigint')) return false;
      const lowest = normalizeCursor(low, field, cursorType)!;
      if (committed !== undefined && order(lowest, committed) <= 0) return false;
      if (committed !== undefined) passedCursor = true;
      const highest = normalizeCursor(high, field, cursorType)!;
      const above = maxCursor === undefined ? 1 : order(highest, maxCursor);
      if (above > 0) {
        maxCursor = highest;
        keysAtMax = [];
        recordsAtMax = [];
      }
      if (above >= 0) {
        for (const i of range.atMax) {
          recordsAtMax.push(batchRecord(columnar, i));
          if (recordsAtMax.length >= RECORDS_AT_MAX_LIMIT) {
            for (const r of recordsAtMax) keysAtMax.push(keyOf(r));
            recordsAtMax = [];
          }
        }
      }
    }
    await flush();
    columnBatches.push(columnar);
    columnRows += columnar.rows;
    columnBytes += batchBytes(columnar);
    rows += columnar.rows;
    if (columnRows >= settings.rowGroupRows || columnBytes >= writeBatchBytes) await flushColumns();
    return true;
  };

  let position: StreamPosition | undefined = start.position;
  let stopped = false;
  // A cursor-ascending stream asked to stop ends at the next checkpoint, or before its next records.
  let stopWanted = false;
  // A landed record at or past the committed cursor: the cursor moves, so a re-read up to here is skipped.
  let passedCursor = cursor === undefined;
  try {
    const ctx = {
      since,
      committedCursor: committed,
      signal: hooks.signal,
      logger: deps.logger,
      ...(start.position ? { resumeFrom: start.position } : {}),
      acceptsColumnBatches: true,
      reportTotal: (records: number) => {
        if (Number.isFinite(records) && records >= 0) totalRows = Math.round(records);
      },
    };
    for await (const item of stream.read(ctx)) {
      hooks.signal.throwIfAborted();
      if (isCheckpoint(item)) {
        position = item.position;
        if (stopWanted || hooks.shouldStop(rows)) {
          stopped = true;
          break;
        }
        continue;
      }
      if (stopWanted) {
        // No checkpoint came after the records landed: stop before these. `position` (the last
        // checkpoint, maybe behind what landed) stays the resume point; what the stream yields
        // again up to the advanced cursor is skipped by cursor and tie keys.
        stopped = true;
        break;
      }
      let page: readonly SourceRecord[];
      if (isColumnBatch(item)) page = (await landColumns(item)) ? [] : batchRecords(item);
      else page = Array.isArray(item) ? (item as readonly SourceRecord[]) : [item as SourceRecord];
      if (page.length > 0) await flushColumns();
      for (const read of page) {
        // Masked first: tie keys, cursor state and Parquet only ever see the masked value.
        const record = masker ? masker.mask(read) : read;
        const value = incremental ? cursorValueOf(record, incremental) : undefined;
        if (incremental && value === undefined && incremental.onMissingCursor !== 'land') {
          throw new ValidationError(
            `stream "${stream.name}" yielded a record (${describeKey(record, stream.primaryKey)}) without a value in its cursor field "${incremental.cursorField}", so it cannot be placed in the incremental sync; make the source fill "${incremental.cursorField}" on every record, choose another cursor field, or have the connector declare incremental.onMissingCursor "land" (such records then land on every run that reads them)`,
            { field: incremental.cursorField },
          );
        }
        // A record without a cursor value (onMissingCursor "land") lands without moving the cursor.
        if (value !== undefined) {
          if (committed !== undefined) {
            const behind = order(value, committed);
            // Older than the committed cursor: already landed, unless a lag asks for late arrivals.
            if (behind < 0 && skipOlder) {
              skipped++;
              continue;
            }
            if (behind === 0 && ties.size > 0) {
              const key = keyOf(record);
              const count = ties.get(key);
              if (count !== undefined) {
                if (count === 1) ties.delete(key);
                else ties.set(key, count - 1);
                skipped++;
                continue;
              }
            }
          }
          if (!passedCursor && committed !== undefined && order(value, committed) >= 0) passedCursor = true;
          const above = maxCursor === undefined ? 1 : order(value, maxCursor);
          if (above > 0) {
            maxCursor = value;
            keysAtMax = [];
            recordsAtMax = [record];
          } else if (above === 0) {
            recordsAtMax.push(record);
            if (recordsAtMax.length >= RECORDS_AT_MAX_LIMIT) {
              for (const r of recordsAtMax) keysAtMax.push(keyOf(r));
              recordsAtMax = [];
            }
          }
        }
        if (rows % SIZE_SAMPLE_EVERY === 0) {
          const bytes = estimateRecordBytes(record) + metadataBytes;
          rowBytes = rowBytes === 0 ? bytes : rowBytes * 0.875 + bytes * 0.125;
          rowLimit = Math.max(1, Math.min(settings.rowGroupRows, Math.floor(writeBatchBytes / rowBytes)));
        }
        batch.push(record);
        rows++;
        if (batch.length >= rowLimit) await flush();
      }
      if (Date.now() - lastProgress >= settings.progressIntervalMs) {
        lastProgress = Date.now();
        report(false);
      }
      // A cursor-ascending stream may stop between any two items once a re-read is exact: without a
      // lag, or once the run has read past the committed cursor (it advances; lag is not applied again).
      if (ascending && (skipOlder || passedCursor || rows === 0) && hooks.shouldStop(rows)) {
        stopWanted = true;
      }
    }
    await flushColumns();
    await flush();
    await files.finish();
  } catch (error) {
    await files.discard().catch(() => undefined);
    throw error;
  }
  const written = files.files;
  const completed = !stopped;
  report(completed);
  for (const r of recordsAtMax) keysAtMax.push(keyOf(r));
  const durationMs = Date.now() - started;
  if (unreadableCursors > 0) {
    deps.logger.warn('records whose cursor value could not be read landed without moving the cursor', {
      stream: stream.name,
      cursorField: incremental?.cursorField,
      cursorType,
      records: unreadableCursors,
    });
  }

  // The files and cursor this slice publishes: every slice for ascending streams, the last for the others.
  const publishing = ascending || completed;
  const allFiles = publishing ? [...(staged?.files ?? []), ...written] : [];
  let next: CursorState | undefined;
  let keysInManifest: string[] | undefined;
  if (publishing && incremental && maxCursor !== undefined) {
    // Still at the committed value: the keys landed before stay landed, with this run's added.
    const atCommitted = committed !== undefined && order(maxCursor, committed) === 0;
    const keys = atCommitted ? [...landedBefore, ...keysAtMax] : keysAtMax;
    const moved = cursor === undefined || !atCommitted || keys.length !== landedBefore.length;
    if (moved) {
      const inline = keys.length <= INLINE_KEYS_LIMIT;
      next = inline
        ? { value: maxCursor, keysAtValue: keys }
        : {
            value: maxCursor,
            keysAtValue: [],
            keysRef: committedManifestKey(source, sliceManifestId(runId, settings.slice)),
          };
      if (!inline) keysInManifest = keys;
      validateCursor(source, stream.name, next);
    }
  }
  const tableDefinition: TableDefinition | undefined =
    allFiles.length > 0
      ? {
          source,
          stream: stream.name,
          location: tableLocation(source, stream.name),
          primaryKey: stream.primaryKey.map((field) => schema.columnName(field)),
          writeDisposition: stream.writeDisposition,
          schemaVersions: versions,
        }
      : undefined;
  // What Glue would refuse must fail the run now, before its commit point.
  if (tableDefinition) validateTableForCatalog(tableDefinition);
  const manifest: ManifestStream | undefined =
    publishing && (allFiles.length > 0 || next)
      ? {
          name: stream.name,
          files: allFiles,
          ...(tableDefinition ? { table: tableDefinition } : {}),
          ...(next ? { cursor: { expectedVersion: version, next } } : {}),
          ...(keysInManifest ? { keysAtValue: keysInManifest } : {}),
        }
      : undefined;

  const base = {
    name: stream.name,
    status: completed ? StreamStatus.done : StreamStatus.reading,
    nextPart: files.nextPart,
    ...(completed || position === undefined ? {} : { position }),
  };
  let state: StreamState;
  if (publishing) {
    const cursorTo = next?.value ?? start.committed.cursorTo;
    state = {
      ...base,
      advanced: start.advanced || next !== undefined,
      committed: addStats(start.committed, {
        rows: (staged?.rows ?? 0) + rows,
        bytes: allFiles.reduce((sum, f) => sum + f.bytes, 0),
        files: allFiles.length,
        durationMs: (staged?.durationMs ?? 0) + durationMs,
        skipped: (staged?.skipped ?? 0) + skipped,
        schemaChanges: [...(staged?.schemaChanges ?? []), ...changes],
        cursorTo,
      }),
    };
  } else {
    state = {
      ...base,
      advanced: start.advanced,
      committed: start.committed,
      staged: {
        files: [...(staged?.files ?? []), ...written],
        rows: (staged?.rows ?? 0) + rows,
        skipped: (staged?.skipped ?? 0) + skipped,
        durationMs: (staged?.durationMs ?? 0) + durationMs,
        schemaChanges: [...(staged?.schemaChanges ?? []), ...changes],
        versions,
        ...(maxCursor === undefined ? {} : { maxCursor, keysAtMax }),
      },
    };
  }
  return { state, manifest, stopped, rows };
}
