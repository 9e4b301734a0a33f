/**
 * Global setup of the integration tier: starts moto_server on a free loopback
 * port unless AWS_ENDPOINT_URL already points at a running emulator
 * (LocalStack or another), and exports the standard AWS variables so every
 * test talks to it over HTTP.
 *
 * It also exports SLUICE_TEST_EMULATOR (`moto` when this setup started moto
 * or the endpoint answers moto's API, else `other`): a few tests use moto's
 * control API (canned Athena results, state transitions) and run only there.
 */
// @ts-nocheck

import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../support/net.js';

async function waitUntilUp(url: string, timeoutMs: number, died: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const death = died();
    if (death) throw death;
    try {
      const response = await fetch(`${url}/moto-api/`);
      if (response.status < 500) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer at ${url} within ${timeoutMs} ms`, { cause: lastError });
}

/** Whether the endpoint is moto (its control API answers JSON). */
async function isMoto(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/moto-api/config`, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return false;
    const body = (await response.json()) as Record<string, unknown>;
    return typeof body === 'object' && body !== null && 'lambda' in body;
  } catch {
    return false;
  }
}

/** Fails fast with a useful message when AWS_ENDPOINT_URL names something that does not answer. */
async function assertReachable(url: string): Promise<void> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new Error(
      `AWS_ENDPOINT_URL=${url} does not answer: start the emulator first ` +
        '(LocalStack: `docker compose up -d`), or unset AWS_ENDPOINT_URL to let the tests start moto_server',
      { cause: error },
    );
  }
}

/** moto options the suite relies on: Step Functions really executes state machines, Lambda without Docker. */
async function configureMoto(url: string): Promise<void> {
  const response = await fetch(`${url}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true }, lambda: { use_docker: false } }),
  });
  if (!response.ok) throw new Error(`POST ${url}/moto-api/config answered ${response.status}`);
}

let moto: ChildProcess | undefined;

export async function setup(): Promise<void> {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  // The suite runs on the Node version package.json supports; the SDK's upgrade notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const given = process.env.AWS_ENDPOINT_URL;
  if (given) {
    await assertReachable(given);
    const moto = await isMoto(given);
    process.env.SLUICE_TEST_EMULATOR = moto ? 'moto' : 'other';
    if (moto) await configureMoto(given);
    return;
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let death: Error | undefined;
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  moto.on('error', (error) => {
    death = new Error(
      `cannot start moto_server (is it installed? pip install "moto[server]==5.2.1"): ${error.message}`,
    );
  });
  moto.on('exit', (code, signal) => {
    death ??= new Error(`moto_server exited early (code ${code}, signal ${signal})`);
  });
  await waitUntilUp(url, 20_000, () => death);
  await configureMoto(url);
  process.env.AWS_ENDPOINT_URL = url;
  process.env.SLUICE_TEST_EMULATOR = 'moto';
}

export async function teardown(): Promise<void> {
  moto?.removeAllListeners('exit');
  moto?.kill('SIGTERM');
}
