/**
 * Global setup of the `trino` project: starts Trino 476 (scripts/trino-start.sh
 * installs it if needed) and stops it afterwards. The tier runs only when
 * asked: without SLUICE_TRINO=1 it fails instead of passing without testing
 * anything. SLUICE_TRINO_URL points at a running server instead.
 */
// @ts-nocheck

import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.SLUICE_TRINO !== '1') {
    throw new Error(
      'the trino tier runs the Athena SQL of the stages on a real Trino: set SLUICE_TRINO=1 (needs Java 24+ and mvn, or a cached install; see docs/transforms.md)',
    );
  }
  if (process.env.SLUICE_TRINO_URL) return async () => undefined;
  const { stdout } = await run('bash', ['scripts/trino-start.sh'], {
    env: { ...process.env, TRINO_PORT: process.env.TRINO_PORT ?? '18181' },
    maxBuffer: 1 << 20,
  });
  const match = /TRINO_STATE=(\S+) TRINO_PORT=(\d+)/.exec(stdout);
  if (!match) throw new Error(`scripts/trino-start.sh printed no TRINO_STATE: ${stdout}`);
  const [, state, port] = match;
  process.env.SLUICE_TRINO_URL = `http://127.0.0.1:${port}`;
  return async () => {
    await run('bash', ['scripts/trino-stop.sh'], { env: { ...process.env, TRINO_STATE: state } });
    // A state directory the start script made for this run goes too (metastore, Iceberg metadata, logs).
    if (!process.env.TRINO_STATE) await rm(state!, { recursive: true, force: true });
  };
}
