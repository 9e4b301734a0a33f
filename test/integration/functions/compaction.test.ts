/**
 * The compaction handler as `cdk deploy` ships it (bundled, run from an
 * empty directory in a fresh Node process) against the emulator: pushed
 * batches of a day five days ago are compacted by one invocation and the
 * superseded version deleted by the next, once the grace period is over.
 * Rows are read back with Athena's rules (lake.ts) and compared with the
 * records pushed.
 */
import { GetTableCommand, GlueClient, type Table } from '@aws-sdk/client-glue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { pushStreams } from '../../../connectors/push/index.js';
import { silentLogger } from '../../../connectors/sdk/logger.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { landPushBatch } from '../../../engine/push.js';
import { type BuiltHandler, buildHandler } from '../../support/bundle.js';
import { emulatorEnv, type HandlerRun, runBundledHandler } from '../../support/handler-runner.js';
import { type AwsTestLake, athenaFiles, openAwsTestLake } from '../aws/lake.js';

const glue = new GlueClient(clientConfig(AwsService.glue));

function pushSource(name: string): SourceDefinition {
  const now = new Date().toISOString();
  return { name, type: 'push', config: { streams: [{ name: 'events' }] }, createdAt: now, updatedAt: now };
}

describe('the bundled compaction handler', () => {
  let built: BuiltHandler;
  let lake: AwsTestLake;
  let run: HandlerRun;
  const pushed: number[] = [];
  const day = new Date(Date.now() - 5 * 86_400_000);
  const partition = `dt=${day.toISOString().slice(0, 10)}`;

  beforeAll(async () => {
    built = buildHandler('functions/compaction/index.ts', { parquet: true });
    lake = await openAwsTestLake({ source: pushSource('app') });
    for (let batch = 0; batch < 5; batch++) {
      const records = Array.from({ length: 4 }, (_, i) => ({
        stream: 'events',
        data: { n: batch * 4 + i } as never,
        sequenceNumber: String(1_000_000 + batch * 4 + i),
        arrivedAt: day,
      }));
      await landPushBatch(
        { ...lake.backend, logger: silentLogger },
        {
          source: lake.source,
          streams: pushStreams(lake.source.config as never),
          shardId: 'shardId-000000000000',
          records,
        },
      );
      pushed.push(...records.map((r) => (r.data as { n: number }).n));
    }
    run = await runBundledHandler(built.dir, [{}, {}], {
      ...emulatorEnv(),
      SLUICE_BUCKET: lake.names.bucket,
      SLUICE_TABLE: lake.names.table,
      SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
      SLUICE_LAKE_PREFIX: lake.names.prefix,
      SLUICE_COMPACTION_TARGET_BYTES: String(1024 * 1024),
      // 6 ms: the second invocation comes after the grace period and deletes the old version.
      SLUICE_COMPACTION_GRACE_MINUTES: '0.0001',
      POWERTOOLS_SERVICE_NAME: 'sluice-compaction',
    });
  }, 240_000);

  afterAll(() => built?.remove());

  it('ships only the bundle, the encoder worker and the wasm', () => {
    expect(Object.keys(built.files).sort()).toEqual([
      'index.mjs',
      'parquet-worker.cjs',
      'parquet_wasm_bg.wasm',
    ]);
  });

  it('compacts the partition in one invocation and deletes the old version in the next', async () => {
    // Assess
    expect(run.invocations.map((i) => i.ok)).toEqual([true, true]);
    expect(run.invocations[0]?.result).toMatchObject({
      sources: 1,
      compacted: 1,
      failed: 0,
      partitions: [{ partition, outcome: 'COMPACTED', filesBefore: 5, filesAfter: 1, rows: 20 }],
    });
    expect(run.invocations[1]?.result).toMatchObject({
      partitions: [{ partition, outcome: 'UNCHANGED', recovered: ['cleaned'] }],
    });
    const table = (
      await glue.send(new GetTableCommand({ DatabaseName: lake.names.glueDatabase, Name: 'app__events' }))
    ).Table as Table;
    const files = await athenaFiles(lake.backend, table);
    expect(files.map((f) => /\/(v\d{5})\//.exec(f.key)?.[1])).toEqual(['v00001']);
    const rows = await lake.athenaRows('SELECT n FROM app__events');
    expect(rows.map((r) => Number(r.n)).sort((a, b) => a - b)).toEqual(pushed);
    expect(await lake.backend.objects.list(`raw/app/events/${partition}/v00000/`)).toEqual([]);
  });
});
