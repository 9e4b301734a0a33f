import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';

/** A describe block's scratch space: a temp dir for Parquet files and an in-memory DuckDB (UTC) to read them. */
export interface DuckScratch {
  readonly dir: string;
  readonly db: DuckDBConnection;
  /** A fresh file path in `dir`: `file-<n>.parquet`, or `name` when given. */
  path(name?: string): string;
}

/** Registers the block's beforeAll/afterAll; read the fields inside tests. */
export function useDuckScratch(prefix: string): DuckScratch {
  let dir: string | undefined;
  let duck: DuckDBInstance | undefined;
  let db: DuckDBConnection | undefined;
  let files = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    duck = await DuckDBInstance.create(':memory:');
    db = await duck.connect();
    await db.run("SET TimeZone = 'UTC'");
  });
  afterAll(async () => {
    db?.closeSync();
    duck?.closeSync();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('useDuckScratch: read its fields inside a test, not at collection');
    return value;
  };
  return {
    get dir() {
      return ready(dir);
    },
    get db() {
      return ready(db);
    },
    path: (name) => join(ready(dir), name ?? `file-${++files}.parquet`),
  };
}
