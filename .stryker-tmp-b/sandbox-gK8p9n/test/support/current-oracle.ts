/**
 * The expected `current` table, computed in plain TypeScript from the raw
 * rows: files in landing order (their keys sort as dt, run id, part), rows in
 * file order; per key the greatest cursor wins, a later landing wins a tie;
 * a newest version that is a tombstone removes the key. Independent of the
 * merge SQL it checks.
 */
// @ts-nocheck

import type { ObjectStore, QueryEngine } from '../../engine/ports.js';

export async function expectedCurrent(
  objects: ObjectStore,
  engine: QueryEngine,
  options: { source: string; stream: string; key: string; cursor: string },
): Promise<Map<string, Record<string, unknown>>> {
  const files = (await objects.list(`raw/${options.source}/${options.stream}/`))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.parquet'))
    .sort();
  const newest = new Map<string, Record<string, unknown>>();
  for (const key of files) {
    const { rows } = await engine.query(
      `SELECT * FROM read_parquet('${objects.uri(key).replaceAll("'", "''")}')`,
    );
    for (const row of rows) {
      const id = String(row[options.key]);
      const seen = newest.get(id);
      if (seen === undefined || String(row[options.cursor]) >= String(seen[options.cursor]))
        newest.set(id, row);
    }
  }
  for (const [id, row] of newest) if (row._sluice_deleted === true) newest.delete(id);
  return newest;
}
