/**
 * Lake layout: every key the engine writes is derived from the source,
 * stream, run id and part number, so a retried write lands on the same key.
 *
 *   raw/<source>/<stream>/dt=<yyyy-mm-dd>/<runId>-<part>.parquet   committed data (the table location)
 *   _staging/<source>/<runId>/<stream>/<part>.parquet               written, not yet committed
 *   _manifests/<source>/pending/<runId>.json                        commit intent (the commit point)
 *   _manifests/<source>/committed/<runId>.json                      finished commits
 *
 * Only `raw/` is ever read by a query engine, so nothing uncommitted is visible.
 */

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

export function pendingManifestPrefix(source: string): string {
  return `_manifests/${source}/pending/`;
}

export function pendingManifestKey(source: string, runId: string): string {
  return `${pendingManifestPrefix(source)}${runId}.json`;
}

export function committedManifestKey(source: string, runId: string): string {
  return `_manifests/${source}/committed/${runId}.json`;
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
