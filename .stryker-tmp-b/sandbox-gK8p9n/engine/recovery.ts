/**
 * Recovery: finishes what earlier steps of a source left behind, under the
 * source's lease, before anything is read. Pending manifests are rolled
 * forward; a run whose every stream is published is recorded SUCCEEDED; a
 * run that failed is recorded FAILED with what it published; at most one
 * unfinished run (interrupted or killed) is kept to be continued; every
 * staged object nothing refers to is deleted, partial writes included; and
 * a RUNNING record with nothing to continue becomes FAILED. Afterwards no
 * earlier run of the source stays RUNNING except the one returned.
 */
// @ts-nocheck

import { type CommitDeps, publishManifest, readManifest } from './commit.js';
import { pendingManifestPrefix, runIdOfStagingKey, stagingPrefix } from './layout.js';
import type { RunRecord, StateStore } from './ports.js';
import {
  committedStatsOf,
  deleteRunState,
  isComplete,
  listRunStates,
  type RunState,
  stagedKeysOf,
} from './run-state.js';

export interface RecoveryOptions {
  /** Who recovers (a run id, or `reset-…`), named in the records it changes. */
  readonly by: string;
  /** The run a step continues: kept as is, even when all its streams are published. */
  readonly continuing?: string;
  /** Fail unfinished runs instead of keeping one to continue (a reset does this). */
  readonly abandonUnfinished?: boolean;
  readonly clock?: () => Date;
}

export interface RecoveryOutcome {
  readonly rolledForward: readonly string[];
  readonly rolledBack: readonly string[];
  /** One line per earlier run recovery changed, for the run record's `recovered`. */
  readonly recovered: readonly string[];
  /** The unfinished run to continue, if there is one. */
  readonly unfinished: RunState | undefined;
}

export async function recoverSource(
  deps: CommitDeps,
  source: string,
  options: RecoveryOptions,
): Promise<RecoveryOutcome> {
  const now = (): string => (options.clock?.() ?? new Date()).toISOString();
  const rolledForward = new Set<string>();
  const legacyForward = new Set<string>();
  for (const object of await deps.objects.list(pendingManifestPrefix(source))) {
    const manifest = await readManifest(deps.objects, object.key);
    if (!manifest) continue;
    await publishManifest(deps, manifest);
    rolledForward.add(manifest.runId);
    if (!manifest.state) legacyForward.add(manifest.runId);
  }

  const recovered: string[] = [];
  let unfinished: RunState | undefined;
  const settled = new Set<string>();
  const states = await listRunStates(deps.objects, source);
  // The run being continued first, so no other unfinished run can take its place.
  states.sort((a, b) => Number(b.runId === options.continuing) - Number(a.runId === options.continuing));
  for (const state of states) {
    const record = await deps.state.getRun(source, state.runId);
    const base: RunRecord = record ?? {
      runId: state.runId,
      source,
      status: 'RUNNING',
      startedAt: state.startedAt,
      streams: {},
    };
    const counts = { streams: committedStatsOf(state), slices: state.slice };
    if (state.runId === options.continuing && base.status !== 'FAILED') {
      unfinished = state;
    } else if (isComplete(state)) {
      // Every stream is published: the run landed all it read, whatever stopped it before it recorded so.
      if (base.status !== 'SUCCEEDED') {
        await deps.state.putRun({
          ...base,
          ...counts,
          status: 'SUCCEEDED',
          endedAt: base.endedAt ?? now(),
          error: `its last slice was published by ${options.by} after this run stopped past its commit point`,
        });
        recovered.push(`${state.runId} (rolled forward)`);
      }
      await deleteRunState(deps.objects, source, state.runId);
      settled.add(state.runId);
    } else if (base.status === 'FAILED' || options.abandonUnfinished || unfinished) {
      // A failed run is not continued: what its slices published stays, its staged files go.
      await deps.state.putRun({
        ...base,
        ...counts,
        status: 'FAILED',
        endedAt: base.endedAt ?? now(),
        error: base.error ?? `abandoned by ${options.by} before it finished; its published slices stay`,
      });
      await deleteRunState(deps.objects, source, state.runId);
      settled.add(state.runId);
      if (base.status !== 'FAILED') recovered.push(`${state.runId} (abandoned)`);
    } else {
      unfinished = state;
    }
  }

  // Format-1 manifests (one per run) carry no state: rolling one forward finished its run.
  for (const runId of legacyForward) {
    if (settled.has(runId)) continue;
    const earlier = await deps.state.getRun(source, runId);
    if (earlier && earlier.status !== 'SUCCEEDED') {
      await deps.state.putRun({
        ...earlier,
        status: 'SUCCEEDED',
        endedAt: earlier.endedAt ?? now(),
        error: `commit completed by ${options.by} after this run stopped past its commit point`,
      });
    }
    recovered.push(`${runId} (rolled forward)`);
    settled.add(runId);
  }

  const keep = new Set(unfinished ? stagedKeysOf(unfinished) : []);
  const deleted = await deps.objects.deletePrefix(stagingPrefix(source), keep);
  const rolledBack = new Set<string>();
  for (const key of deleted) {
    const runId = runIdOfStagingKey(key);
    if (runId !== undefined && !rolledForward.has(runId)) rolledBack.add(runId);
  }
  for (const runId of rolledBack) {
    if (settled.has(runId)) continue;
    recovered.push(
      runId === unfinished?.runId
        ? `${runId} (slice ${unfinished.slice + 1} rolled back; continued)`
        : `${runId} (rolled back)`,
    );
  }

  await failOrphanedRuns(deps.state, source, unfinished?.runId, options.by, now);
  return { rolledForward: [...rolledForward], rolledBack: [...rolledBack], recovered, unfinished };
}

/** RUNNING records with nothing to continue: runs that stopped before their first slice was kept. */
async function failOrphanedRuns(
  state: StateStore,
  source: string,
  keep: string | undefined,
  by: string,
  now: () => string,
): Promise<void> {
  for (const run of await state.listRunsByStatus('RUNNING')) {
    if (run.source !== source || run.runId === keep || run.runId === by) continue;
    await state.putRun({
      ...run,
      status: 'FAILED',
      endedAt: run.endedAt ?? now(),
      error: run.error ?? `stopped before it published anything; nothing of it landed (found by ${by})`,
    });
  }
}
