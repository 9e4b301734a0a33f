/**
 * `sluice --api <url>`: the built CLI against the built `sluice serve` (which
 * ignores signatures), both as a user runs them, through a recording proxy that keeps every request as it
 * arrived, so the SigV4 headers can be checked and one signature verified by
 * signing the same request again with the same library and credential.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, SLUICE_BIN } from '../support/cli.js';
import { freePort } from '../support/net.js';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A known (made-up) credential: the test signs with it and checks with it. */
const CREDENTIAL = {
  accessKeyId: 'AKIDEXAMPLESLUICE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const REGION = 'eu-west-1';

describe('sluice --api', () => {
  let home: string;
  let cliHome: string;
  let server: ChildProcess;
  let proxy: Server;
  let url: string;
  const recorded: Recorded[] = [];

  const cli = (args: string[]) =>
    runCli(['--api', url, ...args], {
      home: cliHome,
      env: {
        AWS_ACCESS_KEY_ID: CREDENTIAL.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIAL.secretAccessKey,
        AWS_SESSION_TOKEN: '',
        AWS_REGION: REGION,
      },
    });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-api-serve-'));
    cliHome = await mkdtemp(join(tmpdir(), 'sluice-api-cli-'));
    const port = await freePort();
    server = spawn(process.execPath, [SLUICE_BIN, '--home', home, 'serve', '--port', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let said = '';
      server.stderr?.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes('sluice API on')) resolve();
      });
      server.on('exit', (code) => reject(new Error(`sluice serve exited with ${code}: ${said}`)));
    });
    const target = new URL(`http://127.0.0.1:${port}`);
    proxy = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (c: Buffer) => chunks.push(c));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        recorded.push({
          method: incoming.method ?? '',
          url: incoming.url ?? '',
          headers: incoming.headers,
          body,
        });
        const forward = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
    }
    await rm(home, { recursive: true, force: true });
    await rm(cliHome, { recursive: true, force: true });
  });

  it('adds and lists sources, starts a sync and lists its runs over the API', async () => {
    // Prepare
    const file = join(cliHome, 'shop.json');
    await writeFile(file, JSON.stringify({ name: 'shop', type: 'sample', config: { rows: 200 } }));

    // Act
    const added = await cli(['sources', 'add', '-f', file]);
    const duplicate = await cli(['sources', 'add', '-f', file]);
    const listed = await cli(['--json', 'sources', 'list']);
    const synced = await cli(['--json', 'sync', 'shop']);
    const { runId } = JSON.parse(synced.stdout) as { runId: string };
    let runs: { runId: string; status: string }[] = [];
    for (let i = 0; i < 100; i++) {
      runs = JSON.parse((await cli(['--json', 'runs', 'shop'])).stdout);
      if (runs[0]?.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const table = await cli(['runs', 'shop']);
    const one = await cli(['runs', 'shop', runId]);
    const byId = await cli(['--json', 'runs', runId]);

    // Assess
    expect(added).toMatchObject({ code: 0, stdout: 'added source "shop" (sample)\n' });
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^sluice: .*shop.* \(HTTP 409 ConflictError\)\n$/);
    expect(JSON.parse(listed.stdout).map((s: { name: string }) => s.name)).toEqual(['shop']);
    expect(runs).toEqual([expect.objectContaining({ runId, status: 'SUCCEEDED' })]);
    expect(table.stdout).toContain(runId);
    expect(table.stdout).toContain('SUCCEEDED');
    expect(table.stdout).toMatch(/^ {2}orders\s/m);
    expect(one.stdout).toContain(`run ${runId} · source shop · SUCCEEDED`);
    expect(one.stdout).toMatch(/^orders\s/m);
    expect(JSON.parse(byId.stdout)).toMatchObject({ runId, source: 'shop', status: 'SUCCEEDED' });
  });

  it('signs every request with SigV4 for execute-api, verifiably with the credential', async () => {
    // Prepare: the signed POST of the first test
    const post = recorded.find((r) => r.method === 'POST' && r.url === '/sources');
    expect(post).toBeDefined();
    const { authorization, 'x-amz-date': amzDate, 'x-amz-content-sha256': bodyHash, ...rest } = post!.headers;

    // Act: sign the same request again with the same library and the known credential, at its own instant
    const date = new Date(
      String(amzDate).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const signer = new SignatureV4({
      service: 'execute-api',
      region: REGION,
      credentials: CREDENTIAL,
      sha256: Sha256,
    });
    const again = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/sources',
        query: {},
        headers: {
          host: String(rest.host),
          accept: String(rest.accept),
          'content-type': String(rest['content-type']),
        },
        body: post!.body,
      },
      { signingDate: date },
    );

    // Assess
    for (const r of recorded) {
      expect(r.headers.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${CREDENTIAL.accessKeyId}/\\d{8}/${REGION}/execute-api/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`,
        ),
      );
      expect(r.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    }
    expect(String(authorization)).toContain(
      'SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date,',
    );
    expect(bodyHash).toBe(createHash('sha256').update(post!.body).digest('hex'));
    expect(again.headers.authorization).toBe(authorization);
  });

  it('refuses a command the API does not serve, naming the ones it does', async () => {
    // Act
    const result = await cli(['query', 'select 1']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '"query" does not work with --api (these do: sources add, sources list, sync, runs)',
    );
  });

  it('names SLUICE_API_URL, not --api, when the API came from the environment', async () => {
    // Act
    const result = await runCli(['query', 'select 1'], { home: cliHome, env: { SLUICE_API_URL: url } });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"query" does not work while SLUICE_API_URL is set (unset it');
  });
});
