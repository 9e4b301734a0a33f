/**
 * 64-bit ids in a JSON API: JSON.parse would read 1234567890123456789 and
 * 1234567890123456790 as one double. The oracle is the text the server sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { restConnector } from '../../../../connectors/rest/index.js';
import type { Connector } from '../../../../connectors/sdk/types.js';
import {
  declaredColumnsOf,
  parquetColumns,
  readAsAthena,
  tableFiles,
} from '../../../support/athena-read-check.js';
import { openTestLake, type TestLake } from '../../../support/lake.js';

const BODY = '{"data": [{"id": 1234567890123456789, "note": "a"}, {"id": 1234567890123456790, "note": "b"}]}';

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
});

describe('rest streams with 64-bit integer ids', () => {
  it('lands integers beyond 2^53 exactly as BIGINT instead of rounding them to one double', async () => {
    // Prepare
    const now = new Date().toISOString();
    const cfg = {
      baseUrl: url,
      streams: [{ name: 'tweets', path: '/tweets', recordsPath: 'data', primaryKey: ['id'] }],
    };
    lake = await openTestLake(
      { name: 'social', type: 'rest', config: cfg, createdAt: now, updatedAt: now },
      restConnector as Connector<never>,
      cfg,
    );

    // Act
    await lake.sync();
    const table = (await lake.backend.catalog.getTable('social', 'tweets'))!;
    const files = await tableFiles(lake.backend.objects, table.location);
    const rows = await readAsAthena(files, declaredColumnsOf(table));

    // Assess
    const id = parquetColumns(files[0]!.bytes).find((c) => c.name === 'id');
    expect(`${id?.physical}`).toBe('INT64');
    expect(rows.map((r) => String(r.id)).sort()).toEqual(['1234567890123456789', '1234567890123456790']);
  });
});
