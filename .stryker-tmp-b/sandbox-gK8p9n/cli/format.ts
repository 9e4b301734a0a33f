/**
 * How the CLI renders engine data as text: tables, run reports, progress
 * lines and query results. The engine returns data; only the CLI renders it.
 */
// @ts-nocheck

import { formatUsd } from '../engine/cost.js';
import type { QueryResult, RunRecord } from '../engine/ports.js';
import type { SyncProgress } from '../engine/sync.js';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const number = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return number.format(n);
}

/** Renders rows as an aligned text table; numbers right-aligned. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly boolean[] = [],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatRunReport(run: RunRecord): string {
  const started = Date.parse(run.startedAt);
  const ended = run.endedAt ? Date.parse(run.endedAt) : Date.now();
  const streams = Object.entries(run.streams);
  const totals = streams.reduce(
    (acc, [, s]) => ({ rows: acc.rows + s.rows, bytes: acc.bytes + s.bytes, files: acc.files + s.files }),
    { rows: 0, bytes: 0, files: 0 },
  );
  const lines = [
    `run ${run.runId} · source ${run.source} · ${run.status} in ${formatDuration(ended - started)}`,
  ];
  if (run.recovered && run.recovered.length > 0) lines.push(`recovered first: ${run.recovered.join(', ')}`);
  if (streams.length > 0) {
    lines.push('');
    lines.push(
      renderTable(
        ['stream', 'sync', 'rows', 'skipped', 'files', 'bytes', 'duration', 'cursor'],
        [
          ...streams.map(([name, s]) => [
            name,
            s.incremental ? 'incremental' : 'full',
            formatCount(s.rows),
            formatCount(s.skipped),
            formatCount(s.files),
            formatBytes(s.bytes),
            formatDuration(s.durationMs),
            s.cursorTo === null ? '-' : String(s.cursorTo),
          ]),
          [
            'total',
            '',
            formatCount(totals.rows),
            '',
            formatCount(totals.files),
            formatBytes(totals.bytes),
            '',
            '',
          ],
        ],
        [false, false, true, true, true, true, true, false],
      ),
    );
  }
  const changes = streams.flatMap(([name, s]) => s.schemaChanges.map((c) => `  ${name}: ${c}`));
  if (changes.length > 0) lines.push('', 'schema changes:', ...changes);
  lines.push(...formatStages(run));
  if (run.cost) {
    const c = run.cost;
    lines.push(
      '',
      `estimated cost: ${formatUsd(c.usd)} (${c.lambdaGbSeconds.toFixed(2)} Lambda GB-s, ${c.requests} requests, ` +
        `${c.stateTransitions} state transitions; list prices of ${c.pricesAsOf})`,
    );
  }
  if (run.error) lines.push('', `error: ${run.error}`);
  return lines.join('\n');
}

/** The stages after the run and its quality checks (failing ones with counts and sample keys). */
export function formatStages(run: RunRecord): string[] {
  const lines: string[] = [];
  if (run.stages && run.stages.length > 0) {
    lines.push('', 'stages:');
    for (const stage of run.stages) {
      const tries = stage.attempts > 1 ? ` after ${stage.attempts} attempts` : '';
      lines.push(`  ${stage.name}: ${stage.status}${tries}${stage.error ? ` · ${stage.error}` : ''}`);
      for (const detail of stage.detail ?? []) lines.push(`    ${detail}`);
    }
  }
  if (run.quality && run.quality.length > 0) {
    const failed = run.quality.filter((q) => !q.passed);
    lines.push('', `quality: ${run.quality.length - failed.length} of ${run.quality.length} checks passed`);
    for (const q of failed) {
      const keys = q.sampleKeys.length > 0 ? ` · keys ${q.sampleKeys.join(', ')}` : '';
      lines.push(
        `  ${q.severity} ${q.stream} ${q.check}: ${formatCount(q.failingRows)} of ${formatCount(q.rows)} rows${keys}`,
      );
    }
  }
  return lines;
}

export function formatProgress(progress: SyncProgress): string {
  const seconds = Math.max(progress.elapsedMs / 1000, 0.001);
  const rate = Math.round(progress.rows / seconds);
  return `  ${progress.stream}: ${formatCount(progress.rows)} rows · ${formatBytes(progress.bytes)} · ${formatCount(rate)} rows/s${progress.done ? ' · done' : ''}`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A query result as an aligned table, psql style, with a row count. */
export function formatQueryResult(result: QueryResult): string {
  const numeric = result.columns.map(
    (c) => result.rows.length > 0 && result.rows.every((r) => r[c] === null || typeof r[c] === 'number'),
  );
  const table = renderTable(
    result.columns,
    result.rows.map((r) => result.columns.map((c) => cell(r[c]))),
    numeric,
  );
  return `${table}\n(${formatCount(result.rows.length)} ${result.rows.length === 1 ? 'row' : 'rows'})`;
}

/**
 * " · 42% · ETA 1 min 20 s" for a stream whose connector reported a total (an
 * estimate: capped at 99% until the stream is done), else "".
 */
export function formatEstimate(rows: number, totalRows: number | undefined, rowsPerSec: number): string {
  if (totalRows === undefined || totalRows <= 0) return '';
  const percent = Math.min(99, Math.floor((100 * rows) / totalRows));
  const left = totalRows - rows;
  const eta =
    left > 0 && rowsPerSec > 0 ? ` · ETA ${formatDuration(Math.round((left / rowsPerSec) * 1000))}` : '';
  return ` · ${percent}%${eta}`;
}
