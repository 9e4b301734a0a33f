/**
 * A run's state between slices (docs/adr/0005): what each stream has
 * published, where its read continues, and (for streams that publish only
 * when they complete) which staged files it has kept so far. Kept in the lake
 * at `_runs/<source>/<runId>.json`, written only by publishing a slice's
 * manifest, so it always matches what is committed. Callers pass the small
 * `RunCheckpoint` instead: a reference plus a summary.
 */
// @ts-nocheck

import type { CursorValue, StreamPosition } from '../connectors/sdk/types.js';
import type { ManifestFile } from './commit.js';
import { runStateKey, runStatePrefix } from './layout.js';
import type { ObjectStore, SchemaVersion, StreamRunStats } from './ports.js';

export const StreamStatus = {
  pending: 'pending',
  reading: 'reading',
  done: 'done',
} as const;
export type StreamStatus = (typeof StreamStatus)[keyof typeof StreamStatus];

/** Stream work not yet published: the staged files of a stream that publishes when it completes. */
export interface StagedWork {
  readonly files: readonly ManifestFile[];
  readonly rows: number;
  readonly skipped: number;
  readonly durationMs: number;
  readonly schemaChanges: readonly string[];
  /** The table's schema versions as they will be published. */
  readonly versions: readonly SchemaVersion[];
  /** Highest cursor value read so far, and the tie keys of the records at it. */
  readonly maxCursor?: CursorValue;
  readonly keysAtMax?: readonly string[];
}

export interface StreamState {
  readonly name: string;
  readonly status: StreamStatus;
  /** Next part number of the stream's files: unique within the run across slices. */
  readonly nextPart: number;
  /** Where the next slice's read continues (the last checkpoint published). */
  readonly position?: StreamPosition;
  /** True once a slice of this run advanced the stream's cursor (the lag window is not re-read after). */
  readonly advanced: boolean;
  /** What is in raw/ from this run: the counts a run report shows. */
  readonly committed: StreamRunStats;
  readonly staged?: StagedWork;
}

export interface RunState {
  readonly format: 1;
  readonly source: string;
  readonly runId: string;
  readonly startedAt: string;
  /** Slices published so far. */
  readonly slice: number;
  readonly streams: readonly StreamState[];
}

/** The small, serialisable handle of a run between slices (well under Step Functions' 256 KB). */
export interface RunCheckpoint {
  readonly source: string;
  readonly runId: string;
  /** Slices published so far. */
  readonly slice: number;
  /** Every stream is complete: call `finishRun`. */
  readonly done: boolean;
  /** True when `beginRun` continued an unfinished run instead of starting one. */
  readonly continued?: boolean;
  /** The streams of the continued run (set with `continued`): a continued run keeps its selection. */
  readonly streams?: readonly string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function emptyStats(incremental: boolean, cursorFrom: CursorValue | null): StreamRunStats {
  return {
    rows: 0,
    bytes: 0,
    files: 0,
    durationMs: 0,
    skipped: 0,
    schemaChanges: [],
    cursorFrom,
    cursorTo: cursorFrom,
    incremental,
  };
}

export function isComplete(state: RunState): boolean {
  return state.streams.every((s) => s.status === StreamStatus.done);
}

export function checkpointOf(state: RunState, continued = false): RunCheckpoint {
  return {
    source: state.source,
    runId: state.runId,
    slice: state.slice,
    done: isComplete(state),
    ...(continued ? { continued, streams: state.streams.map((s) => s.name) } : {}),
  };
}

/** Staged files an unfinished run still needs (recovery must not delete them). */
export function stagedKeysOf(state: RunState): string[] {
  return state.streams.flatMap((s) => (s.staged?.files ?? []).map((f) => f.staging));
}

export function committedStatsOf(state: RunState): Record<string, StreamRunStats> {
  return Object.fromEntries(state.streams.map((s) => [s.name, s.committed]));
}

export async function readRunState(
  objects: ObjectStore,
  source: string,
  runId: string,
): Promise<RunState | undefined> {
  const bytes = await objects.get(runStateKey(source, runId));
  return bytes ? (JSON.parse(decoder.decode(bytes)) as RunState) : undefined;
}

export async function writeRunState(objects: ObjectStore, state: RunState): Promise<void> {
  await objects.put(runStateKey(state.source, state.runId), encoder.encode(JSON.stringify(state)));
}

export async function deleteRunState(objects: ObjectStore, source: string, runId: string): Promise<void> {
  await objects.delete(runStateKey(source, runId));
}

/** Every run state kept for a source, oldest run first. */
export async function listRunStates(objects: ObjectStore, source: string): Promise<RunState[]> {
  const states: RunState[] = [];
  for (const object of await objects.list(runStatePrefix(source))) {
    const bytes = await objects.get(object.key);
    if (bytes) states.push(JSON.parse(decoder.decode(bytes)) as RunState);
  }
  return states;
}

/** Ids of the runs that keep a state (unfinished, or finished but not yet recovered): a cheap listing. */
export async function runIdsWithState(objects: ObjectStore, source: string): Promise<string[]> {
  const prefix = runStatePrefix(source);
  return (await objects.list(prefix)).map((o) => o.key.slice(prefix.length).replace(/\.json$/, ''));
}
