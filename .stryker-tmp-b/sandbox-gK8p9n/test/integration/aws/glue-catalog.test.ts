// @ts-nocheck
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetTableCommand,
  GetTableVersionsCommand,
  GlueClient,
  type Table,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { GlueCatalog, glueTableName } from '../../../adapters/aws/glue-catalog.js';
import type { Column, SchemaVersion, TableDefinition } from '../../../engine/ports.js';
import { type FaultProxy, startFaultProxy, uniqueName } from './support.js';

const glue = new GlueClient(clientConfig(AwsService.glue));
const bucket = 'sluice-lake-bucket';
const locationOf = (key: string): string => `s3://${bucket}/lake/${key}`;

function version(n: number, columns: Column[], changes: string[] = []): SchemaVersion {
  return { version: n, columns, changes, runId: `run-${n}`, createdAt: `2026-03-0${n}T10:00:00.000Z` };
}

const v1 = version(1, [
  { name: 'id', type: 'int' },
  { name: 'customer', type: 'string' },
  { name: 'amount', type: 'double' },
  { name: 'paid', type: 'boolean' },
  { name: 'updated_at', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'payload', type: 'json' },
]);

function table(stream: string, versions: SchemaVersion[], source = 'shop'): TableDefinition {
  return {
    source,
    stream,
    location: `raw/${source}/${stream}/`,
    primaryKey: ['id'],
    writeDisposition: 'merge',
    schemaVersions: versions,
  };
}

async function glueTable(database: string, name: string) {
  const { Table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: name }));
  return Table!;
}

async function versionCount(database: string, name: string): Promise<number> {
  const { TableVersions } = await glue.send(
    new GetTableVersionsCommand({ DatabaseName: database, TableName: name }),
  );
  return TableVersions?.length ?? 0;
}

describe('GlueCatalog', () => {
  const database = uniqueName('sluice_catalog', '_');
  const catalog = new GlueCatalog({ database, locationOf, client: glue });

  describe('a new table', () => {
    beforeAll(async () => {
      await catalog.putTable(table('orders', [v1]));
    });

    it('is created (with its database) as an external Parquet table at the stream location', async () => {
      // Act
      const t = await glueTable(database, 'shop__orders');

      // Assess
      expect(t.TableType).toBe('EXTERNAL_TABLE');
      expect(t.StorageDescriptor?.Location).toBe(`s3://${bucket}/lake/raw/shop/orders/`);
      expect(t.StorageDescriptor?.InputFormat).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      );
      expect(t.StorageDescriptor?.OutputFormat).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      );
      expect(t.StorageDescriptor?.SerdeInfo?.SerializationLibrary).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      );
      expect(t.Parameters?.classification).toBe('parquet');
    });

    it('is partitioned by dt with partition projection, so no crawler or MSCK REPAIR is needed', async () => {
      // Act
      const t = await glueTable(database, 'shop__orders');

      // Assess
      expect(t.PartitionKeys?.map((k) => [k.Name, k.Type])).toEqual([['dt', 'string']]);
      expect(t.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': '2026-02-28,NOW',
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
        'storage.location.template': `s3://${bucket}/lake/raw/shop/orders/dt=\${dt}/`,
      });
    });

    it('maps column types to Glue types and appends the metadata columns every file carries', async () => {
      // Act
      const t = await glueTable(database, 'shop__orders');

      // Assess
      expect(t.StorageDescriptor?.Columns?.map((c) => [c.Name, c.Type])).toEqual([
        ['id', 'int'],
        ['customer', 'string'],
        ['amount', 'double'],
        ['paid', 'boolean'],
        ['updated_at', 'timestamp'],
        ['day', 'date'],
        ['payload', 'string'],
        ['_sluice_run_id', 'string'],
        ['_sluice_extracted_at', 'timestamp'],
        ['_sluice_source', 'string'],
      ]);
    });

    it('reads back the definition it was given, schema versions included', async () => {
      expect(await catalog.getTable('shop', 'orders')).toEqual(table('orders', [v1]));
      expect(await catalog.getTable('shop', 'missing')).toBeUndefined();
    });

    it('does not touch Glue when put again with the same content', async () => {
      // Prepare
      const before = await versionCount(database, 'shop__orders');

      // Act
      await catalog.putTable(table('orders', [v1]));

      // Assess
      expect(await versionCount(database, 'shop__orders')).toBe(before);
    });
  });

  it('updates the table when the schema evolves, keeping every schema version and foreign parameters', async () => {
    // Prepare
    await catalog.putTable(table('customers', [v1]));
    const current = await glueTable(database, 'shop__customers');
    await glue.send(
      new UpdateTableCommand({
        DatabaseName: database,
        TableInput: {
          Name: 'shop__customers',
          TableType: current.TableType,
          PartitionKeys: current.PartitionKeys,
          StorageDescriptor: current.StorageDescriptor,
          Parameters: { ...current.Parameters, owner_team: 'data-platform' },
        },
      }),
    );
    const v2 = version(
      2,
      [{ name: 'id', type: 'bigint' }, ...v1.columns.slice(1), { name: 'email', type: 'string' }],
      ['widened id: int → bigint', 'added column email (string)'],
    );
    const before = await versionCount(database, 'shop__customers');

    // Act
    await catalog.putTable(table('customers', [v1, v2]));

    // Assess
    const t = await glueTable(database, 'shop__customers');
    const columns = t.StorageDescriptor?.Columns?.map((c) => [c.Name, c.Type]) ?? [];
    expect(columns[0]).toEqual(['id', 'bigint']);
    expect(columns).toContainEqual(['email', 'string']);
    expect(t.Parameters?.owner_team).toBe('data-platform');
    expect(t.Parameters?.['sluice.schema_version']).toBe('2');
    expect(t.Parameters?.['projection.dt.range']).toBe('2026-02-28,NOW');
    expect(await versionCount(database, 'shop__customers')).toBe(before + 1);
    expect((await catalog.getTable('shop', 'customers'))?.schemaVersions).toEqual([v1, v2]);
  });

  it('keeps a legacy data column named dt out of the columns (the partition key wins)', async () => {
    // Act
    await catalog.putTable(
      table('events', [
        version(1, [
          { name: 'dt', type: 'string' },
          { name: 'n', type: 'int' },
        ]),
      ]),
    );

    // Assess
    const t = await glueTable(database, 'shop__events');
    expect(t.StorageDescriptor?.Columns?.map((c) => c.Name)).not.toContain('dt');
    expect(t.StorageDescriptor?.Columns?.[0]?.Name).toBe('n');
  });

  it('converges when two writers create the same table at once', async () => {
    const results = await Promise.allSettled([
      catalog.putTable(table('race', [v1])),
      catalog.putTable(table('race', [v1])),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await catalog.getTable('shop', 'race')).toEqual(table('race', [v1]));
  });

  it('lists the tables it manages, by source, ignoring other tables in the database', async () => {
    // Prepare
    const listing = new GlueCatalog({ database: uniqueName('sluice_list', '_'), locationOf, client: glue });
    await listing.putTable(table('orders', [v1], 'alpha'));
    await listing.putTable(table('users', [v1], 'alpha'));
    await listing.putTable(table('orders', [v1], 'beta'));
    await glue.send(
      new CreateTableCommand({
        DatabaseName: listing.database,
        TableInput: { Name: 'hand_made', Parameters: {} },
      }),
    );

    // Act
    const all = await listing.listTables();
    const alpha = await listing.listTables('alpha');

    // Assess
    expect(all.map((t) => `${t.source}.${t.stream}`)).toEqual(['alpha.orders', 'alpha.users', 'beta.orders']);
    expect(alpha.map((t) => t.stream)).toEqual(['orders', 'users']);
  });

  it('lists nothing when the database does not exist yet', async () => {
    const empty = new GlueCatalog({ database: uniqueName('sluice_none', '_'), locationOf, client: glue });
    expect(await empty.listTables()).toEqual([]);
  });

  it('uses an existing database without recreating it', async () => {
    // Prepare
    const name = uniqueName('sluice_existing', '_');
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } }));
    const existing = new GlueCatalog({ database: name, locationOf, client: glue });

    // Act
    await existing.putTable(table('orders', [v1]));

    // Assess
    expect((await existing.getTable('shop', 'orders'))?.stream).toBe('orders');
  });

  it('records files idempotently without changing the table (files are found by location)', async () => {
    // Prepare
    await catalog.putTable(table('files', [v1]));
    const before = await versionCount(database, 'shop__files');
    const keys = ['raw/shop/files/dt=2026-03-01/run-1-00000.parquet'];

    // Act
    await catalog.addFiles('shop', 'files', 'run-1', keys);
    await catalog.addFiles('shop', 'files', 'run-1', keys);

    // Assess
    expect(await versionCount(database, 'shop__files')).toBe(before);
  });

  it('deletes a table, and succeeds when it is already gone', async () => {
    // Prepare
    await catalog.putTable(table('doomed', [v1]));

    // Act
    await catalog.deleteTable('shop', 'doomed');
    await catalog.deleteTable('shop', 'doomed');

    // Assess
    expect(await catalog.getTable('shop', 'doomed')).toBeUndefined();
  });

  it('honours an explicit projection start', async () => {
    // Prepare
    const fixed = new GlueCatalog({ database, locationOf, client: glue, projectionStart: '2020-01-01' });

    // Act
    const input = fixed.tableInput(table('fixed', [v1]));

    // Assess
    expect(input.Parameters?.['projection.dt.range']).toBe('2020-01-01,NOW');
    expect(glueTableName('shop', 'fixed')).toBe(input.Name);
  });

  it('maps decimal(p,s) to the Glue decimal type and marks variant columns', async () => {
    // Prepare
    const columns: Column[] = [
      { name: 'id', type: 'bigint' },
      { name: 'amount', type: 'decimal(12,2)' },
      { name: 'amount__string', type: 'string', variantOf: 'amount' },
    ];

    // Act
    await catalog.putTable(table('ledger', [version(1, columns)]));

    // Assess
    const t = await glueTable(database, 'shop__ledger');
    expect(t.StorageDescriptor?.Columns?.slice(0, 3).map((c) => [c.Name, c.Type, c.Comment])).toEqual([
      ['id', 'bigint', undefined],
      ['amount', 'decimal(12,2)', undefined],
      ['amount__string', 'string', 'variant of amount'],
    ]);
    expect((await catalog.getTable('shop', 'ledger'))?.schemaVersions.at(-1)?.columns).toEqual(columns);
  });

  it('keeps the projection range start when the oldest schema versions are trimmed', async () => {
    // Prepare: versions on consecutive days, each large enough that 30 outgrow one Glue parameter
    const big = (n: number): SchemaVersion => ({
      ...version(1, [...v1.columns], [`change ${n} `.padEnd(20_000, 'x')]),
      version: n,
      runId: `run-${n}`,
      createdAt: `2026-03-${String(n).padStart(2, '0')}T10:00:00.000Z`,
    });
    await catalog.putTable(table('history', [big(1)]));
    const history = Array.from({ length: 30 }, (_, i) => big(i + 1));

    // Act
    await catalog.putTable(table('history', history));
    const trimmed = (await catalog.getTable('shop', 'history'))!.schemaVersions;
    const before = await versionCount(database, 'shop__history');
    await catalog.putTable(table('history', [...trimmed]));
    await catalog.putTable(table('history', [...trimmed, big(31)]));

    // Assess
    const t = await glueTable(database, 'shop__history');
    expect(trimmed[0]!.version).toBeGreaterThan(1);
    expect(t.Parameters?.['projection.dt.range']).toBe('2026-02-28,NOW');
    expect(t.Parameters?.['sluice.projection_start']).toBe('2026-02-28');
    expect(Number(t.Parameters?.['sluice.schema_versions_dropped'])).toBeGreaterThanOrEqual(
      trimmed[0]!.version - 1,
    );
    expect(await versionCount(database, 'shop__history')).toBe(before + 1);
  });
});

describe('GlueCatalog against a Glue that lowercases column names, as real Glue does', () => {
  let proxy: FaultProxy;
  let lowercasing: GlueCatalog;
  const database = uniqueName('sluice_lower', '_');

  beforeAll(async () => {
    proxy = await startFaultProxy();
    proxy.add({
      when: (r) => r.target === 'AWSGlue.GetTable' || r.target === 'AWSGlue.GetTables',
      rewrite: lowercaseColumns,
    });
    lowercasing = new GlueCatalog({
      database,
      locationOf,
      client: new GlueClient({ ...clientConfig(AwsService.glue), endpoint: proxy.url }),
    });
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('makes no new table version when an unchanged table with mixed-case columns is put again', async () => {
    // Prepare: a table landed before names were normalised
    const legacy = table('legacy', [
      version(1, [
        { name: 'orderId', type: 'int' },
        { name: 'createdAt', type: 'timestamp' },
      ]),
    ]);
    await lowercasing.putTable(legacy);
    const shown = await lowercasing.client.send(
      new GetTableCommand({ DatabaseName: database, Name: 'shop__legacy' }),
    );
    const before = await versionCount(database, 'shop__legacy');

    // Act
    await lowercasing.putTable(legacy);
    await lowercasing.putTable(legacy);

    // Assess
    expect(shown.Table?.StorageDescriptor?.Columns?.map((c) => c.Name).slice(0, 2)).toEqual([
      'orderid',
      'createdat',
    ]);
    expect(await versionCount(database, 'shop__legacy')).toBe(before);
  });
});

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
