/**
 * The `postgres` connector: every selected table becomes a stream
 * (`<schema>_<table>`), read in keyset chunks inside one REPEATABLE READ
 * snapshot; incrementally on a cursor column when the table has one, in full
 * otherwise. See docs/connectors/postgres.md.
 */
import type pg from 'pg';
import type { CheckResult, Connector, Stream } from '../sdk/types.js';
import {
  declaredColumns,
  discover,
  displayName,
  initialCursor,
  isIntegerCursor,
  quoteIdent,
  type TablePlan,
} from './catalog.js';
import { beginSnapshot, close, connect, toConnectorError } from './client.js';
import { configSchema, type PostgresConfig, type ResolvedConfig, resolveConfig } from './config.js';
import { readTable } from './read.js';

function toStream(plan: TablePlan, config: ResolvedConfig): Stream {
  const hasKey = plan.primaryKey.length > 0;
  const cursor = plan.cursor;
  return {
    name: plan.stream,
    primaryKey: plan.primaryKey,
    // A full read replaces the table; an incremental one merges on the key (or appends without one).
    writeDisposition: cursor ? (hasKey ? 'merge' : 'append') : 'replace',
    ...(cursor
      ? {
          incremental: {
            cursorField: cursor.name,
            initialValue: initialCursor(cursor),
            // Integer columns: int8 values beyond 2^53 stay exact (as decimal text) and order as numbers.
            ...(isIntegerCursor(cursor) ? { cursorType: 'number' as const } : {}),
            ...(config.lagSeconds > 0 ? { lag: config.lagSeconds } : {}),
          },
        }
      : {}),
    columns: declaredColumns(plan),
    // Incremental chunks are ordered by (cursor, key): the engine may stop between any two rows.
    order: cursor ? 'cursor-ascending' : 'unordered',
    read: (ctx) => readTable(plan, config, ctx),
  };
}

async function withSnapshot<T>(
  config: ResolvedConfig,
  signal: AbortSignal | undefined,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(config, signal);
  try {
    await beginSnapshot(client, config);
    return await work(client);
  } catch (error) {
    signal?.throwIfAborted();
    throw toConnectorError(error, config);
  } finally {
    await close(client);
  }
}

async function check(input: PostgresConfig, signal?: AbortSignal): Promise<CheckResult> {
  try {
    const config = resolveConfig(input);
    await withSnapshot(config, signal, async (client) => {
      const plans = await discover(client, config);
      // Catalog rows are visible without privileges: prove each table can really be read.
      for (const plan of plans) {
        try {
          await client.query(`SELECT * FROM ${quoteIdent(plan.schema)}.${quoteIdent(plan.table)} LIMIT 0`);
        } catch (error) {
          throw toConnectorError(error, config, { table: displayName(plan.schema, plan.table) });
        }
      }
    });
    return { ok: true };
  } catch (error) {
    if (signal?.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, message };
  }
}

export const postgresConnector: Connector<PostgresConfig> = {
  type: 'postgres',
  description:
    'PostgreSQL tables: keyset-chunked reads in one snapshot, incremental on a cursor column, full refresh otherwise.',
  configSchema,
  check,
  streams: async (input) => {
    const config = resolveConfig(input);
    const plans = await withSnapshot(config, undefined, (client) => discover(client, config));
    return plans.map((plan) => toStream(plan, config));
  },
};

export { parseTableName, streamName } from './catalog.js';
export type { PostgresConfig, PostgresSslConfig, SslMode } from './config.js';
