/**
 * The `push` connector: a source whose records arrive (webhooks, application
 * events through `POST /sources/{name}/events` and Kinesis) instead of being
 * read. It declares its streams and, optionally, their columns; a pull sync
 * of a push source reads nothing. The Kinesis consumer (functions/stream)
 * lands what is pushed through engine/push.ts.
 */
// @ts-nocheck

import { ConfigError } from '../sdk/errors.js';
import type { CheckResult, ColumnType, ConfigSchema, Connector, Stream } from '../sdk/types.js';

export interface PushStreamConfig {
  readonly name: string;
  /** Declared column types; undeclared fields are inferred. */
  readonly columns?: Readonly<Record<string, ColumnType>>;
  readonly primaryKey?: readonly string[];
}

export interface PushConfig {
  readonly streams: readonly PushStreamConfig[];
  /**
   * Partition keys the source's records spread over (`<source>/<n>`): 1 keeps
   * the source on one shard, in order; more let its records use several
   * shards, landed in parallel (order is then kept per key only). @default 1
   */
  readonly spread?: number;
}

const STREAM_NAME = /^(?=.{1,63}$)[a-z](?:_?[a-z0-9])*$/;

const configSchema: ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['streams'],
  properties: {
    spread: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: 1,
      description: 'Partition keys (hence shards) the source spreads over; 1 keeps its records in order.',
    },
    streams: {
      type: 'array',
      description: 'The streams records may be pushed to (each becomes a table).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', description: 'snake_case stream (table) name.' },
          columns: {
            type: 'object',
            description: 'Optional declared column types (e.g. {"amount": "double"}); others are inferred.',
            additionalProperties: { type: 'string' },
          },
          primaryKey: { type: 'array', items: { type: 'string' }, description: 'Fields forming the key.' },
        },
      },
    },
  },
};

/** Builds the declared streams; throws ConfigError naming a bad or repeated name. */
export function pushStreams(config: PushConfig): Stream[] {
  const seen = new Set<string>();
  if (!Array.isArray(config.streams) || config.streams.length === 0) {
    throw new ConfigError('config.streams must list at least one stream');
  }
  return config.streams.map((declared, index) => {
    if (!STREAM_NAME.test(declared.name)) {
      throw new ConfigError(`config.streams[${index}].name "${declared.name}" is not a snake_case name`);
    }
    if (seen.has(declared.name)) {
      throw new ConfigError(`config.streams[${index}].name "${declared.name}" is declared twice`);
    }
    seen.add(declared.name);
    return {
      name: declared.name,
      primaryKey: declared.primaryKey ?? [],
      writeDisposition: 'append',
      ...(declared.columns ? { columns: declared.columns } : {}),
      // Records arrive through the stream consumer; a pull reads nothing.
      read: async function* () {},
    } satisfies Stream;
  });
}

export const pushConnector: Connector<PushConfig> = {
  type: 'push',
  description: 'Records pushed over HTTP (POST /sources/{name}/events) and landed from Kinesis.',
  configSchema,
  check: async (config): Promise<CheckResult> => {
    try {
      pushStreams(config);
      return { ok: true };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  },
  streams: (config) => pushStreams(config),
};
