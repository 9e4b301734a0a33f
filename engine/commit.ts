/**
 * The commit protocol that makes landing exactly-once.
 *
 * A run writes its files under `_staging/`, then writes a manifest under
 * `_manifests/<source>/pending/`: that write is the commit point. Publishing
 * a manifest (catalog schema → move files into `raw/` → advance cursors with
 * compare-and-set → record files → mark committed) is idempotent, so when a
 * run dies anywhere after its commit point the next run of the source rolls
 * it forward; staged files without a manifest are rolled back (deleted).
 * Both happen under the source's lease, before the next run reads anything.
 */

import { ConflictError } from './errors.js';
import {
  committedManifestKey,
  pendingManifestKey,
  pendingManifestPrefix,
  runIdOfStagingKey,
  stagingPrefix,
} from './layout.js';
import type { Catalog, CursorState, ObjectStore, StateStore, TableDefinition } from './ports.js';

export interface ManifestFile {
  readonly staging: string;
  readonly final: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface ManifestStream {
  readonly name: string;
  readonly files: readonly ManifestFile[];
  /** The catalog entry to publish before the files become visible. */
  readonly table?: TableDefinition;
  /** Cursor advance; absent when the stream's cursor does not move. */
  readonly cursor?: { readonly expectedVersion: number; readonly next: CursorState };
  /** All keys landed at the new cursor value, when too many for the state item. */
  readonly keysAtValue?: readonly string[];
}

export interface RunManifest {
  readonly format: 1;
  readonly runId: string;
  readonly source: string;
  readonly createdAt: string;
  readonly streams: readonly ManifestStream[];
}

export type CommitPhase = 'manifest-written' | 'file-published' | 'files-published' | 'cursors-committed';

export interface CommitDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly onPhase?: (phase: CommitPhase, detail: { runId: string; file?: string }) => void | Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function writePendingManifest(objects: ObjectStore, manifest: RunManifest): Promise<void> {
  await objects.put(
    pendingManifestKey(manifest.source, manifest.runId),
    encoder.encode(JSON.stringify(manifest, null, 2)),
  );
}

export async function readManifest(objects: ObjectStore, key: string): Promise<RunManifest | undefined> {
  const bytes = await objects.get(key);
  return bytes ? (JSON.parse(decoder.decode(bytes)) as RunManifest) : undefined;
}

function sameCursor(a: CursorState | undefined, b: CursorState): boolean {
  return a !== undefined && a.value === b.value && (a.keysRef ?? '') === (b.keysRef ?? '');
}

/** Publishes a manifest's run. Safe to call again after a crash at any step. */
export async function publishManifest(deps: CommitDeps, manifest: RunManifest): Promise<void> {
  const { objects, state, catalog } = deps;
  for (const stream of manifest.streams) {
    if (stream.table) await catalog.putTable(stream.table);
  }
  for (const stream of manifest.streams) {
    for (const file of stream.files) {
      await objects.move(file.staging, file.final);
      await deps.onPhase?.('file-published', { runId: manifest.runId, file: file.final });
    }
  }
  await deps.onPhase?.('files-published', { runId: manifest.runId });
  for (const stream of manifest.streams) {
    if (!stream.cursor) continue;
    const { expectedVersion, next } = stream.cursor;
    const current = await state.getCursor(manifest.source, stream.name);
    if (current.version === expectedVersion) {
      await state.commitCursor(manifest.source, stream.name, expectedVersion, next);
    } else if (!(current.version === expectedVersion + 1 && sameCursor(current.cursor, next))) {
      throw new ConflictError(
        `cursor of ${manifest.source}.${stream.name} is at version ${current.version}, but run ${manifest.runId} ` +
          `expected version ${expectedVersion}: another writer moved it; the run's files are in raw/, ` +
          `inspect ${pendingManifestKey(manifest.source, manifest.runId)} before retrying`,
      );
    }
  }
  await deps.onPhase?.('cursors-committed', { runId: manifest.runId });
  for (const stream of manifest.streams) {
    if (stream.files.length > 0) {
      await catalog.addFiles(
        manifest.source,
        stream.name,
        manifest.runId,
        stream.files.map((f) => f.final),
      );
    }
  }
  await objects.put(
    committedManifestKey(manifest.source, manifest.runId),
    encoder.encode(JSON.stringify(manifest, null, 2)),
  );
  await objects.delete(pendingManifestKey(manifest.source, manifest.runId));
}

export interface RecoveryOutcome {
  readonly rolledForward: readonly string[];
  readonly rolledBack: readonly string[];
}

/**
 * Finishes what earlier runs of `source` left behind. Must run under the
 * source's lease. `currentRunId` is excluded from roll-back.
 */
export async function recoverSource(
  deps: CommitDeps,
  source: string,
  currentRunId: string,
): Promise<RecoveryOutcome> {
  const rolledForward: string[] = [];
  const pending = await deps.objects.list(pendingManifestPrefix(source));
  for (const object of pending) {
    const manifest = await readManifest(deps.objects, object.key);
    if (!manifest) continue;
    await publishManifest(deps, manifest);
    rolledForward.push(manifest.runId);
  }
  const rolledBack = new Set<string>();
  for (const object of await deps.objects.list(stagingPrefix(source))) {
    const runId = runIdOfStagingKey(object.key);
    if (runId === undefined || runId === currentRunId) continue;
    await deps.objects.delete(object.key);
    rolledBack.add(runId);
  }
  return { rolledForward, rolledBack: [...rolledBack] };
}

/** Keys landed at a cursor's value, wherever they are kept. */
export async function keysAtCursor(
  objects: ObjectStore,
  source: string,
  stream: string,
  cursor: CursorState | undefined,
): Promise<Set<string>> {
  if (!cursor) return new Set();
  if (!cursor.keysRef) return new Set(cursor.keysAtValue);
  const manifest = await readManifest(objects, cursor.keysRef);
  const entry = manifest?.streams.find((s) => s.name === stream);
  if (!entry?.keysAtValue) {
    throw new ConflictError(
      `cursor of ${source}.${stream} refers to ${cursor.keysRef} for its keys, but it is missing; ` +
        `reset the stream (sluice reset ${source} ${stream}) to backfill`,
    );
  }
  return new Set(entry.keysAtValue);
}
