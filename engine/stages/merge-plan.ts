/**
 * The logical plan of one merge into a `current` table, from which both
 * dialects' SQL is rendered (merge-sql.ts): which raw files are new since the
 * watermark (in landing order), the key, the cursor, the columns.
 *
 * New files are those of committed manifests after the watermark, read from
 * `_manifests/<source>/committed/`. Manifest ids are `<runId>-s<slice>` and
 * run ids start with their start time; runs of one source never overlap (the
 * lease) and an unfinished run is finished before the next starts, so id order
 * is commit order, and landing order is (manifest id, file order in it, row
 * order in the file).
 */
import { DELETED_FIELD } from '../../connectors/sdk/types.js';
import { catalogTableName, PARTITION_KEY } from '../catalog-rules.js';
import { readManifest } from '../commit.js';
import type { Column, ObjectStore, RunStatus, TableDefinition } from '../ports.js';

export const CURRENT_SUFFIX = '__current';

/** The Glue/Athena name of a stream's current table. */
export function currentTableName(source: string, stream: string): string {
  return `${catalogTableName(source, stream)}${CURRENT_SUFFIX}`;
}

/** Where a stream's current table lives in the lake (the Iceberg table's location on AWS). */
export function currentLocation(source: string, stream: string): string {
  return `current/${source}/${stream}/`;
}

/** The local Parquet snapshot holding the current table as of watermark `manifest`. */
export function currentSnapshotKey(source: string, stream: string, manifest: string): string {
  return `${currentLocation(source, stream)}${manifest}/data.parquet`;
}

export interface MergeFile {
  readonly key: string;
  /** The manifest that committed it. */
  readonly manifest: string;
  /** Its `dt` partition value (yyyy-mm-dd), for partition pruning. */
  readonly dt: string;
  /** The run that landed it. */
  readonly runId: string;
}

export interface MergePlan {
  readonly source: string;
  readonly stream: string;
  /** `<source>__<stream>` */
  readonly rawTable: string;
  /** `<source>__<stream>__current` */
  readonly table: string;
  /** Key columns (as landed, Glue-normalised). */
  readonly key: readonly string[];
  /** Cursor column, when the stream is incremental: the newest version has the greatest cursor. */
  readonly cursor: string | undefined;
  /** merge: upsert into what is there; replace: the table becomes the latest run's rows. */
  readonly mode: 'merge' | 'replace';
  /** Columns of the current table: the raw table's, without the tombstone flag. */
  readonly columns: readonly Column[];
  /** Whether the raw table has the tombstone column `_sluice_deleted`. */
  readonly tombstones: boolean;
  /** New files in landing order. */
  readonly files: readonly MergeFile[];
  /** Watermark before (undefined: first merge) and after this merge. */
  readonly from: string | undefined;
  readonly to: string;
}

const COMMITTED_PREFIX = (source: string) => `_manifests/${source}/committed/`;

/** Committed manifest ids of a source, in commit order. */
export async function committedManifestIds(objects: ObjectStore, source: string): Promise<string[]> {
  const prefix = COMMITTED_PREFIX(source);
  return (await objects.list(prefix))
    .map((o) => o.key.slice(prefix.length))
    .filter((name) => name.endsWith('.json') && !name.includes('/'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

/** Files committed for `stream` by manifests after `after`, in landing order. */
export async function filesSince(
  objects: ObjectStore,
  source: string,
  stream: string,
  after: string | undefined,
): Promise<MergeFile[]> {
  const files: MergeFile[] = [];
  for (const id of await committedManifestIds(objects, source)) {
    if (after !== undefined && id <= after) continue;
    const manifest = await readManifest(objects, `${COMMITTED_PREFIX(source)}${id}.json`);
    const entry = manifest?.streams.find((s) => s.name === stream);
    for (const file of entry?.files ?? []) {
      const dt = /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(file.final)?.[1];
      if (dt === undefined) continue;
      files.push({ key: file.final, manifest: id, dt, runId: manifest!.runId });
    }
  }
  return files;
}

/**
 * The plan for one table, or undefined when nothing is new or the stream has
 * no primary key (a keyless stream has no current table). `cursorField` is the
 * stream's declared incremental cursor (a source field name).
 */
export async function planMerge(
  objects: ObjectStore,
  table: TableDefinition,
  options: {
    readonly after: string | undefined;
    readonly cursorField?: string | undefined;
    /**
     * The status recorded for a run. Files of a run whose `error` quality
     * check failed (QUALITY_FAILED) are never merged: a later run's merge,
     * which reads every file after the watermark, would promote them. The
     * exception is `upToRun` itself: its checks have just passed (its stages
     * re-run after a fix) though its record does not say so yet. Its files
     * merge only while the watermark is still before them: once a later
     * run's merge has passed them, they stay out of `current`.
     */
    readonly runStatus?: (runId: string) => Promise<RunStatus | undefined>;
    /**
     * The run whose stages merge: files of runs after it (a sync that started
     * once this run released the source's lease) wait for their own run's
     * quality checks and merge. Run ids begin with their start time.
     */
    readonly upToRun?: string;
  },
): Promise<MergePlan | undefined> {
  if (table.primaryKey.length === 0) return undefined;
  const since = await filesSince(objects, table.source, table.stream, options.after);
  const upTo = options.upToRun;
  const found = upTo === undefined ? since : since.filter((f) => f.runId <= upTo);
  const failed = new Set<string>();
  for (const runId of new Set(found.map((f) => f.runId))) {
    // The run merging passed its checks just now (stages re-run after a fix), whatever its record says yet.
    if (runId === upTo) continue;
    if ((await options.runStatus?.(runId)) === 'QUALITY_FAILED') failed.add(runId);
  }
  const files = found.filter((f) => !failed.has(f.runId));
  if (files.length === 0) return undefined;
  const latest = table.schemaVersions.at(-1);
  const names = latest?.names ?? {};
  const all = latest?.columns ?? [];
  const columnOf = (field: string): string => names[field] ?? field;
  const present = new Set(all.map((c) => c.name));
  const key = table.primaryKey.map(columnOf);
  for (const k of key) {
    if (!present.has(k))
      throw new TypeError(`primary key column "${k}" is not in ${table.source}.${table.stream}`);
  }
  const cursorColumn = options.cursorField === undefined ? undefined : columnOf(options.cursorField);
  const mode = table.writeDisposition === 'replace' ? 'replace' : 'merge';
  const lastRun = files.at(-1)!.runId;
  return {
    source: table.source,
    stream: table.stream,
    rawTable: catalogTableName(table.source, table.stream),
    table: currentTableName(table.source, table.stream),
    key,
    cursor: cursorColumn !== undefined && present.has(cursorColumn) ? cursorColumn : undefined,
    mode,
    columns: all.filter((c) => c.name !== DELETED_FIELD && c.name !== PARTITION_KEY),
    tombstones: present.has(DELETED_FIELD),
    // A full-refresh stream's current table is its latest run: older files do not matter.
    files: mode === 'replace' ? files.filter((f) => f.runId === lastRun) : files,
    from: options.after,
    to: files.at(-1)!.manifest,
  };
}
