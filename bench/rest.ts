/**
 * The REST workload of the benchmark: a local API (node:http, in the parent
 * process, so the engine child's peak RSS is its own) serves N records of
 * the synthetic order rows (bench/pool.ts, ~490 bytes of JSON each) in pages
 * of 1,000 with offset pagination; the `rest` connector lands them through
 * the engine into a local lake, as a user's `sluice sync` would.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { openLocalBackend } from '../adapters/local/index.js';
import { restConnector } from '../connectors/rest/index.js';
import { silentLogger } from '../connectors/sdk/index.js';
import { runSync } from '../engine/sync.js';
import { buildPool, pages } from './pool.js';

export const REST_PAGE_SIZE = 1000;

export interface RestApi {
  readonly url: string;
  /** Bytes of JSON the API serves for all records. */
  readonly bytes: number;
  close(): Promise<void>;
}

/** Serves `rows` records as `{ "data": [...] }` pages at /orders?offset=&limit=; page bodies are built once. */
export async function startRestApi(rows: number): Promise<RestApi> {
  const bodies: Buffer[] = [];
  for (const page of pages(buildPool(), rows, REST_PAGE_SIZE))
    bodies.push(Buffer.from(JSON.stringify({ data: page })));
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? REST_PAGE_SIZE);
    if (url.pathname !== '/orders' || limit !== REST_PAGE_SIZE || offset % REST_PAGE_SIZE !== 0) {
      response.writeHead(400).end('{"error":"bad request"}');
      return;
    }
    const body = bodies[offset / REST_PAGE_SIZE] ?? Buffer.from('{"data":[]}');
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bytes: bodies.reduce((sum, b) => sum + b.length, 0),
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

export interface RestEngineRun {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly rows: number;
  readonly bytes: number;
  readonly files: number;
  readonly maxRssMb: number;
}

/** One full load of the API through the `rest` connector into a fresh local lake, in this process. */
export async function restEngineRun(
  url: string,
  rows: number,
  options: { readonly rowGroupBytes?: number } = {},
): Promise<RestEngineRun> {
  const home = await mkdtemp(join(os.tmpdir(), 'sluice-bench-rest-'));
  try {
    const backend = await openLocalBackend(home);
    const now = new Date().toISOString();
    const config = {
      baseUrl: url,
      streams: [
        {
          name: 'orders',
          path: '/orders',
          recordsPath: 'data',
          primaryKey: ['id'],
          pagination: { type: 'offset', pageSizeParam: 'limit', pageSize: REST_PAGE_SIZE },
          incremental: { cursorField: 'created_at', initialValue: '2000-01-01T00:00:00Z' },
        },
      ],
    };
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const run = await runSync(
      { objects: backend.objects, state: backend.state, catalog: backend.catalog, logger: silentLogger },
      {
        source: { name: 'restbench', type: 'rest', config, createdAt: now, updatedAt: now },
        connector: restConnector as never,
        config,
        ...options,
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const stats = run.streams.orders;
    if (run.status !== 'SUCCEEDED' || stats?.rows !== rows) {
      throw new Error(
        `rest engine run ${run.status} with ${stats?.rows} of ${rows} rows: ${run.error ?? ''}`,
      );
    }
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rows,
      bytes: stats.bytes,
      files: stats.files,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
