/**
 * The merge stage: for every keyed table of the source, the raw files
 * committed since the table's watermark go into `<source>__<stream>__current`
 * (merge-plan.ts, merge-sql.ts), then the watermark advances by
 * compare-and-set.
 *
 * Locally the new state is a Parquet snapshot at a key derived from the new
 * watermark, built from the previous snapshot plus the new files; advancing
 * the watermark is the atomic swap (the query engine reads the snapshot the
 * watermark names). A crash before the swap leaves an unreferenced snapshot
 * that the retry rewrites identically; after it, the retry finds nothing new.
 * On Athena the MERGE and the watermark cannot share a transaction, so a
 * crash between them makes the retry apply the same files again: harmless,
 * because the merge keeps the newest version per key (applying a version the
 * table already holds changes nothing). No file is ever skipped: the
 * watermark only moves after its files are in.
 */
import type { Stream } from '../../connectors/sdk/types.js';
import type { ObjectStore, QueryEngine, StateStore, TableDefinition } from '../ports.js';
import { currentLocation, currentSnapshotKey, type MergePlan, planMerge } from './merge-plan.js';
import { renderMerge } from './merge-sql.js';
import { advanceWatermark, readWatermark } from './watermark.js';

export type MergePhase = 'merge-applied' | 'watermark-advanced';

export interface MergeDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly engine: () => Promise<QueryEngine>;
  readonly onPhase?: (phase: MergePhase, detail: { table: string }) => void | Promise<void>;
  /** Called once the plan is applied, before the watermark moves (lineage is recorded here, so it is never lost). */
  readonly applied?: (plan: MergePlan) => Promise<void>;
}

/** Merges one table; returns the plan it applied, or undefined when nothing was new. */
export async function mergeTable(
  deps: MergeDeps,
  table: TableDefinition,
  declared: Stream | undefined,
  options: { readonly upToRun?: string } = {},
): Promise<MergePlan | undefined> {
  const watermark = await readWatermark(deps.state, table.source, table.stream);
  const plan = await planMerge(deps.objects, table, {
    after: watermark.manifest,
    cursorField: declared?.incremental?.cursorField,
    runStatus: async (runId) => (await deps.state.getRun(table.source, runId))?.status,
    ...(options.upToRun === undefined ? {} : { upToRun: options.upToRun }),
  });
  if (!plan) return undefined;
  const engine = await deps.engine();
  const uri = (key: string) => deps.objects.uri(key);
  let target: string | undefined;
  if (engine.dialect === 'athena') {
    const [create] = renderMerge(plan, 'athena', { uri });
    await engine.query(create!);
    const existing = await engine.query(`SELECT * FROM "${plan.table}" WHERE false`);
    const statements = renderMerge(plan, 'athena', {
      uri,
      existingColumns: existing.columns,
      ...(existing.columnTypes ? { existingColumnTypes: existing.columnTypes } : {}),
    });
    for (const sql of statements.slice(1)) await engine.query(sql);
  } else {
    target = currentSnapshotKey(plan.source, plan.stream, plan.to);
    const previous =
      watermark.manifest === undefined
        ? undefined
        : currentSnapshotKey(plan.source, plan.stream, watermark.manifest);
    // The directory must exist before DuckDB writes into it; the COPY replaces this placeholder.
    await deps.objects.put(target, new Uint8Array());
    const [sql] = renderMerge(plan, 'duckdb', { uri, target, ...(previous ? { previous } : {}) });
    await engine.query(sql!);
  }
  await deps.applied?.(plan);
  await deps.onPhase?.('merge-applied', { table: plan.table });
  await advanceWatermark(deps.state, plan.source, plan.stream, watermark.version, plan.to);
  await deps.onPhase?.('watermark-advanced', { table: plan.table });
  if (target !== undefined) {
    // Earlier snapshots are no longer named by the watermark.
    await deps.objects.deletePrefix(currentLocation(plan.source, plan.stream), new Set([target]));
  }
  return plan;
}
