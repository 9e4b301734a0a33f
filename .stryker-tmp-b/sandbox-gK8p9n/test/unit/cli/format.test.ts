// @ts-nocheck
import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDuration,
  formatEstimate,
  formatQueryResult,
  formatRunReport,
  renderTable,
} from '../../../cli/format.js';
import type { RunRecord } from '../../../engine/ports.js';

describe('renderTable', () => {
  it('aligns columns and right-aligns the numeric ones', () => {
    const text = renderTable(
      ['name', 'rows'],
      [
        ['orders', '2,000'],
        ['customers', '200'],
      ],
      [false, true],
    );
    expect(text.split('\n')).toEqual([
      'name        rows',
      '---------  -----',
      'orders     2,000',
      'customers    200',
    ]);
  });
});

describe('formatBytes and formatDuration', () => {
  it('picks a readable unit', () => {
    expect([
      formatBytes(512),
      formatBytes(6 * 1024),
      formatBytes(50 * 1024),
      formatBytes(3 * 1024 ** 3),
    ]).toEqual(['512 B', '6.0 KiB', '50 KiB', '3.0 GiB']);
    expect([formatDuration(439), formatDuration(1500), formatDuration(125_000)]).toEqual([
      '439 ms',
      '1.5 s',
      '2 min 5 s',
    ]);
  });
});

describe('formatRunReport', () => {
  it('prints the status line, a stream table with totals, schema changes and the error', () => {
    // Prepare
    const run: RunRecord = {
      runId: 'r1',
      source: 'shop',
      status: 'FAILED',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:01.500Z',
      streams: {
        orders: {
          rows: 2000,
          bytes: 51_200,
          files: 1,
          durationMs: 246,
          skipped: 0,
          schemaChanges: ['created table with 11 columns'],
          cursorFrom: null,
          cursorTo: '2026-01-01T23:51:54.000Z',
          incremental: false,
        },
      },
      error: 'interrupted',
    };
    // Act
    const text = formatRunReport(run);
    // Assess
    expect(text).toBe(
      [
        'run r1 · source shop · FAILED in 1.5 s',
        '',
        'stream  sync   rows  skipped  files   bytes  duration  cursor',
        '------  ----  -----  -------  -----  ------  --------  ------------------------',
        'orders  full  2,000        0      1  50 KiB    246 ms  2026-01-01T23:51:54.000Z',
        'total         2,000               1  50 KiB',
        '',
        'schema changes:',
        '  orders: created table with 11 columns',
        '',
        'error: interrupted',
      ].join('\n'),
    );
  });
});

describe('formatQueryResult', () => {
  it('shows nulls as ∅ and counts the rows', () => {
    const text = formatQueryResult({
      columns: ['status', 'n'],
      rows: [
        { status: 'paid', n: 392 },
        { status: null, n: 20 },
      ],
    });
    expect(text).toBe(['status    n', '------  ---', 'paid    392', '∅        20', '(2 rows)'].join('\n'));
  });
});

describe('formatEstimate', () => {
  it('shows the percentage and the time left when the connector reported a total', () => {
    expect(formatEstimate(2_500, 10_000, 100)).toBe(` · 25% · ETA ${formatDuration(75_000)}`);
  });

  it('shows nothing without a total, and stays below 100% when the estimate was too low', () => {
    expect(formatEstimate(2_500, undefined, 100)).toBe('');
    expect(formatEstimate(12_000, 10_000, 100)).toBe(' · 99%');
  });
});
