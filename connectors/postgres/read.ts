/**
 * Reading one table: keyset chunks inside one REPEATABLE READ snapshot.
 *
 * Full refresh:  WHERE (pk) > ($last) ORDER BY pk LIMIT n
 * Incremental:   WHERE cursor >= $since AND (cursor, pk) > ($last) ORDER BY cursor, pk LIMIT n
 *
 * Never OFFSET: each chunk starts strictly after the previous chunk's last
 * key, so rows that share one cursor value are neither skipped nor repeated
 * however the chunks fall. Tables without a primary key use the physical row
 * address (tableoid, ctid) as the tie-breaker, which is stable inside the
 * snapshot.
 */
import type pg from 'pg';
import { SystemError } from '../sdk/errors.js';
import type { CursorValue, ReadContext, SourceRecord } from '../sdk/types.js';
import { displayName, quoteIdent, type TablePlan } from './catalog.js';
import { beginSnapshot, cancelBackend, close, connect, connectionError, toConnectorError } from './client.js';
import type { ResolvedConfig } from './config.js';
import { type Converter, converterFor } from './mapping.js';

interface KeyPart {
  /** SQL expression selected and ordered by. */
  readonly expr: string;
  /** Cast applied to the previous chunk's value (its text form) in the next WHERE. */
  readonly castType: string;
}

export interface ChunkQuery {
  readonly text: string;
  readonly values: unknown[];
}

export interface ReadPlan {
  readonly columnCount: number;
  readonly converters: readonly Converter[];
  readonly names: readonly string[];
  readonly keyParts: readonly KeyPart[];
  /** Builds the query for the chunk after `last` (the previous chunk's key values, as text). */
  chunk(since: CursorValue | undefined, last: readonly string[] | undefined, limit: number): ChunkQuery;
}

function sinceExpr(plan: TablePlan, param: string): string {
  switch (plan.cursor?.type.typname) {
    // `timestamp` holds UTC wall-clock time; the cursor is an ISO instant.
    case 'timestamp':
      return `(${param}::timestamptz AT TIME ZONE 'UTC')`;
    case 'timestamptz':
      return `${param}::timestamptz`;
    case 'date':
      return `${param}::timestamptz::date`;
    default:
      return `${param}::int8`;
  }
}

export function readPlan(plan: TablePlan): ReadPlan {
  const table = `${quoteIdent(plan.schema)}.${quoteIdent(plan.table)}`;
  const select = plan.columns.map((c) =>
    c.mapping.kind === 'json' ? `to_json(${quoteIdent(c.name)})::text` : quoteIdent(c.name),
  );
  const tieBreak: KeyPart[] =
    plan.primaryKey.length > 0
      ? plan.primaryKey
          .filter((name) => name !== plan.cursor?.name)
          .map((name) => ({
            expr: quoteIdent(name),
            castType: plan.columns.find((c) => c.name === name)?.castType ?? 'text',
          }))
      : [
          { expr: 'tableoid', castType: 'oid' },
          { expr: 'ctid', castType: 'tid' },
        ];
  const keyParts: KeyPart[] = plan.cursor
    ? [{ expr: quoteIdent(plan.cursor.name), castType: plan.cursor.castType }, ...tieBreak]
    : tieBreak;
  const selectList = [...select, ...keyParts.map((k) => k.expr)].join(', ');
  const orderBy = keyParts.map((k) => k.expr).join(', ');

  return {
    columnCount: plan.columns.length,
    converters: plan.columns.map((c) => converterFor(c.mapping.kind)),
    names: plan.columns.map((c) => c.name),
    keyParts,
    chunk(since, last, limit) {
      const values: unknown[] = [];
      const param = (value: unknown): string => {
        values.push(value);
        return `$${values.length}`;
      };
      const conditions: string[] = [];
      if (plan.cursor) {
        const cursor = quoteIdent(plan.cursor.name);
        conditions.push(
          since === undefined
            ? `${cursor} IS NOT NULL`
            : `${cursor} >= ${sinceExpr(plan, param(String(since)))}`,
        );
      }
      if (last) {
        const params = keyParts.map((k, i) => `${param(last[i])}::${k.castType}`);
        conditions.push(`(${orderBy}) > (${params.join(', ')})`);
      }
      const whereClause = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
      const text = `SELECT ${selectList} FROM ${table}${whereClause} ORDER BY ${orderBy} LIMIT ${param(limit)}`;
      return { text, values };
    },
  };
}

function toRecord(read: ReadPlan, row: readonly (string | null)[]): SourceRecord {
  const record: SourceRecord = {};
  for (let i = 0; i < read.columnCount; i++) {
    const value = row[i];
    record[read.names[i]!] = value === null || value === undefined ? null : read.converters[i]!(value);
  }
  return record;
}

/**
 * Yields the table's rows, one page per chunk. Opens its own connection and
 * snapshot; on abort it cancels the running query and stops before the next.
 */
export async function* readTable(
  plan: TablePlan,
  config: ResolvedConfig,
  ctx: ReadContext,
): AsyncGenerator<SourceRecord[]> {
  const { signal, logger } = ctx;
  const since = plan.cursor ? ctx.since : undefined;
  const read = readPlan(plan);
  const subject = displayName(plan.schema, plan.table);
  const client: pg.Client = await connect(config, signal);
  let pid = 0;
  const onAbort = (): void => {
    void cancelBackend(config, pid);
    // If the cancel cannot get through, drop the connection rather than wait.
    setTimeout(() => void close(client), 2000).unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    pid = await beginSnapshot(client, config).catch((error: unknown) => {
      signal.throwIfAborted();
      throw toConnectorError(error, config, { table: subject });
    });
    let last: string[] | undefined;
    let total = 0;
    for (let chunk = 1; ; chunk++) {
      signal.throwIfAborted();
      const query = read.chunk(since, last, config.chunkSize);
      const started = Date.now();
      let result: pg.QueryArrayResult<(string | null)[]>;
      try {
        result = await client.query<(string | null)[]>({
          text: query.text,
          values: query.values,
          rowMode: 'array',
        });
      } catch (error) {
        signal.throwIfAborted();
        throw toConnectorError(connectionError(client) ?? error, config, { table: subject });
      }
      signal.throwIfAborted();
      const rows = result.rows;
      total += rows.length;
      logger.debug('postgres chunk read', {
        stream: plan.stream,
        chunk,
        rows: rows.length,
        ms: Date.now() - started,
      });
      if (rows.length > 0) {
        const tail = rows[rows.length - 1]!;
        const next = read.keyParts.map((_, i) => tail[read.columnCount + i] as string);
        // A key that does not move would re-read the same chunk forever: fail loudly instead.
        if (last && next.every((value, i) => value === last![i])) {
          throw new SystemError(`keyset pagination of ${subject} did not advance past (${next.join(', ')})`);
        }
        last = next;
        yield rows.map((row) => toRecord(read, row));
      }
      if (rows.length < config.chunkSize) break;
    }
    await client.query('COMMIT').catch(() => undefined);
    logger.info('postgres table read', { stream: plan.stream, rows: total });
  } finally {
    signal.removeEventListener('abort', onAbort);
    await close(client);
  }
}
