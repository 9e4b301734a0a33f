/** `sluice runs [source] [run]`: recent runs, newest first, each with its streams; or one run's report. */

import { formatUsd } from '../../engine/cost.js';
import { NotFoundError } from '../../engine/errors.js';
import type { RunRecord } from '../../engine/ports.js';
import { SOURCE_NAME } from '../../engine/sources.js';
import type { CliContext } from '../context.js';
import { formatBytes, formatCount, formatDuration, formatRunReport, renderTable } from '../format.js';
import { printResult, warn } from '../output.js';
import { sourceOrFail } from './sources.js';

export interface RenderRunsOptions {
  /**
   * The runs ran in local mode: nothing was billed, and a laptop's timings
   * say little about Lambda's, so a run without a cost shows `n/a (local)`.
   * @default false (a run without a cost shows `-`)
   */
  readonly local?: boolean;
}

/** `5/6 passed`, or `-` when no quality stage ran. */
function checks(run: RunRecord): string {
  if (!run.quality || run.quality.length === 0) return '-';
  return `${run.quality.filter((q) => q.passed).length}/${run.quality.length} passed`;
}

/** The run's estimated cost, or why there is none. */
export function costCell(run: RunRecord, options: RenderRunsOptions = {}): string {
  if (run.cost) return formatUsd(run.cost.usd);
  return options.local ? 'n/a (local)' : '-';
}

/**
 * One line per run with its totals, and under it one indented line per
 * stream with that stream's rows, bytes, files and time.
 */
export function renderRuns(
  runs: readonly RunRecord[],
  source: string | undefined,
  options: RenderRunsOptions = {},
): string {
  if (runs.length === 0) return source ? `no runs of "${source}" yet` : 'no runs yet';
  const rows = runs.flatMap((r) => {
    const streams = Object.entries(r.streams);
    const duration = r.endedAt ? formatDuration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : '-';
    const total = (field: 'rows' | 'bytes' | 'files') => streams.reduce((s, [, x]) => s + x[field], 0);
    const run = [
      r.runId,
      r.source,
      r.status,
      r.startedAt,
      duration,
      formatCount(total('rows')),
      formatBytes(total('bytes')),
      formatCount(total('files')),
      checks(r),
      costCell(r, options),
      r.error ?? '',
    ];
    const perStream = streams.map(([name, s]) => [
      `  ${name}`,
      '',
      '',
      '',
      formatDuration(s.durationMs),
      formatCount(s.rows),
      formatBytes(s.bytes),
      formatCount(s.files),
      '',
      '',
      '',
    ]);
    return [run, ...perStream];
  });
  return renderTable(
    [
      'run / stream',
      'source',
      'status',
      'started',
      'duration',
      'rows',
      'bytes',
      'files',
      'checks',
      'cost',
      'note',
    ],
    rows,
    [false, false, false, false, true, true, true, true, false, true, false],
  );
}

/** One run's report: per-stream counts and the cost estimate (or why there is none). */
export function renderRun(run: RunRecord, options: RenderRunsOptions = {}): string {
  const report = formatRunReport(run);
  if (run.cost) return report;
  return `${report}\n\ncost: ${options.local ? 'n/a (local: nothing billed; see docs/operations.md#cost-estimate)' : '-'}`;
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
  printResult(options.json, runs, (r) => renderRuns(r, source, { local: ctx.backend === 'local' }));
}

/** `sluice runs <source> <run>`, or `sluice runs <run>` when the one name is a run id and no source. */
export async function showRun(
  ctx: CliContext,
  source: string | undefined,
  runId: string,
  options: { json: boolean },
): Promise<void> {
  const run = source === undefined ? await ctx.state.findRun(runId) : await ctx.state.getRun(source, runId);
  if (!run) {
    throw new NotFoundError(
      source === undefined
        ? `run "${runId}" does not exist`
        : `run "${runId}" of source "${source}" does not exist`,
      { what: `run ${runId}` },
    );
  }
  printResult(options.json, run, (r) => renderRun(r, { local: ctx.backend === 'local' }));
}

/**
 * `sluice runs <name>`: a source name (snake_case) lists the source's runs;
 * anything else is a run id (API-issued or a schedule's execution name,
 * neither of which can be a source name) and shows that run.
 */
export async function runsOf(
  ctx: CliContext,
  name: string | undefined,
  options: { limit: number; json: boolean },
): Promise<void> {
  if (name !== undefined && !SOURCE_NAME.test(name)) return showRun(ctx, undefined, name, options);
  return listRuns(ctx, name, options);
}
