/**
 * The REST workload of the benchmark: a local API (node:http, in the parent
 * process, so the engine child's peak RSS is its own) serves N records of
 * the synthetic order rows (bench/pool.ts, ~490 bytes of JSON each) in pages
 * of 1,000 with offset pagination; the `rest` connector lands them through
 * the engine into a local lake, as a user's `sluice sync` would.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { restConnector } from '../connectors/rest/index.js';
import { type EngineLoad, timedEngineLoad } from './local-load.js';
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

export type RestEngineRun = EngineLoad;

/** One full load of the API through the `rest` connector into a fresh local lake, in this process. */
export async function restEngineRun(
  url: string,
  rows: number,
  options: { readonly rowGroupBytes?: number } = {},
): Promise<RestEngineRun> {
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
  return timedEngineLoad({
    source: 'restbench',
    type: 'rest',
    connector: restConnector as never,
    config,
    stream: 'orders',
    rows,
    ...options,
  });
}
