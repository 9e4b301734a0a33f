/**
 * Backfill: sets streams' cursors back to their initial value, so the next
 * sync re-reads them from the start. Runs under the source's lease and first
 * finishes any unfinished commit, so it never races a run.
 */
// @ts-nocheck

import type { Stream } from '../connectors/sdk/types.js';
import { newRunId } from './layout.js';
import type { Catalog, ObjectStore, StateStore } from './ports.js';
import { recoverSource } from './recovery.js';
import { selectStreams } from './run.js';

export interface ResetDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
}

/** Returns the streams whose cursor was reset (those that had one). */
export async function resetCursors(
  deps: ResetDeps,
  source: string,
  streams: readonly Stream[],
  only?: readonly string[],
): Promise<string[]> {
  const owner = `reset-${newRunId(new Date())}`;
  await deps.state.acquireLease(source, owner, 60_000);
  try {
    await recoverSource(deps, source, { by: owner, abandonUnfinished: true });
    const reset: string[] = [];
    for (const stream of selectStreams(streams, only)) {
      const { cursor, version } = await deps.state.getCursor(source, stream.name);
      if (cursor === undefined) continue;
      await deps.state.commitCursor(source, stream.name, version, undefined);
      reset.push(stream.name);
    }
    return reset;
  } finally {
    await deps.state.releaseLease(source, owner);
  }
}
