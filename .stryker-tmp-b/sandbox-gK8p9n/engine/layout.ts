/**
 * Lake layout: every key the engine writes is derived from the source,
 * stream, run id and part number, so a retried write lands on the same key.
 *
 *   raw/<source>/<stream>/dt=<yyyy-mm-dd>/<runId>-<part>.parquet   committed data (the table location)
 *   _staging/<source>/<runId>/<stream>/<part>.parquet               written, not yet committed
 *   _manifests/<source>/pending/<runId>-s<slice>.json               a slice's commit intent (the commit point)
 *   _manifests/<source>/committed/<runId>-s<slice>.json             finished commits
 *   _runs/<source>/<runId>.json                                     an unfinished run's state (its checkpoint)
 *
 * Only `raw/` is ever read by a query engine, so nothing uncommitted is visible.
 */
// @ts-nocheck


export function tableLocation(source: string, stream: string): string {
  return `raw/${source}/${stream}/`;
}

export function partitionOf(runStartedAt: Date): string {
  return `dt=${runStartedAt.toISOString().slice(0, 10)}`;
}

function part(index: number): string {
  return String(index).padStart(5, '0');
}

export function rawFileKey(
  source: string,
  stream: string,
  partition: string,
  runId: string,
  index: number,
): string {
  return `${tableLocation(source, stream)}${partition}/${runId}-${part(index)}.parquet`;
}

export function stagingPrefix(source: string, runId?: string): string {
  return runId === undefined ? `_staging/${source}/` : `_staging/${source}/${runId}/`;
}

export function stagingFileKey(source: string, runId: string, stream: string, index: number): string {
  return `${stagingPrefix(source, runId)}${stream}/${part(index)}.parquet`;
}

/** The id of one slice's manifest: `<runId>-s<slice>`, sortable within a run. */
export function sliceManifestId(runId: string, slice: number): string {
  return `${runId}-s${part(slice)}`;
}

export function runStatePrefix(source: string): string {
  return `_runs/${source}/`;
}

export function runStateKey(source: string, runId: string): string {
  return `${runStatePrefix(source)}${runId}.json`;
}

export function pendingManifestPrefix(source: string): string {
  return `_manifests/${source}/pending/`;
}

/** `id` is a slice manifest id (or, for manifests written before slices, a run id). */
export function pendingManifestKey(source: string, id: string): string {
  return `${pendingManifestPrefix(source)}${id}.json`;
}

export function committedManifestKey(source: string, id: string): string {
  return `_manifests/${source}/committed/${id}.json`;
}

/** The run id a staging key belongs to: `_staging/<source>/<runId>/…`. */
export function runIdOfStagingKey(key: string): string | undefined {
  return key.split('/')[2];
}

/** Sortable, unique run id: `20261122T035512345Z-3f9a1c`. */
export function newRunId(now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  const suffix = Math.floor(random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
  return `${stamp}-${suffix}`;
}
