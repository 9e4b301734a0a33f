/** The local store answers the port's runs-by-status query as DynamoDB's GSI does: across sources, newest first. */
// @ts-nocheck

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalStateStore } from '../../../../adapters/local/state-store.js';
import type { RunRecord, RunStatus } from '../../../../engine/ports.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function run(source: string, runId: string, status: RunStatus, startedAt: string): RunRecord {
  return { runId, source, status, startedAt, streams: {} };
}

describe('LocalStateStore.listRunsByStatus', () => {
  it('lists the runs in one status across sources, newest first, up to a limit', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'sluice-state-'));
    dirs.push(dir);
    const store = new LocalStateStore(dir);
    await store.putRun(run('a', 'r1', 'RUNNING', '2026-01-01T00:00:00.000Z'));
    await store.putRun(run('b', 'r2', 'RUNNING', '2026-01-02T00:00:00.000Z'));
    await store.putRun(run('a', 'r3', 'SUCCEEDED', '2026-01-03T00:00:00.000Z'));
    // Act
    const running = await store.listRunsByStatus('RUNNING');
    const newest = await store.listRunsByStatus('RUNNING', 1);
    const failed = await store.listRunsByStatus('FAILED');
    // Assess
    expect(running.map((r) => r.runId)).toEqual(['r2', 'r1']);
    expect(newest.map((r) => r.runId)).toEqual(['r2']);
    expect(failed).toEqual([]);
  });
});
