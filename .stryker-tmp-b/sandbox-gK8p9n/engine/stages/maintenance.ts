/**
 * Maintenance of the `current` tables: compaction and expiry, run on a
 * schedule (`sluice stages maintain <source>`), under the source's lease so
 * no merge swaps a snapshot meanwhile.
 *
 * On Athena: `OPTIMIZE … REWRITE DATA USING BIN_PACK` (small files into
 * larger ones) and `VACUUM` (snapshots past the table's retention expired,
 * orphan files removed); the Trino tier runs them through its translation
 * layer (adapters/trino/translate.ts).
 *
 * Locally the current table is one Parquet snapshot named by the merge
 * watermark: compaction rewrites it with DuckDB, ordered by key, into a
 * sibling file that is renamed over it (the swap is atomic, and the rows are
 * the same, so a crash at any point leaves a readable table). Expiry deletes
 * the other snapshot directories (left by a merge that crashed after its
 * swap, or a crashed compaction) once older than the retention; their age
 * is the run timestamp that starts their manifest id.
 */
// @ts-nocheck

import type { Catalog, ObjectStore, QueryEngine, StateStore, TableDefinition } from '../ports.js';
import { currentLocation, currentSnapshotKey, currentTableName } from './merge-plan.js';
import { quoteIdentifier, quoteString } from './merge-sql.js';
import { readWatermark } from './watermark.js';

/** Snapshots younger than this survive expiry (Athena VACUUM's own default: 5 days). */
export const DEFAULT_RETENTION_MS = 5 * 86_400_000;

const COMPACTING = 'data.compacting.parquet';

export interface MaintenanceDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly engine: () => Promise<QueryEngine>;
  readonly clock?: () => Date;
}

export interface MaintenanceOptions {
  /** @default DEFAULT_RETENTION_MS */
  readonly retentionMs?: number;
}

export interface TableMaintenance {
  readonly table: string;
  /** Local: rows of the rewritten snapshot; Athena: undefined. */
  readonly rows?: number;
  /** The statements run (Athena) or the snapshot rewritten (local). */
  readonly compacted: string;
  /** Object keys (local) or the VACUUM statement (Athena) that expired old data. */
  readonly expired: readonly string[];
}

/** The Athena statements that compact and expire one current table. */
export function athenaMaintenanceSql(table: string): [optimize: string, vacuum: string] {
  const name = quoteIdentifier(table);
  return [`OPTIMIZE ${name} REWRITE DATA USING BIN_PACK`, `VACUUM ${name}`];
}

/** `20261127T131404417Z-…` → its epoch ms; undefined when the id carries no timestamp. */
export function manifestTimeMs(manifest: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(manifest);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!);
}

async function maintainTable(
  deps: MaintenanceDeps,
  table: TableDefinition,
  retentionMs: number,
): Promise<TableMaintenance | undefined> {
  const name = currentTableName(table.source, table.stream);
  const watermark = await readWatermark(deps.state, table.source, table.stream);
  if (watermark.manifest === undefined) return undefined;
  const engine = await deps.engine();
  if (engine.dialect === 'athena') {
    const [optimize, vacuum] = athenaMaintenanceSql(name);
    await engine.query(optimize);
    await engine.query(vacuum);
    return { table: name, compacted: optimize, expired: [vacuum] };
  }
  const snapshot = currentSnapshotKey(table.source, table.stream, watermark.manifest);
  const directory = snapshot.slice(0, snapshot.lastIndexOf('/') + 1);
  const temporary = `${directory}${COMPACTING}`;
  const uri = (key: string) => quoteString(deps.objects.uri(key));
  const order = table.primaryKey.map(quoteIdentifier).join(', ');
  const counted = await engine.query(`SELECT count(*) AS n FROM read_parquet(${uri(snapshot)})`);
  await deps.objects.put(temporary, new Uint8Array());
  await engine.query(
    `COPY (SELECT * FROM read_parquet(${uri(snapshot)})${order ? ` ORDER BY ${order}` : ''}) ` +
      `TO ${uri(temporary)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
  );
  await deps.objects.move(temporary, snapshot);
  const now = (deps.clock?.() ?? new Date()).getTime();
  const expired: string[] = [];
  for (const object of await deps.objects.list(currentLocation(table.source, table.stream))) {
    if (object.key.startsWith(directory)) continue;
    const manifest = object.key.slice(currentLocation(table.source, table.stream).length).split('/')[0]!;
    const at = manifestTimeMs(manifest);
    if (at !== undefined && now - at < retentionMs) continue;
    await deps.objects.delete(object.key);
    expired.push(object.key);
  }
  return { table: name, rows: Number(counted.rows[0]?.n ?? 0), compacted: snapshot, expired };
}

/** Compacts and expires every current table of the source (keyed tables the merge has written). */
export async function maintainCurrentTables(
  deps: MaintenanceDeps,
  source: string,
  options: MaintenanceOptions = {},
): Promise<TableMaintenance[]> {
  const done: TableMaintenance[] = [];
  for (const table of await deps.catalog.listTables(source)) {
    if (table.primaryKey.length === 0) continue;
    const outcome = await maintainTable(deps, table, options.retentionMs ?? DEFAULT_RETENTION_MS);
    if (outcome) done.push(outcome);
  }
  return done;
}
