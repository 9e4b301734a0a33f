/**
 * The commit protocol that makes landing exactly-once.
 *
 * A slice of a run writes its files under `_staging/`, then writes a manifest
 * under `_manifests/<source>/pending/`: that write is the slice's commit
 * point. Publishing a manifest (catalog schema → move files into `raw/` →
 * advance cursors with compare-and-set → record files → the run's state →
 * mark committed) is idempotent, so when a run dies anywhere after a commit
 * point the next step of the source rolls it forward; staged files no
 * manifest or unfinished run refers to are rolled back (deleted). Both happen
 * under the source's lease, before anything is read (see recovery.ts).
 */

import { ConflictError } from './errors.js';
import { committedManifestKey, pendingManifestKey, sliceManifestId } from './layout.js';
import type { Catalog, CursorState, ObjectStore, StateStore, TableDefinition } from './ports.js';
import { type RunState, readRunState, writeRunState } from './run-state.js';
import { normaliseStoredKey } from './tie-keys.js';

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
  /** Schema changes stored before the commit point instead (push batches, under the table's lease): for the run report. */
  readonly schemaChanges?: readonly string[];
  /** Cursor advance; absent when the stream's cursor does not move. */
  readonly cursor?: { readonly expectedVersion: number; readonly next: CursorState };
  /** All tie keys landed at the new cursor value, when too many for the state item. */
  readonly keysAtValue?: readonly string[];
}

export interface RunManifest {
  /** 1: one manifest per run (before slices); 2: one per slice. */
  readonly format: 1 | 2;
  readonly runId: string;
  readonly source: string;
  readonly createdAt: string;
  readonly streams: readonly ManifestStream[];
  /** The slice this manifest publishes (format 2). */
  readonly slice?: number;
  /** The run's state once this slice is published (format 2). */
  readonly state?: RunState;
  /** Staged files of the run that are no longer needed once this slice is published (a restarted stream's). */
  readonly discard?: readonly string[];
}

/** The id a manifest is stored under: its slice's id, or the run id for format 1. */
export function manifestIdOf(manifest: RunManifest): string {
  return manifest.slice === undefined ? manifest.runId : sliceManifestId(manifest.runId, manifest.slice);
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
    pendingManifestKey(manifest.source, manifestIdOf(manifest)),
    encoder.encode(JSON.stringify(manifest)),
  );
}

export async function readManifest(objects: ObjectStore, key: string): Promise<RunManifest | undefined> {
  const bytes = await objects.get(key);
  return bytes ? (JSON.parse(decoder.decode(bytes)) as RunManifest) : undefined;
}

function sameCursor(a: CursorState | undefined, b: CursorState): boolean {
  return a !== undefined && a.value === b.value && (a.keysRef ?? '') === (b.keysRef ?? '');
}

/** Publishes a manifest's slice (or run). Safe to call again after a crash at any step. */
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
          `inspect ${pendingManifestKey(manifest.source, manifestIdOf(manifest))} before retrying`,
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
  if (manifest.state) {
    // Only forward: a replayed older slice never rewinds a run that went on.
    const stored = await readRunState(objects, manifest.source, manifest.runId);
    if (!stored || stored.slice < manifest.state.slice) await writeRunState(objects, manifest.state);
  }
  const id = manifestIdOf(manifest);
  await objects.put(committedManifestKey(manifest.source, id), encoder.encode(JSON.stringify(manifest)));
  await objects.delete(pendingManifestKey(manifest.source, id));
  for (const key of manifest.discard ?? []) await objects.delete(key);
}

/** Tie keys landed at a cursor's value, wherever they are kept (legacy JSON keys hashed). */
export async function keysAtCursor(
  objects: ObjectStore,
  source: string,
  stream: string,
  cursor: CursorState | undefined,
): Promise<string[]> {
  if (!cursor) return [];
  if (!cursor.keysRef) return cursor.keysAtValue.map(normaliseStoredKey);
  const manifest = await readManifest(objects, cursor.keysRef);
  const entry = manifest?.streams.find((s) => s.name === stream);
  if (!entry?.keysAtValue) {
    throw new ConflictError(
      `cursor of ${source}.${stream} refers to ${cursor.keysRef} for its keys, but it is missing; ` +
        `reset the stream (sluice reset ${source} ${stream}) to backfill`,
    );
  }
  return entry.keysAtValue.map(normaliseStoredKey);
}
