/**
 * One sync run of one source: lease → recover earlier runs → read each
 * stream → row groups → staged Parquet → manifest (commit point) → publish
 * (files into raw/, cursors by compare-and-set) → run record → release.
 * Runtime-agnostic: everything outside the process goes through the ports.
 */
import { compareCursor, cursorOf, lowerByLag } from '../connectors/sdk/cursor.js';
import { TransientError } from '../connectors/sdk/errors.js';
import type { Connector, CursorValue, Logger, SourceRecord, Stream } from '../connectors/sdk/types.js';
import { DELETED_FIELD } from '../connectors/sdk/types.js';
import { validateTableForCatalog } from './catalog-rules.js';
import {
  type CommitPhase,
  keysAtCursor,
  type ManifestFile,
  type ManifestStream,
  publishManifest,
  type RunManifest,
  recoverSource,
  writePendingManifest,
} from './commit.js';
import { LeaseHeldError, SluiceError, ValidationError } from './errors.js';
import { committedManifestKey, newRunId, partitionOf, stagingPrefix, tableLocation } from './layout.js';
import type {
  Catalog,
  CursorState,
  ObjectStore,
  RunRecord,
  SchemaVersion,
  SourceDefinition,
  StateStore,
  StreamRunStats,
  TableDefinition,
} from './ports.js';
import { describeChange, METADATA_COLUMNS, StreamSchema } from './schema.js';
import { StreamFiles } from './stream-files.js';

export type SyncPhase =
  | 'lease-acquired'
  | 'recovered'
  | 'file-written'
  | 'files-written'
  | CommitPhase
  | 'run-recorded';

export interface SyncProgress {
  readonly runId: string;
  readonly stream: string;
  readonly rows: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly done: boolean;
}

export interface SyncDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

export interface SyncOptions {
  readonly source: SourceDefinition;
  readonly connector: Connector<never>;
  /** The source's config with secrets resolved. */
  readonly config: unknown;
  /** Only these streams; defaults to the source's selection, else all. */
  readonly streams?: readonly string[];
  readonly runId?: string;
  /** @default 134217728 (128 MiB) */
  readonly targetFileBytes?: number;
  /** Rows per Parquet row group (the unit of memory). @default 65536 */
  readonly rowGroupRows?: number;
  /** @default 'snappy' */
  readonly compression?: 'snappy' | 'zstd';
  /** How long to wait for another run's lease before failing. @default 0 */
  readonly leaseWaitMs?: number;
  /** @default 300000 */
  readonly leaseTtlMs?: number;
  /** Attempts per stream on transient source errors. @default 3 */
  readonly maxStreamAttempts?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: SyncProgress) => void;
  /** How often progress is reported. @default 2000 */
  readonly progressIntervalMs?: number;
  /** Called at each step of the run; an extension point (tests inject faults here). */
  readonly onPhase?: (
    phase: SyncPhase,
    detail: { runId: string; stream?: string; file?: string },
  ) => void | Promise<void>;
}

/** More keys than this at one cursor value move from the state item into the manifest. */
const INLINE_KEYS_LIMIT = 500;

export class SyncError extends SluiceError {
  public readonly run: RunRecord;
  public constructor(run: RunRecord, options?: ErrorOptions) {
    super(`run ${run.runId} of source "${run.source}" failed: ${run.error}`, options);
    this.name = 'SyncError';
    this.run = run;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function acquireLease(
  state: StateStore,
  source: string,
  owner: string,
  ttlMs: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await state.acquireLease(source, owner, ttlMs);
      return;
    } catch (error) {
      if (!(error instanceof LeaseHeldError) || Date.now() >= deadline) throw error;
      signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(10, deadline - Date.now()))));
    }
  }
}

export function selectStreams(all: readonly Stream[], wanted: readonly string[] | undefined): Stream[] {
  if (!wanted || wanted.length === 0) return [...all];
  const byName = new Map(all.map((s) => [s.name, s]));
  return wanted.map((name) => {
    const stream = byName.get(name);
    if (!stream) {
      throw new ValidationError(
        `stream "${name}" does not exist; available: ${all.map((s) => s.name).join(', ')}`,
        { field: 'streams' },
      );
    }
    return stream;
  });
}

export async function runSync(deps: SyncDeps, options: SyncOptions): Promise<RunRecord> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock();
  const source = options.source.name;
  const runId = options.runId ?? newRunId(startedAt);
  const ttlMs = options.leaseTtlMs ?? 300_000;
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;
  const phase = async (name: SyncPhase, detail: { stream?: string; file?: string } = {}): Promise<void> => {
    await options.onPhase?.(name, { runId, ...detail });
  };
  const log = deps.logger;

  await acquireLease(deps.state, source, runId, ttlMs, options.leaseWaitMs ?? 0, signal);
  // Renew the lease while the run lives; losing it aborts the run before its commit point.
  const heartbeat = setInterval(
    () => {
      deps.state.renewLease(source, runId, ttlMs).catch((error: unknown) => controller.abort(error));
    },
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  heartbeat.unref();

  const streamsStats: Record<string, StreamRunStats> = {};
  let run: RunRecord = {
    runId,
    source,
    status: 'RUNNING',
    startedAt: startedAt.toISOString(),
    streams: streamsStats,
  };
  let committing = false;
  let recorded = false;
  try {
    await phase('lease-acquired');
    const recovery = await recoverSource(deps, source, runId);
    const recovered = [
      ...recovery.rolledForward.map((id) => `${id} (rolled forward)`),
      ...recovery.rolledBack.map((id) => `${id} (rolled back)`),
    ];
    await markRecoveredRuns(deps.state, source, runId, recovery.rolledForward, recovery.rolledBack);
    if (recovered.length > 0) log.info('recovered unfinished runs', { source, recovered });
    await phase('recovered');
    run = { ...run, ...(recovered.length > 0 ? { recovered } : {}) };
    await deps.state.putRun(run);

    const declared = await options.connector.streams(options.config as never);
    const streams = selectStreams(declared, options.streams ?? options.source.streams);
    const manifestStreams: ManifestStream[] = [];
    for (const stream of streams) {
      const landed = await landStreamWithRetries(deps, options, stream, runId, startedAt, signal, phase);
      streamsStats[stream.name] = landed.stats;
      if (landed.manifest) manifestStreams.push(landed.manifest);
    }
    await phase('files-written');

    if (manifestStreams.length > 0) {
      await deps.state.renewLease(source, runId, ttlMs);
      const manifest: RunManifest = {
        format: 1,
        runId,
        source,
        createdAt: clock().toISOString(),
        streams: manifestStreams,
      };
      await writePendingManifest(deps.objects, manifest);
      committing = true;
      await phase('manifest-written');
      await publishManifest({ ...deps, onPhase: options.onPhase }, manifest);
    }
    run = { ...run, status: 'SUCCEEDED', endedAt: clock().toISOString(), streams: streamsStats };
    await deps.state.putRun(run);
    recorded = true;
    await phase('run-recorded');
    return run;
  } catch (error) {
    // Landed and recorded: what failed afterwards cannot undo the run.
    if (recorded) throw error;
    const reason =
      signal.aborted && !options.signal?.aborted ? errorMessage(signal.reason) : errorMessage(error);
    const message = committing
      ? `${reason} (after its commit point: the next run of "${source}" completes this run's commit)`
      : reason;
    if (!committing) {
      for (const object of await deps.objects.list(stagingPrefix(source, runId)).catch(() => [])) {
        await deps.objects.delete(object.key).catch(() => undefined);
      }
    }
    run = { ...run, status: 'FAILED', endedAt: clock().toISOString(), streams: streamsStats, error: message };
    await deps.state.putRun(run).catch(() => undefined);
    if (error instanceof LeaseHeldError) throw error;
    throw new SyncError(run, { cause: error });
  } finally {
    clearInterval(heartbeat);
    options.signal?.removeEventListener('abort', onOuterAbort);
    await deps.state.releaseLease(source, runId).catch(() => undefined);
  }
}

async function markRecoveredRuns(
  state: StateStore,
  source: string,
  runId: string,
  forward: readonly string[],
  back: readonly string[],
): Promise<void> {
  for (const id of [...forward, ...back]) {
    const earlier = await state.getRun(source, id);
    if (!earlier || earlier.status === 'SUCCEEDED') continue;
    const rolledForward = forward.includes(id);
    await state.putRun({
      ...earlier,
      status: rolledForward ? 'SUCCEEDED' : 'FAILED',
      endedAt: earlier.endedAt ?? new Date().toISOString(),
      error: rolledForward
        ? `commit completed by run ${runId} after this run stopped past its commit point`
        : (earlier.error ?? `stopped before its commit point; its staged files were removed by run ${runId}`),
    });
  }
}

interface LandedStream {
  readonly stats: StreamRunStats;
  readonly manifest: ManifestStream | undefined;
}

async function landStreamWithRetries(
  deps: SyncDeps,
  options: SyncOptions,
  stream: Stream,
  runId: string,
  startedAt: Date,
  signal: AbortSignal,
  phase: (name: SyncPhase, detail?: { stream?: string; file?: string }) => Promise<void>,
): Promise<LandedStream> {
  const attempts = options.maxStreamAttempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const files = new StreamFiles({
      objects: deps.objects,
      source: options.source.name,
      stream: stream.name,
      runId,
      partition: partitionOf(startedAt),
      targetFileBytes: options.targetFileBytes ?? 128 * 1024 * 1024,
      compression: options.compression ?? 'snappy',
      onFileWritten: (file: ManifestFile) =>
        phase('file-written', { stream: stream.name, file: file.staging }),
    });
    try {
      return await landStream(deps, options, stream, runId, files, signal);
    } catch (error) {
      await files.discard().catch(() => undefined);
      if (!(error instanceof TransientError) || attempt >= attempts || signal.aborted) throw error;
      const delay = error.retryAfterMs ?? 1000 * 2 ** (attempt - 1);
      deps.logger.warn('transient source error; re-reading the stream', {
        stream: stream.name,
        attempt,
        delayMs: delay,
        error: error.message,
      });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function landStream(
  deps: SyncDeps,
  options: SyncOptions,
  stream: Stream,
  runId: string,
  files: StreamFiles,
  signal: AbortSignal,
): Promise<LandedStream> {
  const clock = deps.clock ?? (() => new Date());
  const source = options.source.name;
  const started = Date.now();
  const rowGroupRows = options.rowGroupRows ?? 65_536;
  const incremental = stream.incremental;
  const { cursor, version } = await deps.state.getCursor(source, stream.name);
  const landedAtCursor = await keysAtCursor(deps.objects, source, stream.name, cursor);
  const lag = incremental?.lag ?? 0;
  const since: CursorValue | undefined = incremental
    ? cursor
      ? lowerByLag(cursor.value, lag)
      : incremental.initialValue
    : undefined;

  const table = await deps.catalog.getTable(source, stream.name);
  const versions: SchemaVersion[] = [...(table?.schemaVersions ?? [])];
  // Keyed streams always carry the tombstone column, so queries over deletes work from the first run.
  const declared =
    stream.primaryKey.length > 0
      ? { [DELETED_FIELD]: 'boolean' as const, ...stream.columns }
      : stream.columns;
  const schema = new StreamSchema(versions.at(-1)?.columns ?? [], declared ?? {}, versions.at(-1)?.names);
  const changes: string[] = [];
  const keyOf = (record: SourceRecord): string =>
    JSON.stringify(
      stream.primaryKey.length > 0 ? stream.primaryKey.map((k) => record[k]) : record,
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );

  let rows = 0;
  let skipped = 0;
  let maxCursor: CursorValue | undefined = cursor?.value;
  // Records at the highest cursor seen; their keys are computed once, at the end, not per record.
  let recordsAtMax: SourceRecord[] = [];
  let batch: SourceRecord[] = [];
  let lastProgress = Date.now();
  const progressEvery = options.progressIntervalMs ?? 2000;
  const report = (done: boolean): void => {
    options.onProgress?.({
      runId,
      stream: stream.name,
      rows,
      bytes: files.bytes,
      elapsedMs: Date.now() - started,
      done,
    });
  };

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const isNewTable = versions.length === 0;
    // Athena-safe evolution; `rows` are keyed by column, values rerouted to variants (engine/schema.ts).
    const { changes: batchChanges, rows } = schema.apply(batch);
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
      const version: SchemaVersion = {
        version: last && last.runId === runId ? last.version : (last?.version ?? 0) + 1,
        columns: [...schema.columns, ...METADATA_COLUMNS],
        changes: last && last.runId === runId ? [...last.changes, ...described] : described,
        runId,
        createdAt: clock().toISOString(),
        ...(Object.keys(names).length > 0 ? { names } : {}),
      };
      if (last && last.runId === runId) versions[versions.length - 1] = version;
      else versions.push(version);
    }
    const constants = {
      _sluice_run_id: runId,
      _sluice_extracted_at: clock(),
      _sluice_source: source,
    };
    await files.writeRowGroup([...schema.columns, ...METADATA_COLUMNS], rows, constants);
    batch = [];
  };

  const ctx = { since, committedCursor: cursor?.value, signal, logger: deps.logger };
  for await (const item of stream.read(ctx)) {
    signal.throwIfAborted();
    const page = Array.isArray(item) ? (item as readonly SourceRecord[]) : [item as SourceRecord];
    for (let i = 0; i < page.length; i++) {
      const record = page[i]!;
      if (incremental) {
        const value = cursorOf(record, incremental.cursorField);
        if (value === undefined) {
          throw new ValidationError(
            `stream "${stream.name}" yielded a record without its cursor field "${incremental.cursorField}"`,
            { field: incremental.cursorField },
          );
        }
        if (cursor) {
          const order = compareCursor(value, cursor.value);
          // Older than the committed cursor: already landed, unless a lag asks for late arrivals.
          if (order < 0 && lag === 0) {
            skipped++;
            continue;
          }
          if (order === 0 && landedAtCursor.has(keyOf(record))) {
            skipped++;
            continue;
          }
        }
        const order = maxCursor === undefined ? 1 : compareCursor(value, maxCursor);
        if (order > 0) {
          maxCursor = value;
          recordsAtMax = [record];
        } else if (order === 0) {
          recordsAtMax.push(record);
        }
      }
      batch.push(record);
      rows++;
      if (batch.length >= rowGroupRows) await flush();
    }
    if (Date.now() - lastProgress >= progressEvery) {
      lastProgress = Date.now();
      report(false);
    }
  }
  await flush();
  const written = await files.finish();
  report(true);

  // Still at the committed value: the keys landed before stay landed, with this run's added.
  const keysAtMax =
    cursor && maxCursor !== undefined && compareCursor(maxCursor, cursor.value) === 0
      ? [...landedAtCursor, ...recordsAtMax.map(keyOf)]
      : recordsAtMax.map(keyOf);
  const cursorMoved =
    incremental !== undefined &&
    maxCursor !== undefined &&
    (cursor === undefined ||
      compareCursor(maxCursor, cursor.value) !== 0 ||
      keysAtMax.length !== landedAtCursor.size);
  const tableDefinition: TableDefinition | undefined =
    written.length > 0
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
  let next: CursorState | undefined;
  let keysInManifest: string[] | undefined;
  if (cursorMoved) {
    const inline = keysAtMax.length <= INLINE_KEYS_LIMIT;
    next = inline
      ? { value: maxCursor!, keysAtValue: keysAtMax }
      : { value: maxCursor!, keysAtValue: [], keysRef: committedManifestKey(source, runId) };
    if (!inline) keysInManifest = keysAtMax;
  }
  const durationMs = Date.now() - started;
  const stats: StreamRunStats = {
    rows,
    bytes: written.reduce((sum, f) => sum + f.bytes, 0),
    files: written.length,
    durationMs,
    skipped,
    schemaChanges: changes,
    cursorFrom: cursor?.value ?? null,
    cursorTo: next?.value ?? cursor?.value ?? null,
    incremental: incremental !== undefined && cursor !== undefined,
  };
  const manifest: ManifestStream | undefined =
    written.length > 0 || next
      ? {
          name: stream.name,
          files: written,
          ...(tableDefinition ? { table: tableDefinition } : {}),
          ...(next ? { cursor: { expectedVersion: version, next } } : {}),
          ...(keysInManifest ? { keysAtValue: keysInManifest } : {}),
        }
      : undefined;
  return { stats, manifest };
}
