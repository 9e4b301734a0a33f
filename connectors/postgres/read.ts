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
import type pg from 'pg';
import type { ColumnBatch } from '../sdk/column-batch.js';
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
import { CopyDecoder, copyOut, type Decode, decodeOf, keyText, type SelectedColumn } from './copy-binary.js';
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
  /** What each data column is selected as (`to_json(…)::text` for json kinds). */
  readonly select: readonly string[];
  readonly converters: readonly Converter[];
  /** Columns whose text value is the record value (text, json). */
  readonly identity: readonly boolean[];
  readonly names: readonly string[];
  readonly keyParts: readonly KeyPart[];
  /** Builds the query for the chunk after `last` (the previous chunk's key values, as text). */
  chunk(since: CursorValue | undefined, last: readonly string[] | undefined, limit: number): ChunkQuery;
  /**
   * The same chunk's query with `extra` selected after the data columns, its
   * values inlined as literals (COPY takes no parameters), as
   * `COPY (…) TO STDOUT (FORMAT binary)`.
   */
  copyChunk(
    since: CursorValue | undefined,
    last: readonly string[] | undefined,
    limit: number,
    extra: readonly string[],
  ): string;
}

/** A SQL string literal (as PostgreSQL's quote_literal writes it). */
export function quoteLiteral(value: string): string {
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
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
  const query = (
    list: string,
    since: CursorValue | undefined,
    last: readonly string[] | undefined,
    limit: number,
    param: (value: unknown) => string,
  ): string => {
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
    return `SELECT ${list} FROM ${table}${whereClause} ORDER BY ${orderBy} LIMIT ${param(limit)}`;
  };

  return {
    select,
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
      return { text: query(selectList, since, last, limit, param), values };
    },
    copyChunk(since, last, limit, extra) {
      const list = [...select, ...extra].join(', ');
      const literal = (value: unknown): string => quoteLiteral(String(value));
      return `COPY (${query(list, since, last, limit, literal)}) TO STDOUT (FORMAT binary)`;
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

/**
 * Rows per chunk on the columnar fast path when `chunkSize` is not set:
 * about 5 MB of column buffers for the benchmark's 16 columns. The engine
 * writes each batch as it comes (its writer gathers row groups by bytes), so
 * a chunk's size sets only what is in hand: the batch being landed and the
 * next one being fetched and decoded. Measured on the 1M-row benchmark
 * (bench/README.md, "2026-11-27 evening"): 65,536 rows / 16 MiB peaked about
 * 25 MB higher at the same rows/s and CPU; 16,384 / 4 MiB cost 10% more CPU
 * (a query per chunk).
 */
export const COLUMNAR_CHUNK_ROWS = 32_768;
/** …and at most about this many bytes of column buffers per chunk. */
export const COLUMNAR_CHUNK_BYTES = 8 * 1024 * 1024;

function batchBytes(batch: ColumnBatch): number {
  let bytes = 0;
  for (const { data } of batch.columns) {
    bytes += data.values.byteLength + (data.offsets?.byteLength ?? 0) + (data.validity?.byteLength ?? 0);
  }
  return bytes;
}

/** A query's outcome, settled so that a prefetch failing while nobody awaits it is no unhandled rejection. */
type Fetched =
  | { readonly rows: (string | null)[][] }
  | { readonly batch: ColumnBatch; readonly count: number; readonly tail: string[] }
  | { readonly fallback: string }
  | { readonly error: unknown };

/** How the columnar fast path reads a table: what it selects and where each key part comes from. */
export interface ColumnarPlan {
  readonly selected: readonly SelectedColumn[];
  /** Expressions selected after the data columns (keyless tables' `tableoid`, `ctid`). */
  readonly extra: readonly string[];
  /** Per key part: its selected column's index, and its PostgreSQL type name. */
  readonly keys: readonly { readonly index: number; readonly typname: string }[];
}

const KEY_DECODES = new Set<Decode>(['int2', 'int4', 'int8', 'text', 'uuid', 'date', 'timestamp']);

/**
 * The fast path's plan for a table, or the reason it reads records instead:
 * a column type the decoder does not take, or a key it cannot print back.
 */
export function columnarPlan(plan: TablePlan, read: ReadPlan): ColumnarPlan | { readonly reason: string } {
  const selected: SelectedColumn[] = [];
  for (const column of plan.columns) {
    const decode = decodeOf(column);
    if (decode === undefined) {
      return {
        reason: `column "${column.name}" is ${column.castType}, which the binary decoder does not take`,
      };
    }
    selected.push({ name: column.name, decode, type: column.mapping.columnType });
  }
  const extra: string[] = [];
  const keys: { index: number; typname: string }[] = [];
  for (const part of read.keyParts) {
    if (part.name === 'tableoid' || part.name === 'ctid') {
      keys.push({ index: selected.length, typname: part.castType });
      selected.push({ name: part.name, decode: part.name === 'ctid' ? 'tid' : 'oid' });
      extra.push(part.expr);
      continue;
    }
    const index = plan.columns.findIndex((c) => c.name === part.name);
    const column = plan.columns[index];
    if (!column || column.mapping.kind === 'json' || !KEY_DECODES.has(selected[index]!.decode)) {
      return { reason: `key column "${part.name}" is ${column?.castType ?? 'unknown'}` };
    }
    keys.push({ index, typname: column.type.typname });
  }
  return { selected, extra, keys };
}

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
 * The fast path's plan when this session can take it: the server sends text
 * as UTF-8 only when its own encoding is UTF8 (SQL_ASCII passes any bytes).
 */
async function columnarFor(
  client: pg.Client,
  plan: TablePlan,
  read: ReadPlan,
): Promise<ColumnarPlan | { readonly reason: string }> {
  const result = await client
    .query<{ encoding: string }>(`SELECT current_setting('server_encoding') AS encoding`)
    .catch(() => undefined);
  const encoding = result?.rows[0]?.encoding;
  if (encoding !== 'UTF8') return { reason: `the server encoding is ${encoding ?? 'unknown'}, not UTF8` };
  return columnarPlan(plan, read);
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
  // The first read (nothing committed) takes every row with a cursor, even below the initial value
  // (-infinity, BC dates, int8 below -2^53): only a committed cursor bounds what was landed.
  const since = plan.cursor && ctx.committedCursor !== undefined ? ctx.since : undefined;
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
    const fetchRows = (after: string[] | undefined, limit: number): Promise<Fetched> => {
      const query = read.chunk(since, after, limit);
      return client
        .query<(string | null)[]>({ text: query.text, values: query.values, rowMode: 'array' })
        .then(
          (result) => ({ rows: result.rows }),
          (error: unknown) => ({ error }),
        );
    };
    const columnar =
      ctx.acceptsColumnBatches === true && config.columnar
        ? await columnarFor(client, plan, read)
        : undefined;
    if (columnar !== undefined && 'reason' in columnar) {
      logger.debug('postgres table read as records', { stream: plan.stream, reason: columnar.reason });
    }
    const fast = columnar !== undefined && !('reason' in columnar) ? columnar : undefined;
    // Rows per chunk: batches hold no object per row, so the fast path's default chunk is a whole row group.
    const adaptive = fast !== undefined && !config.chunkSizeSet;
    let limit = adaptive ? COLUMNAR_CHUNK_ROWS : config.chunkSize;
    let textBytes: number[] | undefined;
    const fetchColumns = (after: string[] | undefined, fast: ColumnarPlan): Promise<Fetched> => {
      const decoder = new CopyDecoder(fast.selected, limit, textBytes);
      const text = read.copyChunk(since, after, limit, fast.extra);
      return copyOut(client, text, (chunk) => decoder.feed(chunk)).then(
        (): Fetched => {
          const decoded = decoder.finish();
          if (decoded.rows === limit) textBytes = decoder.textBytes();
          if (decoded.fallback !== undefined) return { fallback: decoded.fallback };
          const tail: string[] = [];
          if (decoded.rows > 0) {
            for (const [i, k] of fast.keys.entries()) {
              const text = keyText(decoded.builders[k.index]!, decoded.rows - 1, k.typname);
              if (text === undefined)
                return {
                  fallback: `the last key of the chunk (${read.keyParts[i]!.name}) has no exact text`,
                };
              tail.push(text);
            }
          }
          return { batch: decoded.batch, count: decoded.rows, tail };
        },
        (error: unknown) => ({ error }),
      );
    };
    const fetch = (after: string[] | undefined): Promise<Fetched> =>
      fast ? fetchColumns(after, fast) : fetchRows(after, limit);
    let total = 0;
    // The next chunk's query runs on the server while the engine lands this one.
    let pending: Promise<Fetched> | undefined = fetch(last);
    for (let chunk = 1; pending !== undefined; chunk++) {
      signal.throwIfAborted();
      const started = Date.now();
      let fetched: Fetched = await pending;
      pending = undefined;
      if ('fallback' in fetched) {
        // Same snapshot, same keyset range: the records are the rows the batch would have held.
        logger.debug('postgres chunk read as records', {
          stream: plan.stream,
          chunk,
          reason: fetched.fallback,
        });
        fetched = await fetchRows(last, limit);
      }
      if ('error' in fetched) {
        signal.throwIfAborted();
        throw toConnectorError(connectionError(client) ?? fetched.error, config, { table: subject });
      }
      signal.throwIfAborted();
      const count = 'batch' in fetched ? fetched.count : 'rows' in fetched ? fetched.rows.length : 0;
      total += count;
      logger.debug('postgres chunk read', {
        stream: plan.stream,
        chunk,
        rows: count,
        columnar: 'batch' in fetched,
        waitedMs: Date.now() - started,
      });
      if (count === 0) break;
      let next: string[];
      if ('batch' in fetched) next = fetched.tail;
      else if ('rows' in fetched) {
        const tail = fetched.rows[count - 1]!;
        next = read.keyParts.map((_, i) => tail[read.columnCount + i] as string);
      } else break;
      // A key that does not move would re-read the same chunk forever: fail loudly instead.
      if (last && next.every((value, i) => value === last![i])) {
        throw new SystemError(`keyset pagination of ${subject} did not advance past (${next.join(', ')})`);
      }
      last = next;
      const full = count >= limit;
      // Wide rows get shorter chunks: a batch stays near COLUMNAR_CHUNK_BYTES.
      if (adaptive && 'batch' in fetched) {
        const perRow = batchBytes(fetched.batch) / count;
        limit = Math.max(1024, Math.min(COLUMNAR_CHUNK_ROWS, Math.floor(COLUMNAR_CHUNK_BYTES / perRow)));
      }
      if (full) pending = fetch(next);
      if ('batch' in fetched) yield fetched.batch;
      else if ('rows' in fetched) {
        const rows = fetched.rows;
        const records = new Array<SourceRecord>(rows.length);
        for (let i = 0; i < rows.length; i++) records[i] = toRecord(rows[i]!);
        yield records;
      }
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
