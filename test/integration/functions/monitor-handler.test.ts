/**
 * The monitor Lambda as CloudWatch sees it: one `freshness` EMF document per
 * source, under the `source` dimension the SLA alarms watch, read from the
 * handler's real stdout against the emulator.
 */
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type AwsTestLake, openAwsTestLake, sampleSource } from '../aws/lake.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

describe('the monitor handler', () => {
  let lake: AwsTestLake;
  let handler: Handler;

  beforeAll(async () => {
    lake = await openAwsTestLake({ source: sampleSource('synced', { rows: 50, seed: 1 }) });
    Object.assign(process.env, {
      SLUICE_BUCKET: lake.names.bucket,
      SLUICE_TABLE: lake.names.table,
      SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
      SLUICE_LAKE_PREFIX: lake.names.prefix,
      POWERTOOLS_SERVICE_NAME: 'sluice-monitor',
      POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });
    handler = (await import('../../../functions/monitor/index.js')).handler as unknown as Handler;
  });

  it('publishes each source’s freshness under its source dimension', async () => {
    // Prepare: one source synced just now, one created an hour ago that never ran
    await lake.sync();
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await lake.backend.state.putSource({ ...sampleSource('idle'), createdAt: hourAgo, updatedAt: hourAgo });
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });

    // Act
    try {
      await handler({}, {
        awsRequestId: 'monitor-1',
        functionName: 'sluice-monitor',
        getRemainingTimeInMillis: () => 60_000,
      } as unknown as Context);
    } finally {
      spy.mockRestore();
    }

    // Assess
    const freshness = out
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map(
        (line) =>
          JSON.parse(line) as Record<string, unknown> & {
            _aws?: { CloudWatchMetrics: { Dimensions: string[][] }[] };
          },
      )
      .filter((doc) => doc.freshness !== undefined);
    const bySource = Object.fromEntries(freshness.map((doc) => [doc.source, doc]));
    expect(Object.keys(bySource).sort()).toEqual(['idle', 'synced']);
    expect(bySource.synced?._aws?.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'source']]);
    expect(bySource.synced?.freshness as number).toBeLessThan(60);
    expect(bySource.idle?.freshness as number).toBeGreaterThanOrEqual(3600);
    expect(bySource.idle?.freshness as number).toBeLessThan(3700);
  });
});
