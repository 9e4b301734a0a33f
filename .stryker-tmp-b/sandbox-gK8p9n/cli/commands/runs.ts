/** `sluice runs [source]`: recent runs, newest first. */
// @ts-nocheck

import { formatUsd } from '../../engine/cost.js';
import type { RunRecord } from '../../engine/ports.js';
import type { CliContext } from '../context.js';
import { formatCount, formatDuration, renderTable } from '../format.js';
import { printResult, warn } from '../output.js';
import { sourceOrFail } from './sources.js';

/** `5/6 passed`, or `-` when no quality stage ran. */
function checks(run: RunRecord): string {
  if (!run.quality || run.quality.length === 0) return '-';
  return `${run.quality.filter((q) => q.passed).length}/${run.quality.length} passed`;
}

export function renderRuns(runs: readonly RunRecord[], source: string | undefined): string {
  if (runs.length === 0) return source ? `no runs of "${source}" yet` : 'no runs yet';
  const rows = runs.map((r) => {
    const streams = Object.values(r.streams);
    const duration = r.endedAt ? formatDuration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : '-';
    return [
      r.runId,
      r.source,
      r.status,
      r.startedAt,
      duration,
      formatCount(streams.reduce((s, x) => s + x.rows, 0)),
      formatCount(streams.reduce((s, x) => s + x.files, 0)),
      checks(r),
      r.cost ? formatUsd(r.cost.usd) : '-',
      r.error ?? '',
    ];
  });
  return renderTable(
    ['run', 'source', 'status', 'started', 'duration', 'rows', 'files', 'checks', 'cost', 'note'],
    rows,
    [false, false, false, false, true, true, true, false, true, false],
  );
}

export async function listRuns(
  ctx: CliContext,
  source: string | undefined,
  options: { limit: number; json: boolean },
): Promise<void> {
  const runs = await ctx.state.listRuns(source, options.limit);
  if (source !== undefined && !(await ctx.state.getSource(source))) {
    // A removed source keeps its history; a name that never synced is a typo.
    if (runs.length === 0) await sourceOrFail(ctx, source);
    warn(`source "${source}" is not registered any more; these are its past runs`);
  }
  printResult(options.json, runs, (r) => renderRuns(r, source));
}
