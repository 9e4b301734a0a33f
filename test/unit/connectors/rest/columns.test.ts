import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRestConfig, restConnector } from '../../../../connectors/rest/index.js';
import type { Connector } from '../../../../connectors/sdk/types.js';
import {
  declaredColumnsOf,
  parquetColumns,
  readAsAthena,
  tableFiles,
} from '../../../support/athena-read-check.js';
import { openTestLake, type TestLake } from '../../../support/lake.js';

/** An API whose payments carry times and amounts as JSON strings and numbers, as many do. */
const payments = [
  { id: 1, updated_at: '2026-03-01T10:00:00Z', amount: '12.50', note: 'a' },
  { id: 2, updated_at: '2026-03-01T11:30:00.123456+01:00', amount: 7, note: 'b' },
  { id: 3, updated_at: '2026-03-02', amount: '0.1', note: 'c' },
  { id: 4, updated_at: '2026-03-03T00:00:00Z', amount: '99.999', note: 'd' },
];

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: payments }));
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

function config(columns: Record<string, string>) {
  return {
    baseUrl: url,
    streams: [{ name: 'payments', path: '/payments', recordsPath: 'data', primaryKey: ['id'], columns }],
  };
}

describe('rest streams with declared columns', () => {
  it('lands ISO-8601 strings as timestamps and amounts as decimal(12,2); what does not fit goes to a variant', async () => {
    // Prepare
    const now = new Date().toISOString();
    const cfg = config({ updated_at: 'timestamp', amount: 'Decimal(12, 2)' });
    lake = await openTestLake(
      { name: 'billing', type: 'rest', config: cfg, createdAt: now, updatedAt: now },
      restConnector as Connector<never>,
      cfg,
    );
    // Act
    const run = await lake.sync();
    const table = (await lake.backend.catalog.getTable('billing', 'payments'))!;
    const files = await tableFiles(lake.backend.objects, table.location);
    const rows = await readAsAthena(files, declaredColumnsOf(table));
    // Assess
    const types = Object.fromEntries(
      parquetColumns(files[0]!.bytes).map((c) => [c.name, `${c.physical} ${c.logical}`]),
    );
    expect(types.updated_at).toBe('INT64 TIMESTAMP(MICROS)');
    expect(types.amount).toBe('INT64 DECIMAL(12,2)');
    expect(run.streams.payments!.schemaChanges).toContain(
      'added variant column amount__string (string) for values of amount that are not decimal(12,2)',
    );
    expect(rows.map((r) => [r.id, r.updated_at, r.amount, r.amount__string]).sort()).toEqual([
      [1, '2026-03-01T10:00:00.000Z', '12.50', null],
      [2, '2026-03-01T10:30:00.123456Z', '7.00', null], // microseconds as the source sent them
      [3, '2026-03-02T00:00:00.000Z', '0.10', null],
      [4, '2026-03-03T00:00:00.000Z', null, '99.999'],
    ]);
  });

  it('refuses an unknown column type, naming the field', () => {
    expect(() => parseRestConfig(config({ amount: 'money' }))).toThrow(
      /"streams\[0\]\.columns\.amount" must be boolean, int, .* or decimal\(p,s\).*got "money"/,
    );
    expect(() => parseRestConfig(config({ amount: 'decimal(40,2)' }))).toThrow(/columns\.amount/);
  });
});
