/** `sluice sync` progress: one line rewritten in place on a terminal, plain lines otherwise, % and ETA with a total. */
// @ts-nocheck

import { describe, expect, it } from 'vitest';
import { ProgressView } from '../../../../cli/commands/sync.js';
import type { SyncProgress } from '../../../../engine/sync.js';

function progress(overrides: Partial<SyncProgress>): SyncProgress {
  return {
    runId: 'r1',
    slice: 1,
    stream: 'orders',
    rows: 100,
    sliceRows: 100,
    bytes: 2048,
    elapsedMs: 1000,
    done: false,
    ...overrides,
  };
}

function viewOn(tty: boolean): { view: ProgressView; written: string[] } {
  const written: string[] = [];
  const out = { write: (chunk: string) => written.push(chunk) > 0 };
  return { view: new ProgressView(out as never, tty), written };
}

describe('sync progress', () => {
  it('rewrites one line in place on a terminal and clears it before a note', () => {
    // Prepare
    const { view, written } = viewOn(true);
    // Act
    view.onProgress(progress({ rows: 100 }));
    view.onProgress(progress({ rows: 200, sliceRows: 200 }));
    view.note('slice 1 published');
    // Assess
    expect(written.slice(0, 2).every((w) => w.startsWith('\r\x1b[K') && !w.includes('\n'))).toBe(true);
    expect(written[1]).toContain('slice 1 · orders · 200 rows · 2.0 KiB');
    expect(written.slice(2)).toEqual(['\r\x1b[K', 'slice 1 published\n']);
  });

  it('prints plain lines when not on a terminal, with % and ETA where the connector reported a total', () => {
    // Prepare
    const { view, written } = viewOn(false);
    // Act
    view.onProgress(progress({ rows: 250, sliceRows: 250, totalRows: 1000 }));
    view.onProgress(progress({ rows: 300, sliceRows: 300, done: true }));
    // Assess
    expect(written).toHaveLength(2);
    expect(written.every((w) => w.startsWith('  slice 1 · orders') && w.endsWith('\n'))).toBe(true);
    expect(written[0]).toMatch(/ · 25% · ETA \d/);
    expect(written[1]).not.toContain('%');
    expect(written[1]).toContain('· orders done');
  });
});
