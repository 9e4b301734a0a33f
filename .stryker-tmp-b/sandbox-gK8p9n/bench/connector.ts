/**
 * The benchmark's source: one `orders` stream that yields pages of distinct
 * rows stamped from a small pool, so reading costs next to nothing and
 * memory holds only the pool and the page in hand. It checkpoints after
 * every page, so a sliced run keeps its staged files across slices.
 */
// @ts-nocheck

import type { Connector, Stream } from '../connectors/sdk/types.js';
import { checkpoint } from '../connectors/sdk/types.js';
import { buildPool, type PagePosition, pagesFrom } from './pool.js';

export interface BenchConfig {
  readonly rows: number;
  /** @default 10000 */
  readonly pageSize?: number;
}

// Built once per process: a run in slices reads once per slice, and the source must cost next to nothing.
let sharedPool: ReturnType<typeof buildPool> | undefined;

export const benchConnector: Connector<BenchConfig> = {
  type: 'bench',
  description: 'Synthetic order rows for the throughput benchmark.',
  configSchema: {
    type: 'object',
    properties: {
      rows: { type: 'integer', minimum: 0, description: 'How many rows the stream yields.' },
      pageSize: { type: 'integer', minimum: 1, default: 10_000 },
    },
    required: ['rows'],
    additionalProperties: false,
  },
  check: async () => ({ ok: true }),
  streams: (config): readonly Stream[] => [
    {
      name: 'orders',
      primaryKey: ['id'],
      writeDisposition: 'append',
      // ISO-8601 strings parsed into a TIMESTAMP, as DuckDB's read_json does with them.
      columns: { created_at: 'timestamp' },
      // Checkpoints after every page let a run in slices stop and resume between pages.
      async *read(ctx) {
        sharedPool ??= buildPool();
        const pool = sharedPool;
        const from = ctx.resumeFrom as PagePosition | undefined;
        for (const [page, next] of pagesFrom(pool, config.rows, config.pageSize ?? 10_000, from)) {
          if (ctx.signal.aborted) return;
          yield page;
          yield checkpoint({ start: next.start, state: next.state });
        }
      },
    },
  ],
};
