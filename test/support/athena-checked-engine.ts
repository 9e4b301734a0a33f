/**
 * A query engine that holds every file a query reads to Athena's footer
 * rule first (athena-read-check.ts), for the Trino tier: Trino 476 reads
 * some Parquet type changes Athena rejects (DOUBLE or INT64 under a
 * `string` column), so a tier that only ran the SQL on Trino could pass on
 * files Athena would refuse. Before each query, every raw table the SQL
 * names (`<source>__<stream>`, also inside `<source>__<stream>__current`)
 * has each of its data files' footers checked against the table's declared
 * (Glue) types; a violation fails the query with AthenaReadError, as Athena
 * would fail it. A file is checked once per declared schema.
 */
import type { Catalog, ObjectStore, QueryEngine, QueryResult } from '../../engine/ports.js';
import { AthenaReadError, checkFiles, type DataFile, declaredColumnsOf } from './athena-read-check.js';

export interface AthenaCheckedOptions {
  readonly catalog: Catalog;
  readonly objects: ObjectStore;
  /** Filled with the key of every file checked (shared between engines to see what a whole run read). */
  readonly checked?: Set<string>;
}

const named = (sql: string, table: string): boolean =>
  new RegExp(`(^|[^A-Za-z0-9_])${table}([^A-Za-z0-9]|$)`, 'i').test(sql);

/** The data files under a table's `dt=` partitions, as Athena lists them (hidden names skipped). */
async function dataFiles(objects: ObjectStore, location: string): Promise<{ key: string; dt: string }[]> {
  const prefix = location.endsWith('/') ? location : `${location}/`;
  return (await objects.list(prefix)).flatMap((object) => {
    const match = /(?:^|\/)dt=([^/]+)\/([^/]+)$/.exec(object.key);
    return match && object.key.endsWith('.parquet') && !/^[._]/.test(match[2]!)
      ? [{ key: object.key, dt: match[1]! }]
      : [];
  });
}

export function athenaChecked(engine: QueryEngine, options: AthenaCheckedOptions): QueryEngine {
  const checked = options.checked ?? new Set<string>();
  /** file key → the declared schema it passed under. */
  const passed = new Map<string, string>();
  return {
    ...(engine.dialect === undefined ? {} : { dialect: engine.dialect }),
    async query(sql: string): Promise<QueryResult> {
      for (const table of await options.catalog.listTables()) {
        if (!named(sql, `${table.source}__${table.stream}`)) continue;
        const declared = declaredColumnsOf(table);
        const schema = JSON.stringify(declared);
        const files: DataFile[] = [];
        for (const { key, dt } of await dataFiles(options.objects, table.location)) {
          if (passed.get(key) === schema) continue;
          const bytes = await options.objects.get(key);
          if (bytes) files.push({ key, dt, bytes });
        }
        const violations = checkFiles(files, declared);
        if (violations.length > 0) throw new AthenaReadError(violations);
        for (const file of files) {
          passed.set(file.key, schema);
          checked.add(file.key);
        }
      }
      return engine.query(sql);
    },
    close: () => engine.close(),
  };
}
