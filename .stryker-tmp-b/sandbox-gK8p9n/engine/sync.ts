/**
 * One sync of one source, start to end: `beginRun` → `runSlice` until the
 * run is done → `finishRun` (engine/run.ts), holding the source's lease
 * across the steps. Without a slice limit the run is one slice: one
 * transaction, as before slices existed. Runtime-agnostic: everything outside
 * the process goes through the ports.
 */
// @ts-nocheck


import { newRunId } from './layout.js';
import { leaseOwnerFor } from './lease.js';
import type { RunRecord } from './ports.js';
import {
  type BeginRunOptions,
  beginRun,
  finishRun,
  runSlice,
  type SliceOptions,
  type SyncDeps,
} from './run.js';
import { type RunCheckpoint, runIdsWithState } from './run-state.js';

export type {
  BeginRunOptions,
  PhaseDetail,
  RunStepOptions,
  SliceOptions,
  SyncDeps,
  SyncPhase,
  SyncProgress,
} from './run.js';
export { beginRun, finishRun, RunInterruptedError, runSlice, SyncError, selectStreams } from './run.js';
export type { RunCheckpoint } from './run-state.js';

export interface SyncOptions extends BeginRunOptions, SliceOptions {
  /** End each slice after this many seconds of reading. @default no limit (one slice) */
  readonly sliceSeconds?: number;
  /** Called when the run starts or is continued, and after each published slice. */
  readonly onSlice?: (checkpoint: RunCheckpoint) => void;
}

/** Syncs a source now: continues its unfinished run if it has one, else runs a new one to the end. */
export async function runSync(deps: SyncDeps, options: SyncOptions): Promise<RunRecord> {
  const runId = options.runId ?? newRunId((deps.clock ?? (() => new Date()))());
  // The lease names the run it will most likely work on: the unfinished one, if the source has one.
  const [unfinished] = await runIdsWithState(deps.objects, options.source.name);
  const owner = options.leaseOwner ?? leaseOwnerFor(unfinished ?? runId);
  const steps = { ...options, runId, leaseOwner: owner, keepLease: true };
  try {
    let checkpoint = await beginRun(deps, steps);
    options.onSlice?.(checkpoint);
    while (!checkpoint.done) {
      const limit =
        options.sliceSeconds === undefined
          ? {}
          : { deadline: Date.now() + options.sliceSeconds * 1000, reserveMs: 0 };
      checkpoint = await runSlice(deps, checkpoint, { ...steps, ...limit });
      options.onSlice?.(checkpoint);
    }
    return await finishRun(deps, checkpoint, steps);
  } finally {
    if (!options.keepLease) await deps.state.releaseLease(options.source.name, owner).catch(() => undefined);
  }
}
