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
 *
 * After every chunk the read yields a checkpoint whose position is the
 * chunk's last key (`PostgresPosition`); a read given it as `resumeFrom`
 * continues with the keyset predicate `(key) > (position)` — in a new
 * snapshot, since a transaction cannot outlive the invocation that opened it
 * (docs/connectors/postgres.md, "Resuming (slices)").
 */
// @ts-nocheck

import type pg from 'pg';
import { SystemError } from '../sdk/errors.js';
import {
  type CursorValue,
  checkpoint,
  type ReadContext,
  ResumeUnavailableError,
  type SourceRecord,
  type StreamItem,
  type StreamPosition,
} from '../sdk/types.js';
import { displayName, quoteIdent, type TablePlan } from './catalog.js';
import { beginSnapshot, cancelBackend, close, connect, connectionError, toConnectorError } from './client.js';
import type { ResolvedConfig } from './config.js';
import { type Converter, converterFor } from './mapping.js';

/**
 * A keyset position: the names of the key parts (cursor column first when
 * incremental, then the primary key, or `tableoid`, `ctid` for a table
 * without one) and the last key read, in PostgreSQL's text form. Keyless
 * tables also carry the relation's file node: physical row addresses mean
 * the same rows only while it is unchanged (VACUUM FULL, CLUSTER, TRUNCATE
 * or a re-created table change it).
 */
export type PostgresPosition = StreamPosition & {
  readonly key: readonly string[];
  readonly after: readonly string[];
  readonly filenode?: string;
};

interface KeyPart {
  /** Column name, or `tableoid` / `ctid`. */
  readonly name: string;
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
  /** Columns whose text value is the record value (text, json). */
  readonly identity: readonly boolean[];
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
            name,
            expr: quoteIdent(name),
            castType: plan.columns.find((c) => c.name === name)?.castType ?? 'text',
          }))
      : [
          { name: 'tableoid', expr: 'tableoid', castType: 'oid' },
          { name: 'ctid', expr: 'ctid', castType: 'tid' },
        ];
  const keyParts: KeyPart[] = plan.cursor
    ? [
        { name: plan.cursor.name, expr: quoteIdent(plan.cursor.name), castType: plan.cursor.castType },
        ...tieBreak,
      ]
    : tieBreak;
  const selectList = [...select, ...keyParts.map((k) => k.expr)].join(', ');
  const orderBy = keyParts.map((k) => k.expr).join(', ');

  return {
    columnCount: plan.columns.length,
    converters: plan.columns.map((c) => converterFor(c.mapping.kind)),
    identity: plan.columns.map((c) => c.mapping.kind === 'text' || c.mapping.kind === 'json'),
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

type RecordBuilder = (row: readonly (string | null)[]) => SourceRecord;

/**
 * Builds records from text rows with one object literal per row (every
 * column name a literal key, so each record is allocated at its final shape
 * in one go); text and json values are taken as they are, the others go
 * through their column's converter. Names enter only as JSON string literals.
 */
function recordBuilder(read: ReadPlan): RecordBuilder {
  const fields = read.names.map((name, i) => {
    const value = read.identity[i] ? `r[${i}]` : `(r[${i}] === null ? null : c[${i}](r[${i}]))`;
    return `${JSON.stringify(name)}: ${value}`;
  });
  const make = new Function('c', `'use strict'; return (r) => ({ ${fields.join(', ')} });`);
  return make(read.converters) as RecordBuilder;
}

/** A query's outcome, settled so that a prefetch failing while nobody awaits it is no unhandled rejection. */
type Fetched = { readonly rows: (string | null)[][] } | { readonly error: unknown };

/** The file nodes of a table and of every partition under it: a rewrite of any of them changes the text. */
const FILENODES = `SELECT string_agg(coalesce(pg_relation_filenode(relid)::text, '-'), ',' ORDER BY relid) AS filenode
  FROM (SELECT $1::regclass AS relid UNION SELECT relid FROM pg_partition_tree($1::regclass)) AS tree`;

/** Rows of a table (all its partitions) as the planner estimates them; unknown before its first ANALYZE. */
const ROW_ESTIMATE = `
  SELECT sum(c.reltuples)::float8 AS n, bool_and(c.reltuples >= 0) AS known
    FROM pg_class AS c
   WHERE (c.oid = $1::regclass AND c.relkind <> 'p')
      OR c.oid IN (SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf)`;

/** The key to continue after, from `resumeFrom`; throws when the position does not fit this table now. */
function resumeKey(
  from: StreamPosition,
  read: ReadPlan,
  stream: string,
  filenode: string | undefined,
): string[] {
  const position = from as Partial<PostgresPosition>;
  const names = read.keyParts.map((k) => k.name);
  const shown = JSON.stringify(from);
  const sameKey =
    Array.isArray(position.key) &&
    position.key.length === names.length &&
    position.key.every((name, i) => name === names[i]);
  const after = position.after;
  if (
    !sameKey ||
    !Array.isArray(after) ||
    after.length !== names.length ||
    !after.every((v) => typeof v === 'string')
  ) {
    throw new ResumeUnavailableError(
      `stream "${stream}" cannot resume from ${shown}: the table is now read by (${names.join(', ')}) (its key or cursor column changed)`,
    );
  }
  if (filenode !== undefined && position.filenode !== filenode) {
    throw new ResumeUnavailableError(
      `stream "${stream}" cannot resume from ${shown}: the table has no primary key and was rewritten since (VACUUM FULL, CLUSTER, TRUNCATE or re-created), so its row addresses no longer mean the same rows`,
    );
  }
  return [...(after as string[])];
}

/**
 * Yields the table's rows, one page per chunk, each followed by a checkpoint.
 * Opens its own connection and snapshot; on abort it cancels the running
 * query and stops before the next.
 */
export async function* readTable(
  plan: TablePlan,
  config: ResolvedConfig,
  ctx: ReadContext,
): AsyncGenerator<StreamItem> {
  const { signal, logger } = ctx;
  const since = plan.cursor ? ctx.since : undefined;
  const read = readPlan(plan);
  const subject = displayName(plan.schema, plan.table);
  const keyless = plan.primaryKey.length === 0;
  const client: pg.Client = await connect(config, signal);
  let pid = 0;
  const onAbort = (): void => {
    void cancelBackend(config, pid);
    // If the cancel cannot get through, drop the connection rather than wait.
    setTimeout(() => void close(client), 2000).unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    let filenode: string | undefined;
    pid = await beginSnapshot(client, config).catch((error: unknown) => {
      signal.throwIfAborted();
      throw toConnectorError(error, config, { table: subject });
    });
    // A full load's size is in the catalog already (the planner's estimate): progress can show % and ETA.
    if (since === undefined && ctx.reportTotal) {
      const estimate = await client
        .query<{ n: number | null; known: boolean | null }>(ROW_ESTIMATE, [
          `${quoteIdent(plan.schema)}.${quoteIdent(plan.table)}`,
        ])
        .catch(() => undefined);
      const row = estimate?.rows[0];
      if (row?.known && row.n !== null) ctx.reportTotal(Number(row.n));
    }
    if (keyless) {
      const table = `${quoteIdent(plan.schema)}.${quoteIdent(plan.table)}`;
      const result = await client
        .query<{ filenode: string | null }>(FILENODES, [table])
        .catch((error: unknown) => {
          signal.throwIfAborted();
          throw toConnectorError(error, config, { table: subject });
        });
      filenode = result.rows[0]?.filenode ?? '';
    }
    let last: string[] | undefined = ctx.resumeFrom
      ? resumeKey(ctx.resumeFrom, read, plan.stream, filenode)
      : undefined;
    const key = read.keyParts.map((k) => k.name);
    const toRecord = recordBuilder(read);
    const fetch = (after: string[] | undefined): Promise<Fetched> => {
      const query = read.chunk(since, after, config.chunkSize);
      return client
        .query<(string | null)[]>({ text: query.text, values: query.values, rowMode: 'array' })
        .then(
          (result) => ({ rows: result.rows }),
          (error: unknown) => ({ error }),
        );
    };
    let total = 0;
    // The next chunk's query runs on the server while the engine lands this one.
    let pending: Promise<Fetched> | undefined = fetch(last);
    for (let chunk = 1; pending !== undefined; chunk++) {
      signal.throwIfAborted();
      const started = Date.now();
      const fetched: Fetched = await pending;
      pending = undefined;
      if ('error' in fetched) {
        signal.throwIfAborted();
        throw toConnectorError(connectionError(client) ?? fetched.error, config, { table: subject });
      }
      signal.throwIfAborted();
      const rows = fetched.rows;
      total += rows.length;
      logger.debug('postgres chunk read', {
        stream: plan.stream,
        chunk,
        rows: rows.length,
        waitedMs: Date.now() - started,
      });
      if (rows.length === 0) break;
      const tail = rows[rows.length - 1]!;
      const next = read.keyParts.map((_, i) => tail[read.columnCount + i] as string);
      // A key that does not move would re-read the same chunk forever: fail loudly instead.
      if (last && next.every((value, i) => value === last![i])) {
        throw new SystemError(`keyset pagination of ${subject} did not advance past (${next.join(', ')})`);
      }
      last = next;
      if (rows.length >= config.chunkSize) pending = fetch(next);
      const records = new Array<SourceRecord>(rows.length);
      for (let i = 0; i < rows.length; i++) records[i] = toRecord(rows[i]!);
      yield records;
      const position: PostgresPosition = {
        key,
        after: next,
        ...(filenode !== undefined ? { filenode } : {}),
      };
      yield checkpoint(position);
    }
    await client.query('COMMIT').catch(() => undefined);
    logger.info('postgres table read', { stream: plan.stream, rows: total });
  } finally {
    signal.removeEventListener('abort', onAbort);
    await close(client);
  }
}
