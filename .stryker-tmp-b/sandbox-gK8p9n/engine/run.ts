/**
 * A run in steps (docs/adr/0005): `beginRun` (lease, recovery, run record;
 * continues the source's unfinished run if it has one) → `runSlice` until the
 * checkpoint says done → `finishRun`. Each slice reads until its deadline or
 * row budget, then publishes what it landed with the commit protocol of
 * commit.ts (its own pending manifest, which carries the run's next state),
 * so a crash loses at most the slice in flight and any invocation can pick
 * the run up from its checkpoint. Every step holds the source's lease.
 */
// @ts-nocheck

import { RetriesExhaustedError, TransientError } from '../connectors/sdk/errors.js';
import { sleep } from '../connectors/sdk/sleep.js';
import type { Connector, Logger, Stream } from '../connectors/sdk/types.js';
import { ResumeUnavailableError } from '../connectors/sdk/types.js';
import {
  type CommitPhase,
  type ManifestFile,
  type ManifestStream,
  publishManifest,
  type RunManifest,
  writePendingManifest,
} from './commit.js';
import { LeaseHeldError, SluiceError, ValidationError } from './errors.js';
import { isAscending, type LandedStreamSlice, landStreamSlice } from './land-stream.js';
import { newRunId, partitionOf, stagingPrefix } from './layout.js';
import { type HeldLease, leaseOwnerFor, takeLease } from './lease.js';
import { type StreamMasker, streamMasker } from './masking.js';
import type { Catalog, ObjectStore, RunRecord, SourceDefinition, StateStore } from './ports.js';
import { recoverSource } from './recovery.js';
import {
  checkpointOf,
  committedStatsOf,
  deleteRunState,
  emptyStats,
  isComplete,
  type RunCheckpoint,
  type RunState,
  readRunState,
  type StreamState,
  StreamStatus,
  stagedKeysOf,
  writeRunState,
} from './run-state.js';

export type SyncPhase =
  | 'lease-acquired'
  | 'recovered'
  | 'file-written'
  | 'files-written'
  | CommitPhase
  | 'slice-committed'
  | 'run-recorded';

export interface PhaseDetail {
  readonly runId: string;
  readonly slice?: number;
  readonly stream?: string;
  readonly file?: string;
}

export interface SyncProgress {
  readonly runId: string;
  /** The slice in flight (1-based). */
  readonly slice: number;
  readonly stream: string;
  /** Rows of this stream in this run so far: published, staged and in flight. */
  readonly rows: number;
  /** Rows of this stream landed by the slice in flight. */
  readonly sliceRows: number;
  readonly bytes: number;
  /** Since the slice started. */
  readonly elapsedMs: number;
  readonly done: boolean;
  /** This stream's rows in this run as the connector estimates them (e.g. PostgreSQL's reltuples), when known. */
  readonly totalRows?: number;
}

export interface SyncDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

/** What every step takes. */
export interface RunStepOptions {
  readonly source: SourceDefinition;
  readonly connector: Connector<never>;
  /** The source's config with secrets resolved. */
  readonly config: unknown;
  /** The source's pii salt, resolved from the secret store (`resolveSource`); required when it masks fields. */
  readonly piiSalt?: string;
  /** How long to wait for another holder of the source's lease. @default 0 */
  readonly leaseWaitMs?: number;
  /** @default 300000 */
  readonly leaseTtlMs?: number;
  /** The lease owner, to hold one lease across steps (with `keepLease`). @default a fresh one per step */
  readonly leaseOwner?: string;
  /** Keep the lease when the step ends. @default false */
  readonly keepLease?: boolean;
  readonly signal?: AbortSignal;
  /** Called at each step of the run; an extension point (tests inject faults here). */
  readonly onPhase?: (phase: SyncPhase, detail: PhaseDetail) => void | Promise<void>;
}

export interface BeginRunOptions extends RunStepOptions {
  /** Only these streams; defaults to the source's selection, else all. */
  readonly streams?: readonly string[];
  /** The id of a new run (ignored when an unfinished run is continued). */
  readonly runId?: string;
}

export interface SliceOptions extends RunStepOptions {
  /** Epoch ms by which the slice must have returned (e.g. Lambda's remaining time). */
  readonly deadline?: number;
  /** Time kept before `deadline` for publishing. @default min(30 s, a fifth of the time left) */
  readonly reserveMs?: number;
  /** End the slice once it has landed this many rows (at the next point it may stop). */
  readonly sliceRows?: number;
  /** @default 134217728 (128 MiB) */
  readonly targetFileBytes?: number;
  /** At most this many rows per Parquet row group. @default 65536 */
  readonly rowGroupRows?: number;
  /**
   * A row group is cut once its estimated column data (Arrow) reaches this
   * size: the unit of memory, whatever the width of the rows. @default 16777216 (16 MiB)
   */
  readonly rowGroupBytes?: number;
  /** @default 'snappy' */
  readonly compression?: 'snappy' | 'zstd';
  /** Attempts per stream on transient source errors. @default 3 */
  readonly maxStreamAttempts?: number;
  /** A transient error asking to wait longer than this fails the run at once. @default 60000 */
  readonly maxRetryWaitMs?: number;
  readonly onProgress?: (progress: SyncProgress) => void;
  /** How often progress is reported. @default 2000 */
  readonly progressIntervalMs?: number;
}

/** Estimated Arrow bytes per row group (see `rowGroupBytes`). */
export const DEFAULT_ROW_GROUP_BYTES = 16 * 1024 * 1024;

export class SyncError extends SluiceError {
  public readonly run: RunRecord;
  public constructor(run: RunRecord, options?: ErrorOptions) {
    super(`run ${run.runId} of source "${run.source}" failed: ${run.error}`, options);
    this.name = 'SyncError';
    this.run = run;
  }
}

/** A step stopped by its signal: finished slices stay published and the run continues next time. */
export class RunInterruptedError extends SluiceError {
  public readonly checkpoint: RunCheckpoint;
  public constructor(checkpoint: RunCheckpoint, options?: ErrorOptions) {
    super(
      `run ${checkpoint.runId} of source "${checkpoint.source}" was interrupted; ` +
        `${checkpoint.slice} finished ${checkpoint.slice === 1 ? 'slice stays' : 'slices stay'} published ` +
        'and the next sync continues it',
      options,
    );
    this.name = 'RunInterruptedError';
    this.checkpoint = checkpoint;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

function lease(deps: SyncDeps, options: RunStepOptions, runId: string): Promise<HeldLease> {
  return takeLease(
    deps.state,
    options.source.name,
    {
      owner: options.leaseOwner ?? leaseOwnerFor(runId),
      ttlMs: options.leaseTtlMs ?? 300_000,
      waitMs: options.leaseWaitMs ?? 0,
      keep: options.keepLease ?? false,
    },
    options.signal,
  );
}

function phaseOf(options: RunStepOptions, runId: string) {
  return async (name: SyncPhase, detail: Omit<PhaseDetail, 'runId'> = {}): Promise<void> => {
    await options.onPhase?.(name, { runId, ...detail });
  };
}

/**
 * Takes the lease, recovers what earlier runs left, and either continues the
 * source's unfinished run or starts one (run record RUNNING, run state).
 */
export async function beginRun(deps: SyncDeps, options: BeginRunOptions): Promise<RunCheckpoint> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock();
  const source = options.source.name;
  const runId = options.runId ?? newRunId(startedAt);
  const held = await lease(deps, options, runId);
  let run: RunRecord = { runId, source, status: 'RUNNING', startedAt: startedAt.toISOString(), streams: {} };
  try {
    await phaseOf(options, runId)('lease-acquired');
    const recovery = await recoverSource({ ...deps, onPhase: options.onPhase }, source, { by: runId, clock });
    if (recovery.recovered.length > 0) {
      deps.logger.info('recovered unfinished runs', { source, recovered: recovery.recovered });
    }
    const unfinished = recovery.unfinished;
    if (unfinished) {
      const earlier = await deps.state.getRun(source, unfinished.runId);
      run = {
        ...(earlier ?? { runId: unfinished.runId, source, startedAt: unfinished.startedAt }),
        status: 'RUNNING',
        streams: committedStatsOf(unfinished),
        slices: unfinished.slice,
        recovered: [...(earlier?.recovered ?? []), ...recovery.recovered],
      };
      if (run.recovered?.length === 0) run = { ...run, recovered: undefined };
      await phaseOf(options, unfinished.runId)('recovered');
      await deps.state.putRun(run);
      deps.logger.info('continuing unfinished run', {
        source,
        runId: unfinished.runId,
        slice: unfinished.slice,
      });
      return checkpointOf(unfinished, true);
    }
    await phaseOf(options, runId)('recovered');
    const declared = await options.connector.streams(options.config as never);
    const streams = selectStreams(declared, options.streams ?? options.source.streams);
    const states: StreamState[] = [];
    for (const stream of streams) {
      const { cursor } = await deps.state.getCursor(source, stream.name);
      states.push({
        name: stream.name,
        status: StreamStatus.pending,
        nextPart: 0,
        advanced: false,
        committed: emptyStats(
          stream.incremental !== undefined && cursor !== undefined,
          cursor?.value ?? null,
        ),
      });
    }
    const state: RunState = { format: 1, source, runId, startedAt: run.startedAt, slice: 0, streams: states };
    run = {
      ...run,
      streams: committedStatsOf(state),
      slices: 0,
      ...(recovery.recovered.length > 0 ? { recovered: recovery.recovered } : {}),
    };
    await deps.state.putRun(run);
    await writeRunState(deps.objects, state);
    return checkpointOf(state);
  } catch (error) {
    if (error instanceof LeaseHeldError && held.signal.aborted) throw error;
    const state = await readRunState(deps.objects, source, run.runId).catch(() => undefined);
    // An interrupted run that has published slices stays unfinished: the next sync continues it.
    if (options.signal?.aborted && state && state.slice > 0) {
      throw new RunInterruptedError(checkpointOf(state), { cause: error });
    }
    // Nothing of this run is published by this step: it fails (earlier slices' rows stay, counted).
    await deleteRunState(deps.objects, source, run.runId).catch(() => undefined);
    run = { ...run, status: 'FAILED', endedAt: clock().toISOString(), error: errorMessage(error) };
    await deps.state.putRun(run).catch(() => undefined);
    throw new SyncError(run, { cause: error });
  } finally {
    await held.release();
  }
}

/** Reads the run's state under the lease after recovery; undefined when the run is no longer unfinished. */
async function stateToContinue(
  deps: SyncDeps,
  options: RunStepOptions,
  checkpoint: RunCheckpoint,
): Promise<RunState | undefined> {
  const clock = deps.clock ?? (() => new Date());
  const recovery = await recoverSource({ ...deps, onPhase: options.onPhase }, checkpoint.source, {
    by: checkpoint.runId,
    continuing: checkpoint.runId,
    clock,
  });
  if (recovery.unfinished?.runId === checkpoint.runId) return recovery.unfinished;
  return readRunState(deps.objects, checkpoint.source, checkpoint.runId);
}

function validateCheckpoint(options: RunStepOptions, checkpoint: RunCheckpoint): void {
  if (checkpoint.source !== options.source.name) {
    throw new ValidationError(
      `checkpoint of run ${checkpoint.runId} belongs to source "${checkpoint.source}", not "${options.source.name}"`,
      { field: 'checkpoint.source' },
    );
  }
}

/**
 * Runs one slice of the run: lands streams from where the run left them
 * until the deadline or row budget, then publishes that slice.
 */
export async function runSlice(
  deps: SyncDeps,
  checkpoint: RunCheckpoint,
  options: SliceOptions,
): Promise<RunCheckpoint> {
  validateCheckpoint(options, checkpoint);
  const clock = deps.clock ?? (() => new Date());
  const source = checkpoint.source;
  const runId = checkpoint.runId;
  const phase = phaseOf(options, runId);
  const held = await lease(deps, options, runId);
  const signal = held.signal;
  let stored: RunState | undefined;
  let committing = false;
  try {
    stored = await stateToContinue(deps, options, checkpoint);
    if (!stored) {
      const record = await deps.state.getRun(source, runId);
      if (record?.status === 'SUCCEEDED') return { source, runId, slice: record.slices ?? 0, done: true };
      throw new SluiceError(
        `run ${runId} of source "${source}" cannot be continued (${record ? record.status : 'no such run'}); start a new run`,
      );
    }
    if (isComplete(stored)) return checkpointOf(stored);
    const start = stored;
    const slice = start.slice + 1;
    const declared = await options.connector.streams(options.config as never);
    const byName = new Map(declared.map((s) => [s.name, s]));

    const sliceStarted = Date.now();
    const stopAt =
      options.deadline === undefined
        ? Number.POSITIVE_INFINITY
        : options.deadline -
          (options.reserveMs ?? Math.min(30_000, Math.max(0, (options.deadline - sliceStarted) / 5)));
    let sliceRows = 0;
    // A slice always lands something (one row, or a whole empty stream) so runs make progress.
    const limitReached = (rows: number): boolean =>
      rows > 0 && ((options.sliceRows !== undefined && rows >= options.sliceRows) || Date.now() >= stopAt);

    const streams: StreamState[] = [...start.streams];
    const manifestStreams: ManifestStream[] = [];
    const discard: string[] = [];
    for (let i = 0; i < streams.length; i++) {
      const current = streams[i]!;
      if (current.status === StreamStatus.done) continue;
      if (limitReached(sliceRows)) break;
      const stream = byName.get(current.name);
      if (!stream) {
        throw new ValidationError(
          `stream "${current.name}" of run ${runId} is no longer offered by the connector`,
          { field: 'streams' },
        );
      }
      const rowsBefore = sliceRows;
      const landed = await landWithRetries(deps, options, stream, current, discard, {
        source,
        runId,
        slice,
        partition: partitionOf(new Date(start.startedAt)),
        signal,
        shouldStop: (rows) => limitReached(rowsBefore + rows),
        phase,
        sliceStarted,
      });
      streams[i] = landed.state;
      if (landed.manifest) manifestStreams.push(landed.manifest);
      sliceRows += landed.rows;
      if (landed.stopped) break;
    }
    await phase('files-written', { slice });

    const next: RunState = { ...start, slice, streams };
    const manifest: RunManifest = {
      format: 2,
      runId,
      source,
      slice,
      createdAt: clock().toISOString(),
      streams: manifestStreams,
      state: next,
      ...(discard.length > 0 ? { discard } : {}),
    };
    await held.renew();
    signal.throwIfAborted();
    await writePendingManifest(deps.objects, manifest);
    committing = true;
    await phase('manifest-written', { slice });
    await publishManifest(
      { ...deps, onPhase: (p, detail) => phase(p, { slice, ...(detail.file ? { file: detail.file } : {}) }) },
      manifest,
    );
    const record = await deps.state.getRun(source, runId);
    await deps.state.putRun({
      ...(record ?? { runId, source, startedAt: start.startedAt, status: 'RUNNING' }),
      streams: committedStatsOf(next),
      slices: slice,
    });
    await phase('slice-committed', { slice });
    return checkpointOf(next);
  } catch (error) {
    // The lease went to someone else: touch nothing, they own the run now.
    if (error instanceof LeaseHeldError) throw error;
    if (signal.aborted && signal.reason instanceof LeaseHeldError) throw signal.reason;
    if (options.signal?.aborted) {
      if (!committing && stored) {
        await deps.objects.deletePrefix(stagingPrefix(source, runId), new Set(stagedKeysOf(stored)));
      }
      const kept = stored ? checkpointOf(stored) : checkpoint;
      throw new RunInterruptedError(committing ? { ...kept, slice: kept.slice + 1 } : kept, { cause: error });
    }
    throw await failRun(deps, source, runId, stored, committing, error);
  } finally {
    await held.release();
  }
}

/** Records the run FAILED; before a commit point its unpublished staged work goes too. */
async function failRun(
  deps: SyncDeps,
  source: string,
  runId: string,
  stored: RunState | undefined,
  committing: boolean,
  error: unknown,
): Promise<SyncError> {
  const clock = deps.clock ?? (() => new Date());
  const reason = errorMessage(error);
  const message = committing
    ? `${reason} (after its commit point: the next run of "${source}" completes this run's commit)`
    : reason;
  if (!committing) {
    await deps.objects.deletePrefix(stagingPrefix(source, runId)).catch(() => undefined);
    await deleteRunState(deps.objects, source, runId).catch(() => undefined);
  }
  const record = await deps.state.getRun(source, runId).catch(() => undefined);
  const run: RunRecord = {
    ...(record ?? { runId, source, startedAt: stored?.startedAt ?? clock().toISOString() }),
    ...(stored
      ? { streams: committedStatsOf(stored), slices: stored.slice }
      : { streams: record?.streams ?? {} }),
    status: 'FAILED',
    endedAt: clock().toISOString(),
    error: message,
  };
  await deps.state.putRun(run).catch(() => undefined);
  return new SyncError(run, { cause: error });
}

interface SliceContext {
  readonly source: string;
  readonly runId: string;
  readonly slice: number;
  readonly partition: string;
  readonly signal: AbortSignal;
  readonly shouldStop: (rows: number) => boolean;
  readonly phase: (name: SyncPhase, detail?: Omit<PhaseDetail, 'runId'>) => Promise<void>;
  readonly sliceStarted: number;
}

function maskerOption(options: RunStepOptions, stream: Stream): { masker?: StreamMasker } {
  const masker = streamMasker(options.source.name, stream, options.source.pii, options.piiSalt);
  return masker ? { masker } : {};
}

/** Lands one stream's part of the slice, retrying transient errors and restarting unresumable reads. */
async function landWithRetries(
  deps: SyncDeps,
  options: SliceOptions,
  stream: Stream,
  start: StreamState,
  discard: string[],
  ctx: SliceContext,
): Promise<LandedStreamSlice> {
  const attempts = options.maxStreamAttempts ?? 3;
  const maxWait = options.maxRetryWaitMs ?? 60_000;
  let current = start;
  for (let attempt = 1; ; ) {
    try {
      return await landStreamSlice(
        { ...deps, clock: deps.clock ?? (() => new Date()) },
        {
          source: ctx.source,
          runId: ctx.runId,
          slice: ctx.slice,
          partition: ctx.partition,
          targetFileBytes: options.targetFileBytes ?? 128 * 1024 * 1024,
          rowGroupRows: options.rowGroupRows ?? 65_536,
          rowGroupBytes: options.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES,
          compression: options.compression ?? 'snappy',
          progressIntervalMs: options.progressIntervalMs ?? 2000,
          ...maskerOption(options, stream),
        },
        stream,
        current,
        {
          signal: ctx.signal,
          shouldStop: ctx.shouldStop,
          onFileWritten: (file: ManifestFile) =>
            ctx.phase('file-written', { slice: ctx.slice, stream: stream.name, file: file.staging }),
          onProgress: (rows, sliceRows, bytes, done, totalRows) =>
            options.onProgress?.({
              runId: ctx.runId,
              slice: ctx.slice,
              stream: stream.name,
              rows,
              sliceRows,
              bytes,
              elapsedMs: Date.now() - ctx.sliceStarted,
              done,
              ...(totalRows === undefined ? {} : { totalRows }),
            }),
        },
      );
    } catch (error) {
      if (error instanceof ResumeUnavailableError && current.position !== undefined) {
        // Cursor-ascending: go on from the committed cursor. Otherwise: this run's staged part is superseded.
        deps.logger.warn('the source cannot resume the stream where it stopped; restarting it', {
          stream: stream.name,
          from: isAscending(stream) ? 'committed cursor' : 'the run start',
          error: error.message,
        });
        if (!isAscending(stream)) discard.push(...(current.staged?.files ?? []).map((f) => f.staging));
        const { position: _dropped, staged: _superseded, ...rest } = current;
        current = rest;
        continue;
      }
      if (error instanceof RetriesExhaustedError) throw error;
      if (!(error instanceof TransientError) || attempt >= attempts || ctx.signal.aborted) throw error;
      const delay = error.retryAfterMs ?? 1000 * 2 ** (attempt - 1);
      if (delay > maxWait) {
        throw new SluiceError(
          `stream "${stream.name}": the source asked to wait ${delay} ms before retrying, longer than a run waits (${maxWait} ms): ${error.message}`,
          { cause: error },
        );
      }
      deps.logger.warn('transient source error; re-reading the stream from the slice start', {
        stream: stream.name,
        attempt,
        delayMs: delay,
        error: error.message,
      });
      await sleep(delay, ctx.signal);
      attempt++;
    }
  }
}

/** Records the finished run SUCCEEDED with what it published and forgets its state. */
export async function finishRun(
  deps: SyncDeps,
  checkpoint: RunCheckpoint,
  options: RunStepOptions,
): Promise<RunRecord> {
  validateCheckpoint(options, checkpoint);
  const clock = deps.clock ?? (() => new Date());
  const { source, runId } = checkpoint;
  const held = await lease(deps, options, runId);
  let recorded = false;
  try {
    const state = await stateToContinue(deps, options, checkpoint);
    const record = await deps.state.getRun(source, runId);
    if (!state) {
      if (record?.status === 'SUCCEEDED') return record;
      throw new SluiceError(
        `run ${runId} of source "${source}" is not unfinished (${record?.status ?? 'no such run'})`,
      );
    }
    if (!isComplete(state)) {
      const left = state.streams.filter((s) => s.status !== StreamStatus.done).map((s) => s.name);
      throw new SluiceError(
        `run ${runId} of source "${source}" has streams left to read (${left.join(', ')}); run its slices first`,
      );
    }
    const run: RunRecord = {
      ...(record ?? { runId, source, startedAt: state.startedAt }),
      status: 'SUCCEEDED',
      endedAt: clock().toISOString(),
      streams: committedStatsOf(state),
      slices: state.slice,
    };
    await deps.state.putRun(run);
    await deleteRunState(deps.objects, source, runId);
    recorded = true;
    await phaseOf(options, runId)('run-recorded');
    return run;
  } catch (error) {
    if (recorded || error instanceof SluiceError) throw error;
    throw new SluiceError(`finishing run ${runId} of "${source}" failed: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    await held.release();
  }
}
