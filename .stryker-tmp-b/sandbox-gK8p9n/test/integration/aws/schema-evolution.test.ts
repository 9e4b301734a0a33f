/**
 * Schema evolution and names on the AWS tier, against a Glue that lowercases
 * column names as real Glue does (a proxy in front of moto rewrites what
 * Glue answers): every table is read as Athena reads it, each Parquet
 * footer against the Glue table's declared types (test/support/athena-read-check.ts).
 */
// @ts-nocheck

import {
  GetTableCommand,
  GetTableVersionsCommand,
  GlueClient,
  type Table,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import type { AwsBackend } from '../../../adapters/aws/index.js';
import type { Connector, SourceRecord } from '../../../connectors/sdk/types.js';
import { AthenaReadError, type DataFile, readAsAthena } from '../../support/athena-read-check.js';
import {
  EVOLVED_CHANGES,
  EVOLVED_ROWS,
  EVOLVING_PAGES,
  evolvingConnector,
  pick,
} from '../../support/evolving.js';
import { athenaFiles, openAwsTestLake } from './lake.js';
import { clientsThrough, type FaultProxy, startFaultProxy } from './support.js';

const glue = new GlueClient(clientConfig(AwsService.glue));

/** Glue's answer with every column name lowercased, as Glue stores them. */
function lowercaseColumns(body: string): string {
  const answer = JSON.parse(body) as { Table?: Table; TableList?: Table[] };
  for (const t of [answer.Table, ...(answer.TableList ?? [])]) {
    for (const c of [...(t?.StorageDescriptor?.Columns ?? []), ...(t?.PartitionKeys ?? [])]) {
      if (c.Name) c.Name = c.Name.toLowerCase();
    }
  }
  return JSON.stringify(answer);
}

async function glueTable(database: string, name: string): Promise<Table> {
  return (await glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table!;
}

async function versionCount(database: string, name: string): Promise<number> {
  const { TableVersions } = await glue.send(
    new GetTableVersionsCommand({ DatabaseName: database, TableName: name }),
  );
  return TableVersions?.length ?? 0;
}

/** The files Athena would read for a Glue table, with their bytes. */
async function dataFiles(backend: AwsBackend, table: Table): Promise<DataFile[]> {
  const files = await athenaFiles(backend, table);
  return Promise.all(
    files.map(async (f) => ({ key: f.key, dt: f.dt, bytes: (await backend.objects.get(f.key))! })),
  );
}

const declaredIn = (table: Table) =>
  (table.StorageDescriptor?.Columns ?? []).map((c) => ({ name: c.Name!, type: c.Type! }));

function source(name: string, type: string) {
  const now = new Date().toISOString();
  return { name, type, config: {}, createdAt: now, updatedAt: now };
}

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy();
  proxy.add({
    when: (r) => r.target === 'AWSGlue.GetTable' || r.target === 'AWSGlue.GetTables',
    rewrite: lowercaseColumns,
  });
});
afterAll(async () => {
  await proxy.close();
});

describe('schema evolution on the AWS tier (read as Athena reads)', () => {
  it('keeps every file readable through the Glue types while a column goes int → bigint → double → string', async () => {
    // Prepare
    const lake = await openAwsTestLake({
      source: source('api', 'evolving'),
      connector: evolvingConnector(EVOLVING_PAGES),
      config: {},
      clients: clientsThrough(proxy.url),
    });

    // Act
    const changes: string[][] = [];
    for (let i = 0; i < EVOLVING_PAGES.length; i++)
      changes.push([...(await lake.sync()).streams.items!.schemaChanges]);
    const table = await glueTable(lake.names.glueDatabase, 'api__items');
    const rows = await readAsAthena(await dataFiles(lake.backend, table), declaredIn(table));

    // Assess
    expect(changes).toEqual(EVOLVED_CHANGES);
    expect(pick(rows)).toEqual(EVOLVED_ROWS);
    expect(Object.fromEntries(declaredIn(table).map((c) => [c.name, c.type]))).toMatchObject({
      amount: 'bigint',
      amount__double: 'double',
      amount__string: 'string',
      flag__string: 'string',
    });
  });

  it('catches a Glue column redeclared over older files of another physical type', async () => {
    // Prepare: land int then bigint amounts, then redeclare amount `double` in Glue, as no policy may
    const lake = await openAwsTestLake({
      source: source('planted', 'evolving'),
      connector: evolvingConnector(EVOLVING_PAGES.slice(0, 2)),
      config: {},
    });
    await lake.sync();
    await lake.sync();
    const table = await glueTable(lake.names.glueDatabase, 'planted__items');
    const columns = table.StorageDescriptor!.Columns!.map((c) =>
      c.Name === 'amount' ? { ...c, Type: 'double' } : c,
    );
    await glue.send(
      new UpdateTableCommand({
        DatabaseName: lake.names.glueDatabase,
        TableInput: {
          Name: table.Name,
          TableType: table.TableType,
          PartitionKeys: table.PartitionKeys,
          Parameters: table.Parameters,
          StorageDescriptor: { ...table.StorageDescriptor, Columns: columns },
        },
      }),
    );
    const redeclared = await glueTable(lake.names.glueDatabase, 'planted__items');

    // Act
    const read = readAsAthena(await dataFiles(lake.backend, redeclared), declaredIn(redeclared));

    // Assess
    await expect(read).rejects.toThrow(AthenaReadError);
    await expect(read).rejects.toThrow(
      /raw\/planted\/items\/dt=.*: column amount is declared double, but the file has INT32/,
    );
  });
});

describe('names on the AWS tier', () => {
  /** Fields as APIs send them: mixed case, spaces, the partition key's name, a case collision. */
  function messyConnector(): Connector<never> {
    let run = 0;
    return {
      type: 'messy',
      description: 'test source',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: () => [
        {
          name: 'people',
          primaryKey: ['ID'],
          writeDisposition: 'merge',
          async *read(): AsyncGenerator<SourceRecord[]> {
            run++;
            yield [
              {
                ID: run,
                id: `legacy-${run}`,
                createdAt: '2026-03-01T00:00:00Z',
                dt: 'mine',
                'Order Total': run * 10,
              },
            ];
          },
        },
      ],
    } as Connector<never>;
  }

  it('lands normalised, collision-free names and makes no new Glue version when nothing changed', async () => {
    // Prepare
    const lake = await openAwsTestLake({
      source: source('crm', 'messy'),
      connector: messyConnector(),
      config: {},
      clients: clientsThrough(proxy.url),
    });
    const first = await lake.sync();
    const afterFirst = await versionCount(lake.names.glueDatabase, 'crm__people');

    // Act
    const second = await lake.sync();
    const third = await lake.sync();

    // Assess
    const table = await glueTable(lake.names.glueDatabase, 'crm__people');
    expect(declaredIn(table).map((c) => c.name)).toEqual([
      'id_2',
      'id',
      'created_at',
      'dt_2',
      'order_total',
      '_sluice_deleted',
      '_sluice_run_id',
      '_sluice_extracted_at',
      '_sluice_source',
    ]);
    expect(first.streams.people!.schemaChanges).toEqual([
      'created table with 6 columns',
      'field "dt" lands in column dt_2 ("dt" is taken)',
      'field "ID" lands in column id_2 ("id" is taken)',
      'field "Order Total" lands in column order_total',
      'field "createdAt" lands in column created_at',
    ]);
    expect([second, third].map((r) => r.streams.people!.schemaChanges)).toEqual([[], []]);
    expect(await versionCount(lake.names.glueDatabase, 'crm__people')).toBe(afterFirst);
    expect((await lake.backend.catalog.getTable('crm', 'people'))?.primaryKey).toEqual(['id_2']);
    const rows = await readAsAthena(await dataFiles(lake.backend, table), declaredIn(table));
    expect(rows.map((r) => [r.id, r.id_2, r.dt_2, r.order_total, r.dt]).sort()).toEqual(
      [1, 2, 3].map((n) => [`legacy-${n}`, n, 'mine', n * 10, expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/)]),
    );
  });
});
