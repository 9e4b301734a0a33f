/**
 * Connections and the typed error mapping. Every session works inside one
 * `REPEATABLE READ READ ONLY` transaction whose settings are `SET LOCAL`, so
 * it also behaves behind a transaction-pooling proxy, and values come back
 * in PostgreSQL's text form (converted per column by mapping.ts).
 */
// @ts-nocheck

import pg from 'pg';
import { ConfigError, type ConnectorError, SystemError, TransientError } from '../sdk/errors.js';
import type { ResolvedConfig } from './config.js';

type Client = pg.Client;

// Values stay in PostgreSQL's text form: no driver parsing, no precision lost.
const textOnly = {
  getTypeParser: () => (value: string) => value,
} as unknown as pg.CustomTypesConfig;

function sslOptions(config: ResolvedConfig): pg.ClientConfig['ssl'] {
  const { mode, ca, cert, key } = config.ssl;
  if (mode === 'disable') return false;
  const material = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
  if (mode === 'require') return { ...material, rejectUnauthorized: false };
  if (mode === 'verify-ca') {
    return { ...material, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  }
  return { ...material, rejectUnauthorized: true, servername: config.host };
}

export function clientConfig(config: ResolvedConfig): pg.ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password ?? '',
    ssl: sslOptions(config),
    connectionTimeoutMillis: config.connectTimeoutSeconds * 1000,
    keepAlive: true,
    application_name: 'sluice',
    types: textOnly,
  };
}

function where(config: ResolvedConfig): string {
  return `${config.host}:${config.port}`;
}

const lostConnections = new WeakMap<Client, Error>();

/** The error that broke `client`'s connection, if it broke: more telling than the failed query's. */
export function connectionError(client: Client): Error | undefined {
  return lostConnections.get(client);
}

/** Opens a connection; rejects with a ConfigError or TransientError. */
export async function connect(config: ResolvedConfig, signal?: AbortSignal): Promise<Client> {
  signal?.throwIfAborted();
  const client = new pg.Client(clientConfig(config));
  // A connection that dies while idle emits 'error'; the next query fails with a vaguer one.
  client.on('error', (error) => {
    if (!lostConnections.has(client)) lostConnections.set(client, error);
  });
  const abort = (): void => {
    void client.end().catch(() => undefined);
  };
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    signal?.throwIfAborted();
    throw toConnectorError(error, config, { connecting: true });
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

/** Closes a connection (ending its transaction); never throws. */
export async function close(client: Client): Promise<void> {
  await client.end().catch(() => undefined);
}

/**
 * Starts the read-only snapshot transaction: every later statement on this
 * connection sees the database as it was at the first query. Returns the
 * backend pid, for cancelling a running query.
 */
export async function beginSnapshot(client: Client, config: ResolvedConfig): Promise<number> {
  const timeoutMs = config.statementTimeoutSeconds * 1000;
  const results = (await client.query(
    [
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      `SET LOCAL statement_timeout = ${timeoutMs}`,
      "SET LOCAL TimeZone = 'UTC'",
      "SET LOCAL DateStyle = 'ISO, YMD'",
      "SET LOCAL IntervalStyle = 'postgres'",
      "SET LOCAL bytea_output = 'hex'",
      'SELECT pg_backend_pid() AS pid',
    ].join('; '),
  )) as unknown as pg.QueryResult[];
  const last = results.at(-1);
  return Number(last?.rows[0]?.pid);
}

/** Asks the server to cancel whatever `pid` runs (best effort, over a second connection). */
export async function cancelBackend(config: ResolvedConfig, pid: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0) return;
  let client: Client | undefined;
  try {
    client = await connect(config);
    await client.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // The read fails or finishes by itself; nothing else to do.
  } finally {
    if (client) await close(client);
  }
}

interface PgLikeError {
  readonly code?: string;
  readonly message?: string;
  readonly errno?: number;
}

const TLS_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN']);

function redact(message: string, config: ResolvedConfig): string {
  const secrets = [config.password, config.ssl.key].filter((s): s is string => !!s && s.length >= 3);
  return secrets.reduce((text, secret) => text.split(secret).join('********'), message);
}

/**
 * Maps a driver, socket or server error to the connector's typed errors,
 * with one actionable sentence. `table` names the table being read
 * (`public.orders`). Never includes the password.
 */
export function toConnectorError(
  error: unknown,
  config: ResolvedConfig,
  context: { readonly table?: string; readonly connecting?: boolean } = {},
): ConnectorError {
  const { table, connecting = false } = context;
  if (error instanceof ConfigError || error instanceof TransientError || error instanceof SystemError) {
    return error;
  }
  const err = (error ?? {}) as PgLikeError;
  const code = err.code ?? '';
  const serverMessage = redact(err.message ?? String(error), config);
  const at = where(config);
  const of = table ? ` (reading table "${table}")` : '';
  const make = (Kind: typeof ConfigError | typeof TransientError | typeof SystemError, message: string) =>
    new Kind(redact(message, config), { cause: error });

  // Connecting.
  if (code === '28P01') {
    return make(
      ConfigError,
      `password authentication failed for user "${config.user}" at ${at}; check the user and password`,
    );
  }
  if (code === '28000') {
    return make(
      ConfigError,
      `PostgreSQL at ${at} refused the login: ${serverMessage}; check the user, the database and the ssl mode against the server's pg_hba.conf`,
    );
  }
  if (code === '3D000') {
    return make(
      ConfigError,
      `database "${config.database}" does not exist at ${at}; check the database name`,
    );
  }
  if (code === 'ENOTFOUND') {
    return make(ConfigError, `cannot resolve host "${config.host}"; check the host name`);
  }
  if (UNREACHABLE_CODES.has(code)) {
    return make(
      ConfigError,
      `cannot connect to PostgreSQL at ${at} (${code}); check the host, the port and that the server accepts TCP connections from here`,
    );
  }
  if (/does not support SSL/i.test(serverMessage)) {
    return make(
      ConfigError,
      `the server at ${at} does not accept TLS connections; enable TLS on the server or set ssl.mode to "disable"`,
    );
  }
  if (TLS_CERT_CODES.has(code)) {
    return make(
      ConfigError,
      `the TLS certificate of ${at} was not accepted (${code}); put its CA in ssl.ca, or set ssl.mode to "require" to skip verification`,
    );
  }
  if (/timeout expired|connection timeout/i.test(serverMessage)) {
    return make(
      TransientError,
      `no answer from PostgreSQL at ${at} within ${config.connectTimeoutSeconds}s; if this persists, check the host, the port and the firewall`,
    );
  }
  if (
    DROPPED_CODES.has(code) ||
    /Connection terminated|connection (was )?closed|not queryable/i.test(serverMessage)
  ) {
    return connecting
      ? make(
          TransientError,
          `the connection to PostgreSQL at ${at} closed while connecting (${serverMessage}); if this persists, check the host, the port, the firewall and the ssl mode`,
        )
      : make(TransientError, `the connection to PostgreSQL at ${at} was lost${of}: ${serverMessage}`);
  }

  // Reading.
  if (code === '42P01') return make(ConfigError, `${serverMessage}${of}; check the table selection`);
  if (code === '3F000') return make(ConfigError, `${serverMessage}${of}; check the schema selection`);
  if (code === '42501') {
    const schema = /permission denied for schema (\S+)/.exec(serverMessage)?.[1];
    const grant = schema
      ? `GRANT USAGE ON SCHEMA ${schema} TO ${config.user}`
      : `GRANT SELECT ON ${table ?? '<table>'} TO ${config.user}`;
    return make(ConfigError, `${serverMessage}${of}; run ${grant} or pick another user`);
  }
  if (code === '57014') {
    return make(
      TransientError,
      `a query ran longer than statementTimeoutSeconds (${config.statementTimeoutSeconds}s)${of}; raise it, lower chunkSize or index the cursor and key columns`,
    );
  }
  if (code === '42703') {
    return make(
      TransientError,
      `${serverMessage}${of}: the table changed during the sync; the next run rediscovers it`,
    );
  }
  if (code.startsWith('22')) {
    return make(
      ConfigError,
      `${serverMessage}${of}; the committed cursor does not fit the cursor column: reset the stream's cursor`,
    );
  }
  if (
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('57P') ||
    code.startsWith('58') ||
    ['40001', '40P01', '55P03', '25P03'].includes(code)
  ) {
    return make(TransientError, `PostgreSQL at ${at} failed temporarily${of}: ${serverMessage} (${code})`);
  }
  return make(SystemError, `PostgreSQL at ${at} failed${of}: ${serverMessage}${code ? ` (${code})` : ''}`);
}
