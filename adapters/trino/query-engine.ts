/**
 * QueryEngine on a Trino server (the CI stand-in for Athena engine v3): it
 * takes Athena SQL, as the stages render it, and runs it through the
 * translation layer (translate.ts). Before each query every catalog table is
 * (re)declared as a Hive external table over the lake with its Glue schema
 * and partition projection (raw-table.ts), as Glue would hold it.
 *
 * Trino's client protocol: POST /v1/statement, then follow `nextUri` until
 * it is gone; a failed query carries `error`. Right after start the
 * coordinator may not have listed itself yet (NO_NODES_AVAILABLE): retried.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { SluiceError } from '../../engine/errors.js';
import type { Catalog, QueryEngine, QueryResult } from '../../engine/ports.js';
import { convertValue } from '../aws/athena-query-engine.js';
import { rawTableDdl } from './raw-table.js';
import { translate } from './translate.js';

export interface TrinoQueryEngineOptions {
  /** `http://127.0.0.1:18181` */
  readonly url: string;
  /** The schema both catalogs share, like the Glue database. @default 'lake' */
  readonly schema?: string;
  /** Raw tables to declare before each query; none when absent. */
  readonly catalog?: Catalog;
  /** Where Trino finds a lake key (`local:///abs/path/key`). */
  readonly locationOf: (key: string) => string;
  /** Directory of the schema (must exist), as a Trino location. */
  readonly schemaLocation: string;
  /** How long NO_NODES_AVAILABLE is retried. @default 60000 */
  readonly startupWaitMs?: number;
}

export class TrinoQueryError extends SluiceError {
  /** 400 for Trino's USER_ERROR (the SQL or its data, like Athena's user error category), else 500. */
  public override readonly statusCode: number;
  public readonly errorName: string;
  public constructor(
    errorName: string,
    message: string,
    public readonly sql: string,
    errorType?: string,
  ) {
    super(`Trino ${errorName}: ${message}`);
    this.name = 'TrinoQueryError';
    this.errorName = errorName;
    this.statusCode = errorType === 'USER_ERROR' ? 400 : 500;
  }
}

interface TrinoResponse {
  readonly nextUri?: string;
  readonly columns?: readonly { name: string; type: string }[];
  readonly data?: readonly unknown[][];
  readonly error?: { errorName: string; errorType?: string; message: string };
}

export class TrinoQueryEngine implements QueryEngine {
  public readonly dialect = 'athena' as const;
  private readonly schema: string;
  /** DDL each raw table was last declared with, so unchanged tables are not redeclared. */
  private readonly declared = new Map<string, string>();
  private schemaReady = false;

  public constructor(private readonly options: TrinoQueryEngineOptions) {
    this.schema = options.schema ?? 'lake';
  }

  public async query(sql: string): Promise<QueryResult> {
    await this.declareTables();
    let result: QueryResult = { columns: [], rows: [] };
    for (const statement of translate(sql, { schema: this.schema })) result = await this.run(statement);
    return result;
  }

  public async close(): Promise<void> {}

  /** Runs one Trino statement as is. */
  public async run(sql: string): Promise<QueryResult> {
    const deadline = Date.now() + (this.options.startupWaitMs ?? 60_000);
    for (;;) {
      try {
        return await this.once(sql);
      } catch (error) {
        if (
          !(error instanceof TrinoQueryError) ||
          error.errorName !== 'NO_NODES_AVAILABLE' ||
          Date.now() > deadline
        ) {
          throw error;
        }
        await wait(500);
      }
    }
  }

  private async once(sql: string): Promise<QueryResult> {
    let response = await this.fetchJson(`${this.options.url}/v1/statement`, {
      method: 'POST',
      body: sql,
      headers: { 'X-Trino-User': 'sluice', 'X-Trino-Catalog': 'hive', 'X-Trino-Schema': this.schema },
    });
    let columns: { name: string; type: string }[] = [];
    const rows: Record<string, unknown>[] = [];
    for (;;) {
      if (response.error) {
        const { errorName, message, errorType } = response.error;
        throw new TrinoQueryError(errorName, message, sql, errorType);
      }
      if (response.columns) columns = [...response.columns];
      for (const values of response.data ?? []) {
        const row: Record<string, unknown> = {};
        columns.forEach((c, i) => {
          const value = values[i];
          row[c.name] =
            value === null || value === undefined
              ? null
              : typeof value === 'object'
                ? value
                : convertValue(String(value), c.type);
        });
        rows.push(row);
      }
      if (!response.nextUri) break;
      response = await this.fetchJson(response.nextUri, { method: 'GET' });
    }
    return { columns: columns.map((c) => c.name), rows, columnTypes: columns.map((c) => c.type) };
  }

  private async fetchJson(url: string, init: RequestInit): Promise<TrinoResponse> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, init);
      if (res.status === 503 || res.status === 429) {
        await wait(Math.min(1000, 50 * 2 ** attempt));
        continue;
      }
      if (!res.ok)
        throw new SluiceError(`Trino answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      return (await res.json()) as TrinoResponse;
    }
  }

  private async declareTables(): Promise<void> {
    if (!this.schemaReady) {
      await this.run(
        `CREATE SCHEMA IF NOT EXISTS hive."${this.schema}" WITH (location = '${this.options.schemaLocation.replaceAll("'", "''")}')`,
      );
      this.schemaReady = true;
    }
    for (const table of (await this.options.catalog?.listTables()) ?? []) {
      const ddl = rawTableDdl(table, this.options.locationOf);
      const name = `${table.source}__${table.stream}`;
      if (this.declared.get(name) === ddl) continue;
      // An external table: dropping it leaves the files; redeclaring picks up the new schema.
      await this.run(`DROP TABLE IF EXISTS hive."${this.schema}"."${name}"`);
      for (const statement of translate(ddl, { schema: this.schema })) await this.run(statement);
      this.declared.set(name, ddl);
    }
  }
}
