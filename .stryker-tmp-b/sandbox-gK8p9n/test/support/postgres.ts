/**
 * Starts a throwaway, real PostgreSQL server for one test file: `initdb` into
 * a temporary directory, `pg_ctl start` on a free loopback port, a password
 * protected test user (SCRAM over TCP, so a wrong password really fails), and
 * `stop()` that shuts it down and removes every file.
 *
 * Uses the server binaries of Debian's `postgresql` package
 * (/usr/lib/postgresql/<version>/bin; `SLUICE_PG_BIN` overrides). `initdb`
 * refuses to run as root, so when the tests run as root (CI does) every
 * server command runs as the `postgres` system user through `runuser`
 * (`SLUICE_PG_OS_USER` overrides) and the temporary directory is handed to it.
 * The data directory lives on /dev/shm when that is a roomy tmpfs
 * (`SLUICE_PG_TMPDIR` overrides).
 */
// @ts-nocheck

import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync, readdirSync, rmSync } from 'node:fs';
import { access, appendFile, chown, mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './net.js';

const run = promisify(execFile);

export interface PostgresServer {
  /** Always `127.0.0.1`: TCP, so password authentication applies. */
  readonly host: string;
  readonly port: number;
  /** A normal (non-superuser) role that owns `database`. */
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** A superuser, for fixtures the test user must not be able to create or read. */
  readonly admin: { readonly user: string; readonly password: string };
  /** PEM of the CA that signed the server certificate, when started with `tls: true`. */
  readonly caCert: string | undefined;
  /** Stops the server (immediate shutdown) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** A connected client over TCP, as the test user or (`'admin'`) the superuser. */
export async function connectTo(server: PostgresServer, as: 'user' | 'admin' = 'user'): Promise<pg.Client> {
  const role = as === 'admin' ? server.admin : server;
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: role.user,
    password: role.password,
    database: server.database,
  });
  await client.connect();
  return client;
}

export interface StartPostgresOptions {
  /**
   * Also accept TLS: a throwaway CA signs a certificate for `localhost` and
   * `127.0.0.1` (needs the `openssl` command). Plain connections still work.
   * @default false
   */
  readonly tls?: boolean;
}

const ADMIN_USER = 'sluice_admin';
const TEST_USER = 'sluice';
const TEST_DATABASE = 'sluice';

/** The newest installed server's bin directory. */
export function findPostgresBin(): string {
  const override = process.env.SLUICE_PG_BIN;
  if (override) return override;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'no PostgreSQL server found under /usr/lib/postgresql/*/bin; install it with `apt-get install -y postgresql` or set SLUICE_PG_BIN',
    );
  }
  return join(root, versions[0]!, 'bin');
}

/**
 * Where the throwaway data directory goes: `SLUICE_PG_TMPDIR`, else /dev/shm
 * when it is a roomy tmpfs (initdb there takes a third of the time on a busy
 * disk), else the system temp directory.
 */
async function baseDir(): Promise<string> {
  const override = process.env.SLUICE_PG_TMPDIR;
  if (override) return override;
  try {
    const stats = await statfs('/dev/shm');
    await access('/dev/shm', constants.W_OK);
    if (stats.bavail * stats.bsize >= 1024 ** 3) return '/dev/shm';
  } catch {
    // No usable /dev/shm: fall through.
  }
  return tmpdir();
}

interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

async function serverOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const name = process.env.SLUICE_PG_OS_USER ?? 'postgres';
  try {
    const uid = Number((await run('id', ['-u', name])).stdout.trim());
    const gid = Number((await run('id', ['-g', name])).stdout.trim());
    return { name, uid, gid };
  } catch (error) {
    throw new Error(
      `running as root, but there is no "${name}" user to run PostgreSQL as (initdb refuses root); ` +
        'install the postgresql package or set SLUICE_PG_OS_USER',
      { cause: error },
    );
  }
}

async function createCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.crt');
  const ext = join(dir, 'server.ext');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    caKey,
    '-out',
    ca,
    '-days',
    '2',
    '-subj',
    '/CN=sluice test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', ['req', ...ecKey, '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  await writeFile(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { ca, cert, key };
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const osUser = await serverOsUser();
  const dir = await mkdtemp(join(await baseDir(), 'sluice-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const password = randomBytes(12).toString('hex');
  const adminPassword = randomBytes(12).toString('hex');

  const pgCommand = async (tool: string, args: readonly string[]): Promise<void> => {
    const [file, argv] = osUser
      ? ['runuser', ['-u', osUser.name, '--', join(bin, tool), ...args]]
      : [join(bin, tool), [...args]];
    try {
      await run(file, argv, { cwd: dir, env: { ...process.env, LC_ALL: 'C' } });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      const serverLog = await readFile(log, 'utf8').catch(() => '');
      throw new Error(`${tool} failed: ${stderr.trim()}\n${serverLog.slice(-2000)}`, { cause: error });
    }
  };

  let stopped = false;
  let started = false;
  // Last resort when the test process exits without calling stop(): no server outlives it.
  const stopSync = (): void => {
    if (started && !stopped) {
      const args = ['-D', data, '-m', 'immediate', 'stop'];
      if (osUser) spawnSync('runuser', ['-u', osUser.name, '--', join(bin, 'pg_ctl'), ...args]);
      else spawnSync(join(bin, 'pg_ctl'), args);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    process.off('exit', stopSync);
    try {
      if (started) await pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      stopped = true;
      await rm(dir, { recursive: true, force: true });
    }
  };

  try {
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${adminPassword}\n`, { mode: 0o600 });
    const certificates = options.tls ? await createCertificates(dir) : undefined;
    if (osUser) {
      await chown(dir, osUser.uid, osUser.gid);
      await chown(pwfile, osUser.uid, osUser.gid);
      if (certificates) await chown(certificates.key, osUser.uid, osUser.gid);
    }
    await pgCommand('initdb', [
      '-D',
      data,
      '-U',
      ADMIN_USER,
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
      '--no-instructions',
    ]);
    const settings = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      // A throwaway server: durability only costs test time.
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 60',
      "password_encryption = 'scram-sha-256'",
    ];
    if (certificates) {
      settings.push(
        'ssl = on',
        `ssl_cert_file = '${certificates.cert}'`,
        `ssl_key_file = '${certificates.key}'`,
      );
    }
    await appendFile(join(data, 'postgresql.conf'), `\n${settings.join('\n')}\n`);

    // The port is free when picked but may be taken before the server binds it: retry.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        process.once('exit', stopSync);
        started = true;
        await pgCommand('pg_ctl', ['-D', data, '-l', log, '-o', `-p ${port}`, '-w', '-t', '60', 'start']);
        break;
      } catch (error) {
        started = false;
        process.off('exit', stopSync);
        if (attempt >= 3) throw error;
      }
    }

    const admin = new pg.Client({ host: dir, port, user: ADMIN_USER, database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${TEST_USER} LOGIN PASSWORD '${password}'`);
      await admin.query(`CREATE DATABASE ${TEST_DATABASE} OWNER ${TEST_USER}`);
    } finally {
      await admin.end();
    }

    return {
      host: '127.0.0.1',
      port,
      user: TEST_USER,
      password,
      database: TEST_DATABASE,
      admin: { user: ADMIN_USER, password: adminPassword },
      caCert: certificates ? await readFile(certificates.ca, 'utf8') : undefined,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
