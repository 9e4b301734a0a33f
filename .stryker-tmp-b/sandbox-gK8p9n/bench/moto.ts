/**
 * A private moto_server for a benchmark run: started on a free loopback port,
 * waited for, and made the target of every AWS client through the standard
 * AWS_* variables. The caller kills the process it returns.
 */
// @ts-nocheck

import { type ChildProcess, spawn } from 'node:child_process';
import { sleep } from '../connectors/sdk/sleep.js';
import { freePort } from '../test/support/net.js';

export async function startMoto(): Promise<ChildProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/moto-api/`)).status < 500) break;
    } catch {
      await sleep(100);
    }
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  return moto;
}
