/**
 * Failures no retry can cure are ConfigErrors, found with real sockets: a
 * port fetch refuses, a self-signed TLS server on loopback, a host under
 * `.invalid` (RFC 2606: never resolves). A host only an API links to stays
 * transient.
 */
// @ts-nocheck

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestConfig } from '../../../../connectors/rest/index.js';
import { restConnector } from '../../../../connectors/rest/index.js';
import { ConfigError, RetriesExhaustedError } from '../../../../connectors/sdk/errors.js';
import { ItemsApi, makeItems, sendJson } from './fixtures/api.js';
import { onlyStream, readStream, rejection } from './fixtures/read.js';

const run = promisify(execFile);

function config(baseUrl: string, extra: Partial<RestConfig> = {}): RestConfig {
  return {
    baseUrl,
    maxAttempts: 3,
    backoffInitialMs: 10,
    backoffMaxMs: 20,
    streams: [{ name: 'items', path: '/items', primaryKey: ['id'] }],
    ...extra,
  };
}

let tlsServer: Server;
let tlsUrl = '';
let tlsHits = 0;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-rest-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  tlsServer = createServer({ key: await readFile(key), cert: await readFile(cert) }, (_req, res) => {
    tlsHits += 1;
    sendJson(res, 200, [{ id: 1 }]);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  tlsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  tlsServer?.closeAllConnections();
  await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rest client: failures no retry can cure', () => {
  it.each([6000, 10080])('fails a port fetch refuses (%i) at once with a ConfigError', async (port) => {
    const error = await rejection(readStream(await onlyStream(config(`http://127.0.0.1:${port}`))));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`the port ${port} is one that fetch refuses`);
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/items failed: /);
  });

  it('fails a self-signed TLS certificate with a ConfigError and never sends the request', async () => {
    const error = await rejection(readStream(await onlyStream(config(tlsUrl))));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('TLS certificate of 127.0.0.1');
    expect(error.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(tlsHits).toBe(0);
  });

  it('fails a config host that does not exist (NXDOMAIN) with a ConfigError', async () => {
    const error = await rejection(readStream(await onlyStream(config('http://no-such-api.invalid'))));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('"no-such-api.invalid" does not exist');
  });

  it('reports a nonexistent config host in check as a config problem, not "try again"', async () => {
    const result = await restConnector.check(config('http://no-such-api.invalid'));

    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain('does not exist (DNS answered ENOTFOUND)');
    expect((result as { message: string }).message).not.toContain('try again');
  });

  it('keeps NXDOMAIN for a host only the API links to transient (retried, then exhausted)', async () => {
    const api = await new ItemsApi(makeItems(3)).start();
    try {
      api.intercept = (req, res) => {
        if (req.url.pathname !== '/items') return false;
        sendJson(res, 200, { items: [{ id: 1 }], next: 'http://elsewhere.invalid/items?page=2' });
        return true;
      };
      const stream = await onlyStream({
        ...config(api.url),
        streams: [
          {
            name: 'items',
            path: '/items',
            primaryKey: ['id'],
            recordsPath: 'items',
            pagination: { type: 'nextUrl', nextUrlPath: 'next' },
          },
        ],
      });

      const error = await rejection(readStream(stream));

      expect(error).toBeInstanceOf(RetriesExhaustedError);
      expect(error.message).toContain('ENOTFOUND');
      expect(error.message).toContain('gave up after 3 attempts');
    } finally {
      await api.stop();
    }
  });
});
