/**
 * The commit protocol step by step, on the local adapters: publishing a
 * manifest (catalog, moves, compare-and-set of the cursor, file list,
 * committed manifest), publishing it again after a crash, recovery of what
 * earlier runs left, and where the keys at a cursor value are read from.
 * The fault matrices show the whole protocol end to end; these pin each step.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalBackend, openLocalBackend } from '../../../adapters/local/index.js';
import {
  type CommitPhase,
  keysAtCursor,
  publishManifest,
  type RunManifest,
  readManifest,
  writePendingManifest,
} from '../../../engine/commit.js';
import { ConflictError } from '../../../engine/errors.js';
import {
  committedManifestKey,
  pendingManifestKey,
  rawFileKey,
  stagingFileKey,
} from '../../../engine/layout.js';
import type { TableDefinition } from '../../../engine/ports.js';
import { recoverSource } from '../../../engine/recovery.js';
import { type RunState, readRunState, writeRunState } from '../../../engine/run-state.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const RUN = '20260101T000000000Z-aaaaaa';
const OTHER = '20260101T000100000Z-bbbbbb';

let home: string;
let backend: LocalBackend;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-commit-'));
  backend = await openLocalBackend(home);
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function table(stream: string): TableDefinition {
  return {
    source: 'shop',
    stream,
    location: `raw/shop/${stream}/`,
    primaryKey: ['id'],
    writeDisposition: 'merge',
    schemaVersions: [
      {
        version: 1,
        columns: [{ name: 'id', type: 'bigint' }],
        changes: ['created table with 1 columns'],
        runId: RUN,
        createdAt: '2026-01-01T00:00:00.000Z',
      },
    ],
  } as TableDefinition;
}

/** Stages `files` files per stream for `runId` and returns the manifest that publishes them. */
async function staged(
  runId: string,
  streams: Record<
    string,
    { files: number; cursor?: { expectedVersion: number; value: string; keys?: string[] } }
  >,
  extra: { keysRef?: string; keysAtValue?: string[] } = {},
): Promise<RunManifest> {
  const out: RunManifest['streams'][number][] = [];
  for (const [name, spec] of Object.entries(streams)) {
    const files = [];
    for (let i = 0; i < spec.files; i++) {
      const staging = stagingFileKey('shop', runId, name, i);
      const final = rawFileKey('shop', name, '2026-01-01', runId, i);
      await backend.objects.put(staging, bytes(`${name} ${i}`));
      files.push({ staging, final, rows: 1, bytes: 3 });
    }
    out.push({
      name,
      files,
      ...(spec.files > 0 ? { table: table(name) } : {}),
      ...(spec.cursor
        ? {
            cursor: {
              expectedVersion: spec.cursor.expectedVersion,
              next: {
                value: spec.cursor.value,
                keysAtValue: spec.cursor.keys ?? [],
                ...(extra.keysRef ? { keysRef: extra.keysRef } : {}),
              },
            },
          }
        : {}),
      ...(extra.keysAtValue ? { keysAtValue: extra.keysAtValue } : {}),
    });
  }
  return { format: 1, runId, source: 'shop', createdAt: '2026-01-01T00:00:00.000Z', streams: out };
}

/** A 128-bit tie key as docs/exactly-once.md defines it (base64url of SHA-256, 22 characters), computed here, not by the engine. */
const tieHash = (key: string): string => createHash('sha256').update(key).digest('base64url').slice(0, 22);

async function keys(prefix: string): Promise<string[]> {
  return (await backend.objects.list(prefix)).map((o) => o.key);
}

describe('publishManifest', () => {
  it('publishes tables, moves files, commits cursors, records files and swaps the manifests, in that order', async () => {
    // Prepare
    const manifest = await staged(RUN, {
      orders: { files: 2, cursor: { expectedVersion: 0, value: 't1', keys: ['[1]'] } },
      events: { files: 0, cursor: { expectedVersion: 0, value: 'e1' } },
    });
    await writePendingManifest(backend.objects, manifest);
    const phases: string[] = [];
    const onPhase = async (phase: CommitPhase, detail: { runId: string; file?: string }): Promise<void> => {
      phases.push(`${phase}${detail.file ? ` ${detail.file}` : ''}`);
      expect(detail.runId).toBe(RUN);
      if (phase === 'files-published')
        expect((await backend.state.getCursor('shop', 'orders')).version).toBe(0);
    };

    // Act
    await publishManifest({ ...backend, onPhase }, manifest);

    // Assess
    const finals = manifest.streams[0]!.files.map((f) => f.final);
    expect(phases).toEqual([
      `file-published ${finals[0]}`,
      `file-published ${finals[1]}`,
      'files-published',
      'cursors-committed',
    ]);
    expect(await keys('_staging/')).toEqual([]);
    for (const key of finals) expect(await backend.objects.get(key)).toBeDefined();
    expect(await backend.catalog.getTable('shop', 'orders')).toEqual(table('orders'));
    expect(await backend.catalog.getTable('shop', 'events')).toBeUndefined();
    expect(await backend.state.getCursor('shop', 'orders')).toEqual({
      version: 1,
      cursor: { value: 't1', keysAtValue: ['[1]'] },
    });
    expect((await backend.state.getCursor('shop', 'events')).version).toBe(1);
    expect(await backend.catalog.listFiles('shop', 'orders')).toEqual([
      { runId: RUN, keys: [...finals].sort() },
    ]);
    expect(await backend.catalog.listFiles('shop', 'events')).toEqual([]);
    expect(await readManifest(backend.objects, committedManifestKey('shop', RUN))).toEqual(manifest);
    expect(await keys('_manifests/shop/pending/')).toEqual([]);
  });

  it('leaves a stream without a cursor advance at its version', async () => {
    // Prepare
    const manifest = await staged(RUN, { orders: { files: 1 } });

    // Act
    await publishManifest(backend, manifest);

    // Assess
    expect(await backend.state.getCursor('shop', 'orders')).toEqual({ version: 0, cursor: undefined });
    expect((await backend.catalog.listFiles('shop', 'orders'))[0]?.keys).toHaveLength(1);
  });

  it('completes a commit again after a crash past the cursor commit, without moving the cursor twice', async () => {
    // Prepare: the first attempt dies right after its cursor commit
    const manifest = await staged(RUN, {
      orders: { files: 2, cursor: { expectedVersion: 0, value: 't1' } },
    });
    await writePendingManifest(backend.objects, manifest);
    const dying = async (phase: CommitPhase): Promise<void> => {
      if (phase === 'cursors-committed') throw new Error('crash');
    };
    await expect(publishManifest({ ...backend, onPhase: dying }, manifest)).rejects.toThrow('crash');

    // Act
    await publishManifest(backend, manifest);

    // Assess
    expect((await backend.state.getCursor('shop', 'orders')).version).toBe(1);
    expect(await backend.objects.get(committedManifestKey('shop', RUN))).toBeDefined();
    expect(await keys('_manifests/shop/pending/')).toEqual([]);
  });

  it('refuses, naming both versions and the manifest, when another writer moved the cursor', async () => {
    // Prepare: someone committed twice since the run read version 0
    const manifest = await staged(RUN, { orders: { files: 1, cursor: { expectedVersion: 0, value: 't1' } } });
    await backend.state.commitCursor('shop', 'orders', 0, { value: 'x', keysAtValue: [] });
    await backend.state.commitCursor('shop', 'orders', 1, { value: 'y', keysAtValue: [] });

    // Act
    const error = (await publishManifest(backend, manifest).catch((e: unknown) => e)) as Error;

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      `cursor of shop.orders is at version 2, but run ${RUN} expected version 0: another writer moved it; ` +
        `the run's files are in raw/, inspect ${pendingManifestKey('shop', RUN)} before retrying`,
    );
    expect(await backend.objects.get(committedManifestKey('shop', RUN))).toBeUndefined();
  });

  it('refuses when the cursor is one version ahead but holds another value or keys reference', async () => {
    // Prepare
    const sameVersionOtherValue = await staged(RUN, {
      orders: { files: 0, cursor: { expectedVersion: 0, value: 't1' } },
    });
    const otherRef = await staged(
      OTHER,
      { events: { files: 0, cursor: { expectedVersion: 0, value: 'e1' } } },
      { keysRef: committedManifestKey('shop', OTHER) },
    );
    await backend.state.commitCursor('shop', 'orders', 0, { value: 'other', keysAtValue: [] });
    await backend.state.commitCursor('shop', 'events', 0, { value: 'e1', keysAtValue: [] });

    // Act / Assess
    await expect(publishManifest(backend, sameVersionOtherValue)).rejects.toBeInstanceOf(ConflictError);
    await expect(publishManifest(backend, otherRef)).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses a cursor two versions ahead even when it holds the same value', async () => {
    // Prepare
    const manifest = await staged(RUN, { orders: { files: 0, cursor: { expectedVersion: 0, value: 't1' } } });
    await backend.state.commitCursor('shop', 'orders', 0, { value: 'x', keysAtValue: [] });
    await backend.state.commitCursor('shop', 'orders', 1, { value: 't1', keysAtValue: [] });

    // Act / Assess
    await expect(publishManifest(backend, manifest)).rejects.toBeInstanceOf(ConflictError);
  });

  it('accepts a cursor one version ahead with the same value and keys reference (its own earlier commit)', async () => {
    // Prepare
    const ref = committedManifestKey('shop', RUN);
    const manifest = await staged(
      RUN,
      { orders: { files: 0, cursor: { expectedVersion: 0, value: 't1' } } },
      {
        keysRef: ref,
      },
    );
    await backend.state.commitCursor('shop', 'orders', 0, { value: 't1', keysAtValue: [], keysRef: ref });

    // Act
    await publishManifest(backend, manifest);

    // Assess
    expect((await backend.state.getCursor('shop', 'orders')).version).toBe(1);
  });
});

describe('publishManifest and the run state', () => {
  /** A run state at `slice`, told apart by its start time. */
  const stateAt = (slice: number, startedAt: string): RunState => ({
    format: 1,
    source: 'shop',
    runId: RUN,
    startedAt,
    slice,
    streams: [],
  });

  it('writes the run state a slice manifest carries, but never rewinds one that went on or rewrites one as far', async () => {
    // Prepare
    const manifest = await staged(RUN, { orders: { files: 1 } });

    // Act / Assess: no stored state, then a later one, then an older and an equal replay
    await publishManifest(backend, { ...manifest, state: stateAt(1, 'first') });
    expect(await readRunState(backend.objects, 'shop', RUN)).toEqual(stateAt(1, 'first'));
    await publishManifest(backend, { ...manifest, state: stateAt(2, 'second') });
    expect(await readRunState(backend.objects, 'shop', RUN)).toEqual(stateAt(2, 'second'));
    await publishManifest(backend, { ...manifest, state: stateAt(1, 'replayed') });
    await publishManifest(backend, { ...manifest, state: stateAt(2, 'replayed') });
    expect(await readRunState(backend.objects, 'shop', RUN)).toEqual(stateAt(2, 'second'));
  });
});

describe('recoverSource', () => {
  it('rolls pending manifests forward and staged files without one back, except the current run', async () => {
    // Prepare: a committed-but-unpublished run, a run that died before its commit point, and the current run
    const pending = await staged(RUN, { orders: { files: 2, cursor: { expectedVersion: 0, value: 't1' } } });
    await writePendingManifest(backend.objects, pending);
    await staged(OTHER, { orders: { files: 2 }, events: { files: 1 } });
    const current = '20260101T000200000Z-cccccc';
    const kept = await staged(current, { orders: { files: 1 } });
    // The current run keeps its staged file by listing it in its run state (what an unfinished slice leaves).
    await writeRunState(backend.objects, {
      format: 1,
      source: 'shop',
      runId: current,
      startedAt: '2026-01-01T00:02:00.000Z',
      slice: 1,
      streams: [
        {
          name: 'orders',
          status: 'reading',
          nextPart: 1,
          advanced: false,
          committed: {
            rows: 0,
            bytes: 0,
            files: 0,
            durationMs: 0,
            skipped: 0,
            schemaChanges: [],
            cursorFrom: null,
            cursorTo: null,
            incremental: false,
          },
          staged: {
            files: kept.streams[0]!.files,
            rows: 1,
            skipped: 0,
            durationMs: 0,
            schemaChanges: [],
            versions: [],
          },
        },
      ],
    });

    // Act
    const outcome = await recoverSource(backend, 'shop', { by: current, continuing: current });

    // Assess
    expect(outcome).toMatchObject({ rolledForward: [RUN], rolledBack: [OTHER] });
    expect(outcome.unfinished?.runId).toBe(current);
    expect(await readRunState(backend.objects, 'shop', current)).toBeDefined();
    expect(await keys('_manifests/shop/pending/')).toEqual([]);
    expect(await backend.objects.get(committedManifestKey('shop', RUN))).toBeDefined();
    expect((await backend.state.getCursor('shop', 'orders')).version).toBe(1);
    expect(await keys('_staging/shop/')).toEqual([stagingFileKey('shop', current, 'orders', 0)]);
    for (const file of pending.streams[0]!.files) expect(await backend.objects.get(file.final)).toBeDefined();
  });

  it('finds nothing to do on a clean lake, and leaves other sources alone', async () => {
    // Prepare
    const elsewhere = { ...(await staged(RUN, { orders: { files: 1 } })), source: 'other_shop' };
    await backend.objects.put(pendingManifestKey('other_shop', RUN), bytes(JSON.stringify(elsewhere)));

    // Act
    const outcome = await recoverSource(backend, 'shop_two', { by: RUN });

    // Assess
    expect(outcome).toMatchObject({ rolledForward: [], rolledBack: [] });
    expect(await keys('_manifests/other_shop/pending/')).toEqual([pendingManifestKey('other_shop', RUN)]);
  });
});

describe('keysAtCursor', () => {
  it('is empty without a cursor and the inline keys without a reference', async () => {
    expect(await keysAtCursor(backend.objects, 'shop', 'orders', undefined)).toEqual([]);
    // Keys stored before hashing are hashed when read; stored hashes stay as they are.
    expect(
      await keysAtCursor(backend.objects, 'shop', 'orders', {
        value: 't',
        keysAtValue: ['[1]', '[2]', tieHash('[3]')],
      }),
    ).toEqual([tieHash('[1]'), tieHash('[2]'), tieHash('[3]')]);
  });

  it('reads the keys of its stream from the referenced committed manifest, ignoring the inline ones', async () => {
    // Prepare
    const manifest = await staged(
      RUN,
      { events: { files: 0 }, orders: { files: 0 } },
      { keysAtValue: ['[7]', '[8]'] },
    );
    const ref = committedManifestKey('shop', RUN);
    await backend.objects.put(ref, bytes(JSON.stringify(manifest)));

    // Act
    const found = await keysAtCursor(backend.objects, 'shop', 'orders', {
      value: 't',
      keysAtValue: ['[1]'],
      keysRef: ref,
    });

    // Assess
    expect(found).toEqual([tieHash('[7]'), tieHash('[8]')]);
  });

  it('fails with a reset hint when the referenced manifest, its stream or its keys are missing', async () => {
    // Prepare
    const ref = committedManifestKey('shop', RUN);
    const cursor = { value: 't', keysAtValue: [], keysRef: ref };
    const missing = await keysAtCursor(backend.objects, 'shop', 'orders', cursor).catch(
      (e: unknown) => e as Error,
    );
    await backend.objects.put(
      ref,
      bytes(JSON.stringify(await staged(RUN, { events: { files: 0 } }, { keysAtValue: ['[1]'] }))),
    );
    const otherStream = await keysAtCursor(backend.objects, 'shop', 'orders', cursor).catch(
      (e: unknown) => e as Error,
    );
    await backend.objects.put(ref, bytes(JSON.stringify(await staged(RUN, { orders: { files: 0 } }))));
    const noKeys = await keysAtCursor(backend.objects, 'shop', 'orders', cursor).catch(
      (e: unknown) => e as Error,
    );

    // Assess
    for (const error of [missing, otherStream, noKeys]) {
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toBe(
        `cursor of shop.orders refers to ${ref} for its keys, but it is missing; reset the stream (sluice reset shop orders) to backfill`,
      );
    }
  });
});

describe('pending manifests', () => {
  it('are written where recovery looks, and read back as written', async () => {
    // Prepare
    const manifest = await staged(RUN, { orders: { files: 1 } });

    // Act
    await writePendingManifest(backend.objects, manifest);

    // Assess
    expect(await keys('_manifests/shop/pending/')).toEqual([pendingManifestKey('shop', RUN)]);
    expect(await readManifest(backend.objects, pendingManifestKey('shop', RUN))).toEqual(manifest);
    expect(await readManifest(backend.objects, pendingManifestKey('shop', OTHER))).toBeUndefined();
  });
});
