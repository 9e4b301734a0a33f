/**
 * recoverSource on its own: each kind of leftover an earlier step can leave
 * (complete, failed, unfinished and orphaned runs; format-1 and slice
 * manifests; staged files) and the record recovery writes for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalBackend, openLocalBackend } from '../../../adapters/local/index.js';
import { type RunManifest, writePendingManifest } from '../../../engine/commit.js';
import { stagingFileKey } from '../../../engine/layout.js';
import type { RunRecord } from '../../../engine/ports.js';
import { recoverSource } from '../../../engine/recovery.js';
import {
  emptyStats,
  type RunState,
  readRunState,
  type StreamStatus,
  writeRunState,
} from '../../../engine/run-state.js';

const NOW = '2026-02-01T00:00:00.000Z';
const clock = (): Date => new Date(NOW);
const A = '20260101T000000000Z-aaaaaa';
const B = '20260101T000100000Z-bbbbbb';
const C = '20260101T000200000Z-cccccc';
const BY = '20260102T000000000Z-recovr';

let home: string;
let backend: LocalBackend;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-recovery-'));
  backend = await openLocalBackend(home);
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A run state whose streams have these statuses; each has `rows` published rows. */
function runState(runId: string, slice: number, statuses: StreamStatus[], rows = 5): RunState {
  return {
    format: 1,
    source: 'shop',
    runId,
    startedAt: '2026-01-01T00:00:00.000Z',
    slice,
    streams: statuses.map((status, index) => ({
      name: `s${index}`,
      status,
      nextPart: 0,
      advanced: false,
      committed: { ...emptyStats(false, null), rows },
    })),
  };
}

function record(runId: string, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    source: 'shop',
    status: 'RUNNING',
    startedAt: '2026-01-01T00:00:00.000Z',
    streams: {},
    ...extra,
  };
}

const recover = (options: { continuing?: string; abandonUnfinished?: boolean } = {}) =>
  recoverSource(backend, 'shop', { by: BY, clock, ...options });

describe('recoverSource', () => {
  it('records a run whose every stream is published SUCCEEDED, once, and forgets its state', async () => {
    // Prepare: A stopped after publishing its last slice; B already recorded so
    await writeRunState(backend.objects, runState(A, 2, ['done', 'done']));
    await backend.state.putRun(record(A));
    await writeRunState(backend.objects, runState(B, 1, ['done']));
    const b = record(B, { status: 'SUCCEEDED', endedAt: '2026-01-01T01:00:00.000Z' });
    await backend.state.putRun(b);

    // Act
    const outcome = await recover();

    // Assess
    expect(await backend.state.getRun('shop', A)).toMatchObject({
      status: 'SUCCEEDED',
      endedAt: NOW,
      slices: 2,
      streams: { s0: { rows: 5 }, s1: { rows: 5 } },
      error: `its last slice was published by ${BY} after this run stopped past its commit point`,
    });
    expect(await backend.state.getRun('shop', B)).toEqual(b);
    expect(outcome.recovered).toEqual([`${A} (rolled forward)`]);
    expect(outcome.unfinished).toBeUndefined();
    expect(await readRunState(backend.objects, 'shop', A)).toBeUndefined();
    expect(await readRunState(backend.objects, 'shop', B)).toBeUndefined();
  });

  it('keeps one unfinished run to continue and fails the others, keeping a failed run as it was', async () => {
    // Prepare: A, the oldest, failed on its own; B and C are both unfinished, C with a staged file
    await writeRunState(backend.objects, runState(A, 1, ['done', 'reading']));
    const failed = record(A, { status: 'FAILED', endedAt: '2026-01-01T02:00:00.000Z', error: 'boom' });
    await backend.state.putRun(failed);
    await writeRunState(backend.objects, runState(B, 1, ['reading']));
    await backend.state.putRun(record(B));
    await writeRunState(backend.objects, runState(C, 1, ['pending'], 0));
    await backend.state.putRun(record(C));
    await backend.objects.put(stagingFileKey('shop', C, 's0', 0), new Uint8Array([1]));

    // Act
    const outcome = await recover();

    // Assess: the oldest unfinished run is kept; the abandoned one is named once
    expect(outcome.unfinished?.runId).toBe(B);
    expect(await readRunState(backend.objects, 'shop', B)).toBeDefined();
    expect(await backend.state.getRun('shop', B)).toMatchObject({ status: 'RUNNING' });
    expect(await backend.state.getRun('shop', C)).toMatchObject({
      status: 'FAILED',
      endedAt: NOW,
      slices: 1,
      error: `abandoned by ${BY} before it finished; its published slices stay`,
    });
    const stats = { ...emptyStats(false, null), rows: 5 };
    expect(await backend.state.getRun('shop', A)).toEqual({
      ...failed,
      slices: 1,
      streams: { s0: stats, s1: stats },
    });
    expect(outcome.recovered).toEqual([`${C} (abandoned)`]);
    expect(outcome.rolledBack).toEqual([C]);
    expect(await readRunState(backend.objects, 'shop', A)).toBeUndefined();
    expect(await readRunState(backend.objects, 'shop', C)).toBeUndefined();
  });

  it('names a run once when both its format-1 manifest and its run state finish it', async () => {
    // Prepare
    await backend.state.putRun(record(A));
    await writeRunState(backend.objects, runState(A, 1, ['done']));
    await writePendingManifest(backend.objects, {
      format: 1,
      runId: A,
      source: 'shop',
      createdAt: '2026-01-01T00:00:00.000Z',
      streams: [],
    });

    // Act
    const outcome = await recover();

    // Assess
    expect(outcome.recovered).toEqual([`${A} (rolled forward)`]);
    expect(await backend.state.getRun('shop', A)).toMatchObject({
      status: 'SUCCEEDED',
      error: `its last slice was published by ${BY} after this run stopped past its commit point`,
    });
  });

  it('keeps the run being continued, even when an older one is unfinished or it has published everything', async () => {
    // Prepare
    await writeRunState(backend.objects, runState(A, 1, ['reading']));
    await backend.state.putRun(record(A, { error: 'an earlier note' }));
    await writeRunState(backend.objects, runState(B, 3, ['done']));
    await backend.state.putRun(record(B));

    // Act
    const outcome = await recover({ continuing: B });

    // Assess
    expect(outcome.unfinished?.runId).toBe(B);
    expect(await backend.state.getRun('shop', B)).toMatchObject({ status: 'RUNNING' });
    expect(await backend.state.getRun('shop', A)).toMatchObject({
      status: 'FAILED',
      error: 'an earlier note',
    });
    expect(outcome.recovered).toEqual([`${A} (abandoned)`]);
  });

  it('does not continue a run that failed, and fails every unfinished run when asked to', async () => {
    // Prepare
    await writeRunState(backend.objects, runState(A, 1, ['reading']));
    await backend.state.putRun(
      record(A, { status: 'FAILED', endedAt: '2026-01-01T03:00:00.000Z', error: 'x' }),
    );
    await writeRunState(backend.objects, runState(B, 1, ['reading']));
    await backend.state.putRun(record(B));

    // Act
    const continued = await recover({ continuing: A, abandonUnfinished: true });

    // Assess
    expect(continued.unfinished).toBeUndefined();
    expect(await backend.state.getRun('shop', A)).toMatchObject({
      status: 'FAILED',
      endedAt: '2026-01-01T03:00:00.000Z',
    });
    expect(await backend.state.getRun('shop', B)).toMatchObject({ status: 'FAILED', endedAt: NOW });
    expect(continued.recovered).toEqual([`${B} (abandoned)`]);
  });

  it('finishes a run whose format-1 manifest it rolled forward, and leaves a slice manifest to its run state', async () => {
    // Prepare: A left a format-1 manifest (no state); B a slice manifest of an unfinished run
    const manifest = (runId: string, state?: RunState): RunManifest => ({
      format: 1,
      runId,
      source: 'shop',
      createdAt: '2026-01-01T00:00:00.000Z',
      streams: [],
      ...(state ? { state } : {}),
    });
    await backend.state.putRun(record(A));
    await writePendingManifest(backend.objects, manifest(A));
    await backend.state.putRun(record(B));
    await writePendingManifest(backend.objects, manifest(B, runState(B, 1, ['reading'])));
    await backend.state.putRun(record(C, { status: 'SUCCEEDED', endedAt: '2026-01-01T04:00:00.000Z' }));
    await writePendingManifest(backend.objects, manifest(C));

    // Act
    const outcome = await recover();

    // Assess
    expect([...outcome.rolledForward].sort()).toEqual([A, B, C]);
    expect(await backend.state.getRun('shop', A)).toMatchObject({
      status: 'SUCCEEDED',
      endedAt: NOW,
      error: `commit completed by ${BY} after this run stopped past its commit point`,
    });
    expect(await backend.state.getRun('shop', B)).toMatchObject({ status: 'RUNNING' });
    expect(await backend.state.getRun('shop', C)).toMatchObject({ endedAt: '2026-01-01T04:00:00.000Z' });
    expect(await backend.state.getRun('shop', C)).not.toHaveProperty('error');
    expect(outcome.unfinished?.runId).toBe(B);
    expect([...outcome.recovered].sort()).toEqual([`${A} (rolled forward)`, `${C} (rolled forward)`].sort());
  });

  it('deletes staged files nothing refers to and says which runs it rolled back', async () => {
    // Prepare: A died before its first slice; B is unfinished and its current slice's file is not in its state
    await backend.objects.put(stagingFileKey('shop', A, 's0', 0), new Uint8Array([1]));
    await writeRunState(backend.objects, runState(B, 2, ['reading']));
    await backend.state.putRun(record(B));
    await backend.objects.put(stagingFileKey('shop', B, 's0', 7), new Uint8Array([1]));

    // Act
    const outcome = await recover();

    // Assess
    expect([...outcome.rolledBack].sort()).toEqual([A, B].sort());
    expect([...outcome.recovered].sort()).toEqual(
      [`${A} (rolled back)`, `${B} (slice 3 rolled back; continued)`].sort(),
    );
    expect(await backend.objects.list('_staging/shop/')).toEqual([]);
  });

  it('fails RUNNING records of this source that have nothing to continue, and only those', async () => {
    // Prepare
    await backend.state.putRun(record(A));
    await backend.state.putRun(record(B, { endedAt: '2026-01-01T05:00:00.000Z', error: 'stopped by hand' }));
    await backend.state.putRun({ ...record(C), source: 'crm' });
    await backend.state.putRun(record(BY));
    const kept = '20260101T000300000Z-dddddd';
    await writeRunState(backend.objects, runState(kept, 1, ['reading']));
    await backend.state.putRun(record(kept));

    // Act
    await recover();

    // Assess
    expect(await backend.state.getRun('shop', A)).toMatchObject({
      status: 'FAILED',
      endedAt: NOW,
      error: `stopped before it published anything; nothing of it landed (found by ${BY})`,
    });
    expect(await backend.state.getRun('shop', B)).toMatchObject({
      status: 'FAILED',
      endedAt: '2026-01-01T05:00:00.000Z',
      error: 'stopped by hand',
    });
    expect(await backend.state.getRun('crm', C)).toMatchObject({ status: 'RUNNING' });
    expect(await backend.state.getRun('shop', BY)).toMatchObject({ status: 'RUNNING' });
    expect(await backend.state.getRun('shop', kept)).toMatchObject({ status: 'RUNNING' });
  });
});
