/**
 * Global setup of the integration tier: starts moto_server on a free loopback
 * port unless AWS_ENDPOINT_URL already points at a running emulator
 * (LocalStack or another), and exports the standard AWS variables so every
 * test talks to it over HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
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

let moto: ChildProcess | undefined;

export async function setup(): Promise<void> {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  if (process.env.AWS_ENDPOINT_URL) return;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  moto.on('error', (error) => {
    throw new Error(`cannot start moto_server (is it installed? pip install "moto[server]"): ${error.message}`);
  });
  await waitUntilUp(url, 20_000);
  process.env.AWS_ENDPOINT_URL = url;
}

export async function teardown(): Promise<void> {
  moto?.kill('SIGTERM');
}
