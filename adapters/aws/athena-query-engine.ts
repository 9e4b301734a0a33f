/**
 * QueryEngine on Athena: StartQueryExecution in a workgroup, poll
 * GetQueryExecution with capped exponential backoff until the query ends,
 * then page through GetQueryResults converting each value by Athena's column
 * type (see `convertValue`). A failed or cancelled query throws AthenaQueryError carrying Athena's
 * StateChangeReason and error category.
 *
 * Tables are the Glue catalog's: `"<database>"."<source>__<stream>"` (the
 * engine's database is the default, so `<source>__<stream>` alone resolves).
 */
import {
  AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  type Row,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { sleep } from '../../connectors/sdk/sleep.js';
import { SluiceError } from '../../engine/errors.js';
import type { QueryEngine, QueryResult } from '../../engine/ports.js';
import { AwsService, clientConfig } from './config.js';

export interface AthenaQueryEngineOptions {
  /** The Glue database queries run in (unqualified table names resolve there). */
  readonly database: string;
  /** @default 'primary' */
  readonly workgroup?: string;
  /** `s3://bucket/prefix/` for result files; omit when the workgroup enforces its own. */
  readonly outputLocation?: string;
  /** @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: AthenaClient;
  /** First wait between status polls; doubles up to `maxPollIntervalMs`. @default 200 */
  readonly pollIntervalMs?: number;
  /** @default 5000 */
  readonly maxPollIntervalMs?: number;
  /** The query is stopped and fails after this long. @default 1800000 (30 min, Athena's DML limit) */
  readonly timeoutMs?: number;
  /** Rows per GetQueryResults page (Athena's maximum is 1000). @default 1000 */
  readonly pageSize?: number;
}

/** Terminal states of an Athena query. */
export const AthenaQueryState = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
  timedOut: 'TIMED_OUT',
} as const;
export type AthenaQueryState = (typeof AthenaQueryState)[keyof typeof AthenaQueryState];

/** Athena's ErrorCategory: 1 system, 2 user (the SQL or its data), 3 other. */
const USER_ERROR_CATEGORY = 2;

export class AthenaQueryError extends SluiceError {
  public override readonly statusCode: number;
  public readonly queryExecutionId: string;
  public readonly state: AthenaQueryState;
  /** Athena's StateChangeReason, verbatim. */
  public readonly reason: string | undefined;
  public readonly errorCategory: number | undefined;
  public readonly errorType: number | undefined;

  public constructor(
    details: {
      queryExecutionId: string;
      state: AthenaQueryState;
      reason?: string | undefined;
      errorCategory?: number | undefined;
      errorType?: number | undefined;
    },
    options?: ErrorOptions,
  ) {
    const what = details.state === AthenaQueryState.timedOut ? 'timed out' : details.state.toLowerCase();
    super(
      `Athena query ${details.queryExecutionId} ${what}${details.reason ? `: ${details.reason}` : ''}`,
      options,
    );
    this.name = 'AthenaQueryError';
    this.statusCode = details.errorCategory === USER_ERROR_CATEGORY ? 400 : 500;
    this.queryExecutionId = details.queryExecutionId;
    this.state = details.state;
    this.reason = details.reason;
    this.errorCategory = details.errorCategory;
    this.errorType = details.errorType;
  }
}

export class AthenaQueryEngine implements QueryEngine {
  public readonly dialect = 'athena' as const;
  public readonly client: AthenaClient;
  private readonly options: Required<Omit<AthenaQueryEngineOptions, 'client' | 'outputLocation'>> & {
    readonly outputLocation: string | undefined;
  };
  /** Queries started and not yet finished; `close` stops them. */
  private readonly running = new Set<string>();
  private closed = false;

  public constructor(options: AthenaQueryEngineOptions) {
    if (!options.database) throw new Error('AthenaQueryEngine needs a database');
    this.client = options.client ?? new AthenaClient(clientConfig(AwsService.athena));
    this.options = {
      database: options.database,
      workgroup: options.workgroup ?? 'primary',
      outputLocation: options.outputLocation,
      catalog: options.catalog ?? 'AwsDataCatalog',
      pollIntervalMs: options.pollIntervalMs ?? 200,
      maxPollIntervalMs: options.maxPollIntervalMs ?? 5000,
      timeoutMs: options.timeoutMs ?? 1_800_000,
      pageSize: Math.min(Math.max(options.pageSize ?? 1000, 1), 1000),
    };
  }

  public async query(sql: string): Promise<QueryResult> {
    const id = await this.startQuery(sql);
    const execution = await this.waitForQuery(id);
    const rows: Record<string, unknown>[] = [];
    let columns: string[] = [];
    let columnTypes: string[] = [];
    for await (const page of this.pages(id, execution)) {
      columns = page.columns;
      columnTypes = page.columnTypes;
      rows.push(...page.rows);
    }
    return { columns, rows, columnTypes };
  }

  /** Starts a query; returns its QueryExecutionId. */
  public async startQuery(sql: string): Promise<string> {
    if (this.closed) throw new Error('AthenaQueryEngine is closed');
    const { database, catalog, workgroup, outputLocation } = this.options;
    const started = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: database, Catalog: catalog },
        WorkGroup: workgroup,
        ...(outputLocation === undefined ? {} : { ResultConfiguration: { OutputLocation: outputLocation } }),
      }),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new Error('Athena returned no QueryExecutionId');
    this.running.add(id);
    return id;
  }

  /**
   * Polls until the query ends. Resolves with the execution when it
   * SUCCEEDED; throws AthenaQueryError when it FAILED, was CANCELLED or ran
   * past `timeoutMs` (it is then stopped).
   */
  public async waitForQuery(id: string, signal?: AbortSignal): Promise<QueryExecution> {
    const deadline = Date.now() + this.options.timeoutMs;
    let delay = this.options.pollIntervalMs;
    try {
      for (;;) {
        const { QueryExecution: execution } = await this.client.send(
          new GetQueryExecutionCommand({ QueryExecutionId: id }),
          { abortSignal: signal },
        );
        const state = execution?.Status?.State;
        if (state === 'SUCCEEDED') return execution!;
        if (state === 'FAILED' || state === 'CANCELLED') {
          throw new AthenaQueryError({
            queryExecutionId: id,
            state: state === 'FAILED' ? AthenaQueryState.failed : AthenaQueryState.cancelled,
            reason: execution?.Status?.StateChangeReason,
            errorCategory: execution?.Status?.AthenaError?.ErrorCategory,
            errorType: execution?.Status?.AthenaError?.ErrorType,
          });
        }
        if (Date.now() + delay > deadline) {
          await this.stop(id);
          throw new AthenaQueryError({
            queryExecutionId: id,
            state: AthenaQueryState.timedOut,
            reason: `still ${state ?? 'unknown'} after ${this.options.timeoutMs} ms; stopped`,
          });
        }
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.options.maxPollIntervalMs);
      }
    } catch (error) {
      if (signal?.aborted) await this.stop(id);
      throw error;
    } finally {
      this.running.delete(id);
    }
  }

  /** Pages of converted rows of a finished query, `pageSize` rows at a time. */
  public async *pages(
    id: string,
    execution?: QueryExecution,
  ): AsyncGenerator<{ columns: string[]; columnTypes: string[]; rows: Record<string, unknown>[] }> {
    // Athena repeats the column labels as the first row of a SELECT's (DML) results.
    const statementType =
      execution?.StatementType ??
      (await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution
        ?.StatementType;
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          MaxResults: this.options.pageSize,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const columns = info.map((c, i) => c.Name ?? c.Label ?? `_col${i}`);
      let raw = page.ResultSet?.Rows ?? [];
      if (first && statementType === 'DML' && raw.length > 0 && isHeader(raw[0]!, info)) raw = raw.slice(1);
      first = false;
      const columnTypes = info.map((c) => (c.Type ?? 'varchar').toLowerCase());
      yield { columns, columnTypes, rows: raw.map((row) => convertRow(row, info, columns)) };
      token = page.NextToken;
    } while (token);
  }

  /** Stops every query still running. */
  public async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running].map((id) => this.stop(id)));
    this.running.clear();
  }

  private async stop(id: string): Promise<void> {
    await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
  }
}

function isHeader(row: Row, info: readonly ColumnInfo[]): boolean {
  const data = row.Data ?? [];
  return (
    data.length === info.length &&
    data.every((datum, i) => datum.VarCharValue === info[i]!.Label || datum.VarCharValue === info[i]!.Name)
  );
}

function convertRow(
  row: Row,
  info: readonly ColumnInfo[],
  columns: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const data = row.Data ?? [];
  for (let i = 0; i < columns.length; i++) {
    out[columns[i]!] = convertValue(data[i]?.VarCharValue, info[i]?.Type);
  }
  return out;
}

/**
 * One Athena value (always text on the wire) as a plain, JSON-friendly JS
 * value by its column type: numbers for integer and floating types (a bigint
 * beyond 2^53 stays a string), booleans, ISO-8601 UTC strings for
 * timestamps (millisecond precision); decimals, dates (yyyy-MM-dd), JSON
 * text and everything else stay strings. A missing value is SQL NULL. The
 * local DuckDB engine differs in two ways: decimals of up to 15 digits are
 * numbers there, and timestamps keep their microseconds.
 */
export function convertValue(value: string | undefined, type: string | undefined): unknown {
  if (value === undefined) return null;
  const base = (type ?? 'varchar').toLowerCase().replace(/\(.*$/, '').trim();
  switch (base) {
    case 'boolean':
      return value === 'true';
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
      return Number(value);
    case 'bigint': {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'real':
    case 'float':
    case 'double':
      return Number(value);
    case 'timestamp':
      return parseTimestamp(value, 'UTC')?.toISOString() ?? value;
    case 'timestamp with time zone': {
      const match = /^(.*\S)\s+(\S+)$/.exec(value);
      return (match && parseTimestamp(match[1]!, match[2]!))?.toISOString() ?? value;
    }
    default:
      return value;
  }
}

/** `2024-01-02 03:04:05.678901` in a UTC-like zone → Date (millisecond precision). */
function parseTimestamp(text: string, zone: string): Date | undefined {
  const offset = zone === 'UTC' || zone === 'Z' ? 'Z' : /^[+-]\d{2}:\d{2}$/.test(zone) ? zone : undefined;
  if (offset === undefined) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(text);
  if (!match) return undefined;
  const fraction = (match[3] ?? '.000').slice(0, 4).padEnd(4, '0');
  const date = new Date(`${match[1]}T${match[2]}${fraction}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
