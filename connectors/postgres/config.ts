import { validateConfig } from '../sdk/config.js';
import type { ConfigSchema } from '../sdk/types.js';

export const SslMode = {
  disable: 'disable',
  require: 'require',
  verifyCa: 'verify-ca',
  verifyFull: 'verify-full',
} as const;
export type SslMode = (typeof SslMode)[keyof typeof SslMode];

export interface PostgresSslConfig {
  /**
   * `disable`: plain TCP. `require`: TLS, certificate not verified.
   * `verify-ca`: TLS, certificate signed by `ca`. `verify-full`: also the host name.
   * @default 'require'
   */
  readonly mode?: SslMode;
  /** PEM CA certificate(s) to trust; the system CAs when omitted. */
  readonly ca?: string;
  /** PEM client certificate, for servers that require one. */
  readonly cert?: string;
  /** PEM private key of `cert` (secret). */
  readonly key?: string;
}

export interface PostgresConfig {
  readonly host: string;
  /** @default 5432 */
  readonly port?: number;
  readonly database: string;
  readonly user: string;
  /** Secret. */
  readonly password?: string;
  readonly ssl?: PostgresSslConfig;
  /** @default 10 */
  readonly connectTimeoutSeconds?: number;
  /** Per SQL statement (one chunk); 0 disables. @default 300 */
  readonly statementTimeoutSeconds?: number;
  /** Tables to sync, `schema.table` (a bare name means `public`). */
  readonly tables?: readonly string[];
  /** Schemas whose tables are all synced. @default ['public'] when `tables` is not given */
  readonly schemas?: readonly string[];
  /** The column used as a cursor when a table has it and no override applies. `""` turns it off. @default 'updated_at' */
  readonly defaultCursorColumn?: string;
  /** Per table (`schema.table`) cursor column; `""` reads that table in full every run. */
  readonly cursorColumns?: Readonly<Record<string, string>>;
  /** Re-read this much before the committed cursor (seconds for timestamps, units for integers). @default 0 */
  readonly lagSeconds?: number;
  /** Rows per query (and per yielded page). @default 10000 (65536 on the columnar fast path) */
  readonly chunkSize?: number;
  /** Decode binary COPY straight into column buffers when the engine takes them; false reads records. @default true */
  readonly columnar?: boolean;
}

/** A config with every default applied. */
export interface ResolvedConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string | undefined;
  readonly ssl: Required<Pick<PostgresSslConfig, 'mode'>> & Omit<PostgresSslConfig, 'mode'>;
  readonly connectTimeoutSeconds: number;
  readonly statementTimeoutSeconds: number;
  readonly tables: readonly string[];
  readonly schemas: readonly string[];
  readonly defaultCursorColumn: string;
  readonly cursorColumns: Readonly<Record<string, string>>;
  readonly lagSeconds: number;
  readonly chunkSize: number;
  /** `chunkSize` was given (the columnar fast path otherwise takes larger chunks). */
  readonly chunkSizeSet: boolean;
  readonly columnar: boolean;
}

export const configSchema: ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'database', 'user'],
  properties: {
    host: { type: 'string', description: 'Server host name or IP address.' },
    port: { type: 'integer', minimum: 1, maximum: 65_535, default: 5432, description: 'Server port.' },
    database: { type: 'string', description: 'Database to read.' },
    user: { type: 'string', description: 'Role to connect as; needs SELECT on the selected tables.' },
    password: { type: 'string', secret: true, description: 'Password of `user`.' },
    ssl: {
      type: 'object',
      additionalProperties: false,
      description: 'TLS settings.',
      properties: {
        mode: {
          type: 'string',
          enum: Object.values(SslMode),
          default: SslMode.require,
          description:
            'disable: plain TCP; require: TLS without certificate checks; verify-ca: TLS with a trusted certificate; verify-full: also checks the host name.',
        },
        ca: { type: 'string', description: 'PEM CA certificate(s) to trust (default: the system CAs).' },
        cert: { type: 'string', description: 'PEM client certificate.' },
        key: { type: 'string', secret: true, description: 'PEM private key of the client certificate.' },
      },
    },
    connectTimeoutSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 600,
      default: 10,
      description: 'Give up connecting after this many seconds.',
    },
    statementTimeoutSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400,
      default: 300,
      description: 'Cancel a query (one chunk) running longer than this; 0 = no limit.',
    },
    tables: {
      type: 'array',
      items: { type: 'string' },
      description: 'Tables to sync as `schema.table` (a bare name means `public`).',
    },
    schemas: {
      type: 'array',
      items: { type: 'string' },
      description: 'Sync every table of these schemas (default `["public"]` when `tables` is not given).',
    },
    defaultCursorColumn: {
      type: 'string',
      default: 'updated_at',
      description:
        'A table that has this timestamp, date or integer column is read incrementally on it; "" turns this off.',
    },
    cursorColumns: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'Cursor column per table, e.g. {"public.orders": "modified_at"}; "" reads that table in full every run.',
    },
    lagSeconds: {
      type: 'number',
      minimum: 0,
      default: 0,
      description:
        'Re-read this far behind the committed cursor (seconds; units for integer cursors) to catch rows committed late.',
    },
    chunkSize: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      default: 10_000,
      description: 'Rows per query and per page (default 10,000; 32,768 on the columnar fast path).',
    },
    columnar: {
      type: 'boolean',
      default: true,
      description:
        'Read each chunk as binary COPY decoded straight into column buffers (the fast path); false reads records. Tables with a column type the decoder does not take are read as records either way.',
    },
  },
};

/** Validates (ConfigError naming the field) and applies defaults. */
export function resolveConfig(input: PostgresConfig): ResolvedConfig {
  const config = validateConfig<PostgresConfig>(configSchema, input);
  const tables = config.tables ?? [];
  return {
    host: config.host,
    port: config.port ?? 5432,
    database: config.database,
    user: config.user,
    password: config.password,
    ssl: { ...config.ssl, mode: config.ssl?.mode ?? SslMode.require },
    connectTimeoutSeconds: config.connectTimeoutSeconds ?? 10,
    statementTimeoutSeconds: config.statementTimeoutSeconds ?? 300,
    tables,
    schemas: config.schemas ?? (tables.length === 0 ? ['public'] : []),
    defaultCursorColumn: config.defaultCursorColumn ?? 'updated_at',
    cursorColumns: config.cursorColumns ?? {},
    lagSeconds: config.lagSeconds ?? 0,
    chunkSize: config.chunkSize ?? 10_000,
    chunkSizeSet: input.chunkSize !== undefined,
    columnar: config.columnar ?? true,
  };
}
