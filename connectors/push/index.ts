/**
 * The `push` connector: a source whose records arrive (webhooks, application
 * events through `POST /sources/{name}/events` and Kinesis) instead of being
 * read. It declares its streams and, optionally, their columns; a pull sync
 * of a push source reads nothing. The Kinesis consumer (functions/stream)
 * lands what is pushed through engine/push.ts.
 */
import { MAX_DECIMAL_PRECISION, parseColumnType } from '../sdk/column-types.js';
import { ConfigError } from '../sdk/errors.js';
import {
  type CheckResult,
  ColumnType,
  type ConfigSchema,
  type Connector,
  type Stream,
} from '../sdk/types.js';

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

const TYPE_NAMES = `${Object.values(ColumnType).join(', ')} or decimal(p,s) with 1 ≤ p ≤ ${MAX_DECIMAL_PRECISION} and s ≤ p`;

/** Declared column types in their canonical spelling (column-types.ts); throws ConfigError naming an unknown one. */
function declaredColumns(
  columns: Readonly<Record<string, string>>,
  at: string,
): Readonly<Record<string, ColumnType>> {
  const out: Record<string, ColumnType> = {};
  for (const [field, text] of Object.entries(columns)) {
    const type = typeof text === 'string' ? parseColumnType(text) : undefined;
    if (type === undefined) {
      throw new ConfigError(`"${at}.${field}" must be ${TYPE_NAMES}; got ${JSON.stringify(text)}`);
    }
    out[field] = type;
  }
  return out;
}

/**
 * Builds the declared streams; throws ConfigError naming the field at fault
 * (`"streams[1].columns.amount" …`: the API answers 400 with `field`
 * `config.streams[1].columns.amount`).
 */
export function pushStreams(config: PushConfig): Stream[] {
  const seen = new Set<string>();
  if (!Array.isArray(config.streams) || config.streams.length === 0) {
    throw new ConfigError('"streams" must list at least one stream');
  }
  return config.streams.map((declared, index) => {
    const at = `streams[${index}]`;
    if (!STREAM_NAME.test(declared.name)) {
      throw new ConfigError(`"${at}.name" must be a snake_case name; got ${JSON.stringify(declared.name)}`);
    }
    if (seen.has(declared.name)) {
      throw new ConfigError(`"${at}.name" ${JSON.stringify(declared.name)} is declared twice`);
    }
    seen.add(declared.name);
    return {
      name: declared.name,
      primaryKey: declared.primaryKey ?? [],
      writeDisposition: 'append',
      ...(declared.columns ? { columns: declaredColumns(declared.columns, `${at}.columns`) } : {}),
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
  staticStreams: true,
  // Refused when the source is created or changed, not by every batch the consumer then fails to land.
  validate: (config) => {
    pushStreams(config);
  },
};
