/**
 * Lineage: every stage execution that writes a table records what it read —
 * tables, the raw files and the runs that landed them — as
 * `_lineage/<table>/<runId>.json` in the lake (one object per output and run
 * of the stages, written idempotently, so a retried stage records once).
 * `traceLineage` walks those records from a table back to source runs.
 */
// @ts-nocheck

import { catalogTableName } from '../catalog-rules.js';
import { NotFoundError } from '../errors.js';
import type { Catalog, ObjectStore } from '../ports.js';

export interface LineageRecord {
  /** The table written. */
  readonly table: string;
  readonly stage: string;
  /** The run whose stages wrote it. */
  readonly runId: string;
  readonly at: string;
  /** Tables read (raw, current or models). */
  readonly inputs: readonly string[];
  /** Raw files read, when the inputs are raw tables. */
  readonly files?: readonly string[];
  /** Source runs that landed those files. */
  readonly sourceRuns?: readonly string[];
  /** For a model: its file. */
  readonly path?: string;
}

export function lineageKey(table: string, runId: string): string {
  return `_lineage/${table}/${runId}.json`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function recordLineage(objects: ObjectStore, record: LineageRecord): Promise<void> {
  await objects.put(lineageKey(record.table, record.runId), encoder.encode(JSON.stringify(record)));
}

/** A table's lineage records, oldest first. */
export async function lineageOf(objects: ObjectStore, table: string): Promise<LineageRecord[]> {
  const records: LineageRecord[] = [];
  for (const object of await objects.list(`_lineage/${table}/`)) {
    const bytes = await objects.get(object.key);
    if (bytes) records.push(JSON.parse(decoder.decode(bytes)) as LineageRecord);
  }
  return records.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
}

export interface LineageNode {
  readonly table: string;
  /** The stages' records for this table; empty for a raw table (landed by source runs). */
  readonly records: readonly LineageRecord[];
  /** Source runs whose rows reach this table. */
  readonly sourceRuns: readonly string[];
  readonly inputs: readonly LineageNode[];
}

/** Where a table's rows came from, back to source runs. */
export async function traceLineage(
  objects: ObjectStore,
  table: string,
  seen = new Set<string>(),
): Promise<LineageNode> {
  seen.add(table);
  const records = await lineageOf(objects, table);
  const inputNames = [...new Set(records.flatMap((r) => r.inputs))].sort();
  const inputs: LineageNode[] = [];
  for (const name of inputNames) {
    if (!seen.has(name)) inputs.push(await traceLineage(objects, name, seen));
  }
  const runs = new Set<string>(records.flatMap((r) => r.sourceRuns ?? []));
  for (const input of inputs) for (const run of input.sourceRuns) runs.add(run);
  return { table, records, sourceRuns: [...runs].sort(), inputs };
}

/**
 * The lineage of a table that exists: `traceLineage`, or NotFoundError when no
 * stage wrote the table and the catalog has no raw table of that name. What
 * `sluice lineage` and `GET /tables/{name}/lineage` both answer.
 */
export async function lineageOfTable(
  deps: { readonly objects: ObjectStore; readonly catalog: Catalog },
  table: string,
): Promise<LineageNode> {
  const root = await traceLineage(deps.objects, table);
  if (root.records.length === 0) {
    const raw = (await deps.catalog.listTables()).some((t) => catalogTableName(t.source, t.stream) === table);
    if (!raw) {
      throw new NotFoundError(
        `no lineage for "${table}": no stage has written it (tables are named <source>__<stream>, <source>__<stream>__current or after a model file)`,
        { what: `table ${table}` },
      );
    }
  }
  return root;
}
