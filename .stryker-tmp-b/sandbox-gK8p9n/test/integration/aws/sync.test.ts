/**
 * The engine, unchanged, syncing through the AWS adapters over HTTP: files
 * in S3 under the lake layout, manifests, cursors and runs in DynamoDB, Glue
 * tables with partition projection that follow the schema, secrets in
 * Secrets Manager, and the lease keeping two syncs of one source apart.
 */
// @ts-nocheck


import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetTableCommand, GetTableVersionsCommand, GlueClient } from '@aws-sdk/client-glue';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import type { ConfigSchema, Connector, Logger, SourceRecord, Stream } from '../../../connectors/sdk/types.js';
import { LeaseHeldError } from '../../../engine/errors.js';
import type { RunRecord } from '../../../engine/ports.js';
import { createRegistry, createSource, resolveSource } from '../../../engine/sources.js';
import type { SyncPhase } from '../../../engine/sync.js';
import { type AwsTestLake, athenaFiles, landedSampleRows, openAwsTestLake } from './lake.js';

const glue = new GlueClient(clientConfig(AwsService.glue));
const dynamodb = new DynamoDBClient(clientConfig(AwsService.dynamodb));

describe('a sync of the sample source on AWS', () => {
  let lake: AwsTestLake;
  let run: RunRecord;

  beforeAll(async () => {
    lake = await openAwsTestLake();
    run = await lake.sync();
  });

  it('succeeds and records the run in DynamoDB, listed by source and by status', async () => {
    expect(run.status).toBe('SUCCEEDED');
    expect(Object.keys(run.streams).sort()).toEqual(['customers', 'events', 'orders']);
    expect(await lake.backend.state.getRun('shop', run.runId)).toEqual(run);
    expect((await lake.backend.state.listRuns('shop')).map((r) => r.runId)).toEqual([run.runId]);
    expect((await lake.backend.state.listRunsByStatus('SUCCEEDED')).map((r) => r.runId)).toContain(run.runId);
  });

  it('lands Parquet files in S3 under raw/<source>/<stream>/dt=<date>/ and leaves nothing staged', async () => {
    // Act
    const raw = await lake.backend.objects.list('raw/shop/');

    // Assess
    const dt = run.startedAt.slice(0, 10);
    const pattern = new RegExp(`^raw/shop/(customers|orders|events)/dt=${dt}/${run.runId}-\\d{5}\\.parquet$`);
    expect(raw.length).toBe(Object.values(run.streams).reduce((n, s) => n + s.files, 0));
    for (const object of raw) expect(object.key).toMatch(pattern);
    const magic = await lake.backend.objects.get(raw[0]!.key);
    expect(new TextDecoder().decode(magic!.slice(0, 4))).toBe('PAR1');
    expect(await lake.leftovers()).toEqual([]);
  });

  it('writes the committed manifest listing every file', async () => {
    // Act
    const bytes = await lake.backend.objects.get(`_manifests/shop/committed/${run.runId}-s00001.json`);

    // Assess
    const manifest = JSON.parse(new TextDecoder().decode(bytes)) as {
      runId: string;
      streams: { name: string; files: { final: string }[] }[];
    };
    expect(manifest.runId).toBe(run.runId);
    const finals = manifest.streams.flatMap((s) => s.files.map((f) => f.final)).sort();
    expect(finals).toEqual((await lake.backend.objects.list('raw/shop/')).map((o) => o.key));
  });

  it('commits each incremental cursor in DynamoDB at version 1', async () => {
    for (const stream of ['customers', 'orders', 'events']) {
      const { cursor, version } = await lake.backend.state.getCursor('shop', stream);
      expect(version, stream).toBe(1);
      expect(cursor?.value, stream).toBe(run.streams[stream]!.cursorTo);
    }
  });

  it('registers one Glue table per stream whose projection finds every landed file', async () => {
    for (const stream of ['customers', 'orders', 'events']) {
      // Act
      const { Table } = await glue.send(
        new GetTableCommand({ DatabaseName: lake.names.glueDatabase, Name: `shop__${stream}` }),
      );

      // Assess
      expect(Table?.StorageDescriptor?.Location).toBe(`s3://${lake.names.bucket}/lake/raw/shop/${stream}/`);
      const visible = (await athenaFiles(lake.backend, Table!)).map((f) => f.key).sort();
      const landed = (await lake.backend.objects.list(`raw/shop/${stream}/`)).map((o) => o.key);
      expect(visible).toEqual(landed);
      expect(visible.length).toBe(run.streams[stream]!.files);
    }
  });

  it('makes every row queryable through the Glue columns, with the metadata columns', async () => {
    // Act
    const counts = await lake.athenaRows(`
      SELECT 'orders' AS s, count(*) AS n, count(DISTINCT _sluice_run_id) AS runs, min(_sluice_source) AS src FROM shop__orders
      UNION ALL SELECT 'customers', count(*), count(DISTINCT _sluice_run_id), min(_sluice_source) FROM shop__customers
      UNION ALL SELECT 'events', count(*), count(DISTINCT _sluice_run_id), min(_sluice_source) FROM shop__events`);

    // Assess
    for (const row of counts) {
      expect(Number(row.n), String(row.s)).toBe(run.streams[String(row.s)]!.rows);
      expect(Number(row.runs)).toBe(1);
      expect(row.src).toBe('shop');
    }
  });

  it('lands the changes of a second sync once, advancing cursors to version 2', async () => {
    // Act
    const second = await lake.sync();

    // Assess
    expect(second.status).toBe('SUCCEEDED');
    expect((await lake.backend.state.getCursor('shop', 'orders')).version).toBe(2);
    const rows = await landedSampleRows(lake);
    expect(new Set(rows).size).toBe(rows.length);
    const total = (r: RunRecord) => Object.values(r.streams).reduce((n, s) => n + s.rows, 0);
    expect(rows.length).toBe(total(run) + total(second));
    expect((await lake.backend.state.listRuns('shop')).map((r) => r.runId)).toEqual([
      second.runId,
      run.runId,
    ]);
  });
});

describe('schema evolution on AWS', () => {
  /** One incremental stream whose records gain a column (and widen one) from the second sync on. */
  function evolvingConnector(state: { phase: 1 | 2 }): Connector<never> {
    const stream: Stream = {
      name: 'items',
      primaryKey: ['id'],
      writeDisposition: 'merge',
      incremental: { cursorField: 'updated_at', initialValue: '2026-01-01T00:00:00.000Z' },
      async *read(ctx) {
        const records: SourceRecord[] = [];
        const base = state.phase === 1 ? 0 : 100;
        for (let i = 1; i <= 20; i++) {
          const id = base + i;
          const updated = new Date(Date.UTC(2026, 0, 1 + state.phase, 0, i)).toISOString();
          if (ctx.since !== undefined && updated < String(ctx.since)) continue;
          records.push(
            state.phase === 1
              ? { id, updated_at: updated, name: `item ${id}`, size: i }
              : { id, updated_at: updated, name: `item ${id}`, size: 3_000_000_000 + i, color: 'red' },
          );
        }
        yield records;
      },
    };
    return {
      type: 'evolving',
      description: 'test connector',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: () => [stream],
    } as Connector<never>;
  }

  it('updates the Glue table with the added and widened columns; old files stay readable', async () => {
    // Prepare
    const state = { phase: 1 as 1 | 2 };
    const now = new Date().toISOString();
    const lake = await openAwsTestLake({
      source: { name: 'inventory', type: 'evolving', config: {}, createdAt: now, updatedAt: now },
      connector: evolvingConnector(state),
      config: {},
    });
    const first = await lake.sync();
    const before = await glue.send(
      new GetTableCommand({ DatabaseName: lake.names.glueDatabase, Name: 'inventory__items' }),
    );

    // Act
    state.phase = 2;
    const second = await lake.sync();

    // Assess: the run reports the change and Glue follows it
    expect(first.status).toBe('SUCCEEDED');
    expect(second.streams.items!.schemaChanges).toEqual(
      expect.arrayContaining(['added column color (string)', 'widened size: int → bigint']),
    );
    const { Table } = await glue.send(
      new GetTableCommand({ DatabaseName: lake.names.glueDatabase, Name: 'inventory__items' }),
    );
    const typeOf = (t: typeof Table, name: string) =>
      t?.StorageDescriptor?.Columns?.find((c) => c.Name === name)?.Type;
    expect(typeOf(before.Table, 'color')).toBeUndefined();
    expect(typeOf(before.Table, 'size')).toBe('int');
    expect(typeOf(Table, 'color')).toBe('string');
    expect(typeOf(Table, 'size')).toBe('bigint');
    expect(Table?.Parameters?.['sluice.schema_version']).toBe('2');
    const versions = await glue.send(
      new GetTableVersionsCommand({ DatabaseName: lake.names.glueDatabase, TableName: 'inventory__items' }),
    );
    expect(versions.TableVersions?.length).toBeGreaterThanOrEqual(2);
    const definition = await lake.backend.catalog.getTable('inventory', 'items');
    expect(definition?.schemaVersions.map((v) => v.version)).toEqual([1, 2]);

    // Assess: both runs' files read through the evolved schema
    const rows = await lake.athenaRows(
      'SELECT id, size, color FROM inventory__items WHERE id IN (1, 101) ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 1, size: '1', color: null },
      { id: 101, size: '3000000001', color: 'red' },
    ]);
  });
});

describe('secrets on AWS', () => {
  it('keeps a secret config field in Secrets Manager, resolves it at sync, and never writes it to DynamoDB or logs', async () => {
    // Prepare
    const secret = `sk_live_${Math.random().toString(36).slice(2)}`;
    const seen: unknown[] = [];
    const configSchema: ConfigSchema = {
      type: 'object',
      required: ['api_key'],
      properties: { api_key: { type: 'string', secret: true }, region: { type: 'string' } },
    };
    const connector = {
      type: 'secretive',
      description: 'test connector that needs an API key',
      configSchema,
      check: async () => ({ ok: true }),
      streams: (config: { api_key: string }) => [
        {
          name: 'accounts',
          primaryKey: ['id'],
          writeDisposition: 'append',
          async *read(ctx) {
            seen.push(config.api_key);
            ctx.logger.info('reading accounts', { region: 'eu' });
            yield [{ id: 1, owner: 'ada' }];
          },
        } satisfies Stream,
      ],
    } as unknown as Connector<never>;
    const registry = createRegistry([connector]);
    const logged: string[] = [];
    const logger: Logger = {
      debug: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
      info: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
      warn: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
      error: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
    };
    const bootstrap = await openAwsTestLake();
    const { state, secrets } = bootstrap.backend;

    // Act
    const source = await createSource(
      { name: 'billing', type: 'secretive', config: { api_key: secret, region: 'eu' } },
      { state, secrets, registry },
    );
    const resolved = await resolveSource(source, { secrets, registry });
    const lake = await openAwsTestLake({
      names: bootstrap.names,
      source,
      connector: resolved.connector,
      config: resolved.config,
      logger,
    });
    const run = await lake.sync();

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(seen).toEqual([secret]);
    const ref = (source.config.api_key as { $secret: string }).$secret;
    expect(ref).toMatch(/^arn:aws:secretsmanager:/);
    expect(await secrets.get(ref)).toBe(secret);
    const items = await dynamodb.send(new ScanCommand({ TableName: bootstrap.names.table }));
    const stored = JSON.stringify(items.Items);
    expect(stored).toContain(ref);
    expect(stored).not.toContain(secret);
    expect(logged.join('\n')).not.toContain(secret);
    const files = await lake.backend.objects.list('');
    for (const file of files) {
      const text = Buffer.from((await lake.backend.objects.get(file.key))!).toString('latin1');
      expect(text, file.key).not.toContain(secret);
    }
  });
});

describe('two syncs of one source on AWS', () => {
  it('refuses the second while the first holds the lease in DynamoDB, then lands both runs once', async () => {
    // Prepare
    const lake = await openAwsTestLake();
    let release: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first!: Promise<RunRecord>;
    const started = new Promise<void>((resolve) => {
      first = lake.sync({
        onPhase: async (phase) => {
          if (phase === 'recovered') {
            resolve();
            await holding;
          }
        },
      });
    });
    await started;

    // Act
    const second = lake.sync();
    const refused = await second.catch((error: unknown) => error);
    const waiting = lake.sync({ leaseWaitMs: 30_000 });
    const lease = await lake.backend.state.getLease('shop');
    release();
    const firstRun = await first;
    const waited = await waiting;

    // Assess
    expect(refused).toBeInstanceOf(LeaseHeldError);
    expect(String((refused as Error).message)).toMatch(
      /source "shop" is being synced by run \S+ \(lease held until/,
    );
    // The owner names the run, with a token unique to the invocation holding it.
    expect(lease?.owner).toMatch(new RegExp(`^${firstRun.runId}/`));
    expect((refused as LeaseHeldError).owner).toBe(lease?.owner);
    expect(waited.status).toBe('SUCCEEDED');
    const rows = await landedSampleRows(lake);
    expect(new Set(rows).size).toBe(rows.length);
    const total = (r: RunRecord) => Object.values(r.streams).reduce((n, s) => n + s.rows, 0);
    expect(rows.length).toBe(total(firstRun) + total(waited));
    expect(await lake.backend.state.getLease('shop')).toBeUndefined();
  });

  it('never overlaps two syncs started at the same moment', async () => {
    // Prepare
    const lake = await openAwsTestLake();
    const events: string[] = [];
    const track = (name: string) => (phase: SyncPhase) => {
      if (phase === 'lease-acquired' || phase === 'run-recorded') events.push(`${name}:${phase}`);
    };

    // Act
    const [a, b] = await Promise.all([
      lake.sync({ leaseWaitMs: 60_000, onPhase: track('a') }),
      lake.sync({ leaseWaitMs: 60_000, onPhase: track('b') }),
    ]);

    // Assess: one ran entirely before the other
    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(events).toHaveLength(4);
    expect(events[0]!.split(':')[0]).toBe(events[1]!.split(':')[0]);
    expect(events[1]).toMatch(/:run-recorded$/);
    expect((await lake.backend.state.getCursor('shop', 'orders')).version).toBe(2);
  });
});
