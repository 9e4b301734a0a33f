/**
 * The compaction job on the AWS adapters against the emulator (S3, Glue,
 * DynamoDB): push tables get registered Glue partitions and no projection,
 * compaction switches a partition with one UpdatePartition, and a reader
 * that applies Athena's rules (lake.ts: registered partitions, each read
 * recursively; registered partitions ignored under projection) sees every
 * pushed record exactly once at every step, across crashes and retries.
 * The oracle is the list of records pushed.
 */
import {
  GetPartitionCommand,
  GetTableCommand,
  GlueClient,
  type Table,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { pushStreams } from '../../../connectors/push/index.js';
import { silentLogger } from '../../../connectors/sdk/logger.js';
import {
  type CompactionJobOptions,
  type CompactionPhase,
  compactSource,
} from '../../../engine/compaction-job.js';
import { ConflictError } from '../../../engine/errors.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { landPushBatch } from '../../../engine/push.js';
import type { SyncDeps } from '../../../engine/run.js';
import { type AwsTestLake, athenaFiles, openAwsTestLake } from './lake.js';

const glue = new GlueClient(clientConfig(AwsService.glue));
const DAY = '2026-11-20';
const PARTITION = `dt=${DAY}`;
const NOW = new Date('2026-11-27T12:00:00Z');
const OPTIONS: CompactionJobOptions = { targetFileBytes: 1_000_000, minFiles: 2, leaseWaitMs: 2_000 };

function pushSource(name: string): SourceDefinition {
  return {
    name,
    type: 'push',
    config: { streams: [{ name: 'events' }] },
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
  };
}

describe('compaction on AWS', () => {
  let lake: AwsTestLake;
  let deps: SyncDeps;
  let now: Date;
  let pushed: number[];
  let sequence: number;

  beforeEach(async () => {
    lake = await openAwsTestLake({ source: pushSource('app') });
    now = NOW;
    deps = { ...lake.backend, logger: silentLogger, clock: () => now };
    pushed = [];
    sequence = 0;
  });

  async function push(batches: number, size: number): Promise<void> {
    for (let b = 0; b < batches; b++) {
      const records = Array.from({ length: size }, () => {
        sequence++;
        return {
          stream: 'events',
          data: { n: sequence } as never,
          sequenceNumber: String(1_000_000 + sequence),
          arrivedAt: new Date(`${DAY}T09:00:00Z`),
        };
      });
      await landPushBatch(deps, {
        source: lake.source,
        streams: pushStreams(lake.source.config as never),
        shardId: 'arn:aws:kinesis:us-east-1:123456789012:stream/ingest/shardId-000000000000',
        records,
      });
      pushed.push(...records.map((r) => (r.data as { n: number }).n));
    }
  }

  const glueTable = async (): Promise<Table> =>
    (await glue.send(new GetTableCommand({ DatabaseName: lake.names.glueDatabase, Name: 'app__events' })))
      .Table as Table;
  const partitionLocation = async (): Promise<string | undefined> =>
    (
      await glue.send(
        new GetPartitionCommand({
          DatabaseName: lake.names.glueDatabase,
          TableName: 'app__events',
          PartitionValues: [DAY],
        }),
      )
    ).Partition?.StorageDescriptor?.Location;
  /** What Athena reads: the record numbers, sorted (duplicates kept). */
  const athenaNumbers = async (): Promise<number[]> =>
    (await lake.athenaRows('SELECT n FROM app__events')).map((r) => Number(r.n)).sort((a, b) => a - b);
  /** The version directories the files Athena reads are in. */
  const athenaVersions = async (): Promise<string[]> =>
    [
      ...new Set(
        (await athenaFiles(lake.backend, await glueTable())).map((f) => /\/(v\d{5})\//.exec(f.key)?.[1]),
      ),
    ] as string[];

  it('lands a push table with registered partitions and no projection, as Athena needs to follow them', async () => {
    // Act
    await push(2, 3);

    // Assess
    const table = await glueTable();
    expect(table.Parameters?.['projection.enabled']).toBeUndefined();
    expect(table.Parameters?.['storage.location.template']).toBeUndefined();
    expect(table.Parameters?.['sluice.partitioning']).toBe('registered');
    expect(await partitionLocation()).toBe(lake.backend.objects.uri(`raw/app/events/${PARTITION}/v00000/`));
    expect(await athenaNumbers()).toEqual(pushed);
  });

  it('switches a partition with one catalog call while Athena sees one version, every record once', async () => {
    // Prepare
    await push(6, 4);
    const seen: { phase: CompactionPhase; versions: string[]; numbers: number[] }[] = [];

    // Act
    const result = await compactSource(deps, 'app', {
      ...OPTIONS,
      onPhase: async (phase) => {
        seen.push({ phase, versions: await athenaVersions(), numbers: await athenaNumbers() });
      },
    });

    // Assess
    expect(result.partitions).toMatchObject([
      { outcome: 'COMPACTED', filesBefore: 6, filesAfter: 1, rows: 24 },
    ]);
    expect(seen.map((s) => [s.phase, s.versions])).toEqual([
      ['staged', ['v00000']],
      ['manifest-written', ['v00000']],
      ['published', ['v00000']],
      ['switched', ['v00001']],
      ['marked', ['v00001']],
    ]);
    for (const step of seen) expect(step.numbers, step.phase).toEqual(pushed);
    expect(await partitionLocation()).toBe(lake.backend.objects.uri(`raw/app/events/${PARTITION}/v00001/`));
  });

  it.each(['manifest-written', 'switched'] as const)(
    'keeps every record exactly once after a crash at %s, a retry and the cleanup',
    async (crashAt) => {
      // Prepare
      await push(4, 3);
      let crashed = false;
      const options: CompactionJobOptions = {
        ...OPTIONS,
        graceMs: 0,
        onPhase: (phase) => {
          if (phase === crashAt && !crashed) {
            crashed = true;
            throw new Error(`crash at ${phase}`);
          }
        },
      };

      // Act
      const broken = await compactSource(deps, 'app', options);
      const between = await athenaNumbers();
      now = new Date(now.getTime() + 1);
      await compactSource(deps, 'app', options);
      now = new Date(now.getTime() + 1);
      await compactSource(deps, 'app', options);

      // Assess
      expect(broken.partitions[0]).toMatchObject({ outcome: 'FAILED', error: `crash at ${crashAt}` });
      expect(between).toEqual(pushed);
      expect(await athenaNumbers()).toEqual(pushed);
      expect(await athenaVersions()).toEqual(['v00001']);
      expect((await lake.backend.objects.list(`raw/app/events/${PARTITION}/v00000/`)).length).toBe(0);
      expect((await lake.backend.objects.list('_manifests/app/compaction/')).length).toBe(0);
    },
  );

  it('never runs two compactions of one source at once (DynamoDB leases)', async () => {
    // Prepare
    await push(4, 2);

    // Act
    const results = await Promise.all([
      compactSource(deps, 'app', { ...OPTIONS, leaseWaitMs: 0 }),
      compactSource(deps, 'app', { ...OPTIONS, leaseWaitMs: 0 }),
    ]);

    // Assess
    expect(results.flatMap((r) => r.partitions.map((p) => p.outcome)).sort()).toEqual(['BUSY', 'COMPACTED']);
    expect(await athenaNumbers()).toEqual(pushed);
  });

  it('drops projection when a projected table becomes a push table, keeping foreign parameters', async () => {
    // Prepare: a table first put the old way (projected), with a parameter set by someone else.
    const definition = {
      source: 'app',
      stream: 'legacy',
      location: 'raw/app/legacy/',
      primaryKey: [],
      writeDisposition: 'append',
      schemaVersions: [
        {
          version: 1,
          columns: [{ name: 'n', type: 'bigint' as const }],
          changes: [],
          runId: 'r1',
          createdAt: NOW.toISOString(),
        },
      ],
    };
    await lake.backend.catalog.putTable(definition);
    const name = { DatabaseName: lake.names.glueDatabase, Name: 'app__legacy' };
    const before = (await glue.send(new GetTableCommand(name))).Table as Table;
    expect(before.Parameters?.['projection.enabled']).toBe('true');
    await glue.send(
      new UpdateTableCommand({
        DatabaseName: lake.names.glueDatabase,
        TableInput: {
          Name: 'app__legacy',
          StorageDescriptor: before.StorageDescriptor,
          PartitionKeys: before.PartitionKeys,
          TableType: before.TableType,
          Parameters: { ...before.Parameters, owner: 'analytics' },
        },
      }),
    );

    // Act
    await lake.backend.catalog.putTable({ ...definition, partitioning: 'registered' });

    // Assess
    const after = (await glue.send(new GetTableCommand(name))).Table as Table;
    expect(Object.keys(after.Parameters ?? {}).filter((k) => k.startsWith('projection.'))).toEqual([]);
    expect(after.Parameters?.['storage.location.template']).toBeUndefined();
    expect(after.Parameters?.owner).toBe('analytics');
    expect((await lake.backend.catalog.getTable('app', 'legacy'))?.partitioning).toBe('registered');
  });

  it('refuses to switch a partition that is not where the caller says', async () => {
    // Prepare
    await push(1, 1);

    // Act
    const act = lake.backend.catalog.switchPartition(
      'app',
      'events',
      PARTITION,
      `raw/app/events/${PARTITION}/v00003/`,
      `raw/app/events/${PARTITION}/v00004/`,
    );

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConflictError);
    expect(await partitionLocation()).toBe(lake.backend.objects.uri(`raw/app/events/${PARTITION}/v00000/`));
  });
});
