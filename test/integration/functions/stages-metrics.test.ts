/**
 * The quality stage's results as CloudWatch metrics: the stages handler
 * prints EMF lines (Powertools Metrics) on stdout, which Lambda turns into
 * metrics. `qualityFailures` must carry the `service` dimension alone, as the
 * `quality-failures` alarm (infra/constructs/monitoring.ts) watches it; the
 * per-check counts carry source, stream and check. The handler runs
 * in-process against moto; the failing check is a volume check (run
 * history), which needs no SQL.
 */
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { QualityCheck } from '../../../engine/stages/quality.js';
import { type AwsLakeNames, createAwsLake, openAwsTestLake, sampleSource } from '../aws/lake.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { Name: string; Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

const SMALL = { rows: 300, seed: 11, pageSize: 100 };
const context = {
  awsRequestId: 'request',
  functionName: 'sluice-stages',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

/** The EMF lines written to stdout while `act` runs. */
async function emfLines(act: () => Promise<unknown>): Promise<EmfLine[]> {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(String(chunk));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await act().catch(() => undefined);
  } finally {
    process.stdout.write = write;
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

/** The lines that define metric `name`. */
const defining = (lines: readonly EmfLine[], name: string) =>
  lines.filter((l) => l._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)));

const dimensionsOf = (line: EmfLine) => line._aws.CloudWatchMetrics[0]!.Dimensions.map((d) => [...d].sort());

describe('quality metrics from the stages handler', () => {
  let names: AwsLakeNames;
  let stages: Handler;

  beforeAll(async () => {
    names = await createAwsLake();
    Object.assign(process.env, {
      SLUICE_BUCKET: names.bucket,
      SLUICE_TABLE: names.table,
      SLUICE_GLUE_DATABASE: names.glueDatabase,
      SLUICE_LAKE_PREFIX: names.prefix,
      SLUICE_STAGE_LEASE_WAIT_MS: '0',
      POWERTOOLS_SERVICE_NAME: 'sluice-stages',
      POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    stages = (await import('../../../functions/stages/index.js')).handler as unknown as Handler;
  });

  /** A source synced once after five small runs, with the given checks on orders. */
  async function syncedSource(name: string, checks: readonly QualityCheck[]): Promise<string> {
    const source = { ...sampleSource(name, SMALL), quality: { orders: checks } };
    const synced = await openAwsTestLake({ names, source, config: SMALL });
    for (const [i, rows] of [9, 10, 11, 10, 12].entries()) {
      await synced.backend.state.putRun({
        runId: `2020010${i}T000000000Z-history`,
        source: name,
        status: 'SUCCEEDED',
        startedAt: `2020-01-0${i + 1}T00:00:00.000Z`,
        streams: {
          orders: {
            rows,
            bytes: 100,
            files: 1,
            durationMs: 1,
            skipped: 0,
            schemaChanges: [],
            cursorFrom: null,
            cursorTo: null,
            incremental: true,
          },
        },
      });
    }
    return (await synced.sync()).runId;
  }

  it('prints qualityFailures with the service dimension alone and per-check counts by source, stream and check', async () => {
    // Prepare: the volume check fails (error); not_null passes
    const runId = await syncedSource('gauged', [
      { type: 'volume', maxZ: 3.5, minRuns: 5 },
      { type: 'not_null', column: 'customer_id' },
    ]);

    // Act
    const lines = await emfLines(() =>
      stages({ stage: 'quality', source: 'gauged', runId, retryCount: 0 }, context),
    );

    // Assess
    const failures = defining(lines, 'qualityFailures');
    expect(failures).toHaveLength(1);
    expect(failures[0]!._aws.CloudWatchMetrics[0]!.Namespace).toBe('Sluice');
    expect(dimensionsOf(failures[0]!)).toEqual([['service']]);
    expect(failures[0]).toMatchObject({ service: 'sluice-stages', qualityFailures: 1 });
    const perCheck = defining(lines, 'qualityCheckFailures');
    expect(perCheck.map((l) => [l.check, l.qualityCheckFailures]).sort()).toEqual([
      ['not_null(customer_id)', 0],
      ['volume', 1],
    ]);
    for (const line of [...perCheck, ...defining(lines, 'qualityFailingRows')]) {
      expect(line._aws.CloudWatchMetrics[0]!.Namespace).toBe('Sluice');
      expect(dimensionsOf(line)).toEqual([['check', 'service', 'source', 'stream']]);
      expect(line).toMatchObject({ service: 'sluice-stages', source: 'gauged', stream: 'orders' });
    }
    const rows = defining(lines, 'qualityFailingRows').find((l) => l.check === 'volume');
    expect(rows?.qualityFailingRows).toBeGreaterThan(100);
  });

  it('counts a failing warn check in qualityFailures though the stage succeeds', async () => {
    // Prepare
    const runId = await syncedSource('warned', [{ type: 'volume', maxZ: 3.5, minRuns: 5, severity: 'warn' }]);
    let result: unknown;

    // Act
    const lines = await emfLines(async () => {
      result = await stages({ stage: 'quality', source: 'warned', runId, retryCount: 0 }, context);
    });

    // Assess
    expect(result).toMatchObject({ stage: 'quality', status: 'SUCCEEDED' });
    expect(defining(lines, 'qualityFailures')[0]).toMatchObject({ qualityFailures: 1 });
  });
});
