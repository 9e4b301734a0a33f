/**
 * What a pulled run tells CloudWatch: the sync handler's EMF metrics (rows,
 * bytes, files, duration per source and per stream) and its JSON logs
 * correlated by source, run and stream — read from the handler's real
 * stdout while the rendered state machine runs it against the emulator.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { newRunId } from '../../../engine/layout.js';
import { execute, type Json, type StateMachineDefinition } from '../../support/asl.js';
import { renderSyncDefinition, STAGES_ARN, SYNC_ARN } from '../../support/sync-definition.js';
import { type AwsTestLake, openAwsTestLake, sampleSource } from '../aws/lake.js';

type Handler = (event: unknown, context: Context) => Promise<Json>;

interface Emf {
  readonly _aws: {
    CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  readonly [key: string]: unknown;
}

const context = () =>
  ({
    awsRequestId: randomUUID(),
    functionName: 'sluice-sync',
    memoryLimitInMB: '1769',
    getRemainingTimeInMillis: () => 900_000,
  }) as unknown as Context;

describe('a pulled run’s metrics and logs', () => {
  let lake: AwsTestLake;
  let definition: StateMachineDefinition;
  let sync: Handler;
  let stages: Handler;

  beforeAll(async () => {
    definition = renderSyncDefinition();
    lake = await openAwsTestLake();
    Object.assign(process.env, {
      SLUICE_BUCKET: lake.names.bucket,
      SLUICE_TABLE: lake.names.table,
      SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
      SLUICE_LAKE_PREFIX: lake.names.prefix,
      SLUICE_SLICE_ROWS: '2000',
      POWERTOOLS_SERVICE_NAME: 'sluice-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    sync = (await import('../../../functions/sync/index.js')).handler as unknown as Handler;
    stages = (await import('../../../functions/stages/index.js')).handler as unknown as Handler;
  });

  it('publishes rows, bytes, files and duration per source and per stream, and logs by source, run and stream', async () => {
    // Prepare
    await lake.backend.state.putSource(sampleSource('metered'));
    const runId = newRunId(new Date());
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });

    // Act
    let status: string;
    try {
      const execution = await execute(definition, {
        name: `metered-${runId}`,
        input: { source: 'metered', runId },
        invoke: (resource, payload) => (resource === SYNC_ARN ? sync : stages)(payload, context()),
      });
      status = execution.status;
    } finally {
      spy.mockRestore();
    }

    // Assess
    expect(STAGES_ARN).not.toBe(SYNC_ARN);
    expect(status).toBe('SUCCEEDED');
    const run = await lake.backend.state.getRun('metered', runId);
    const docs = out
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const emf = docs.filter((d): d is Emf => d._aws !== undefined);
    const dimensionsOf = (d: Emf) => d._aws.CloudWatchMetrics[0]?.Dimensions[0]?.join(',');
    const perSource = emf.filter((d) => dimensionsOf(d) === 'service,source' && d.rows !== undefined);
    expect(perSource).toHaveLength(1);
    // The dashboard's rows and bytes widgets search {Sluice,service,source}: no total may go without its source.
    const landedTotals = emf.filter((d) => d.rows !== undefined || d.bytes !== undefined);
    for (const d of landedTotals) expect(d._aws.CloudWatchMetrics[0]?.Dimensions[0]).toContain('source');
    const streams = Object.entries(run?.streams ?? {});
    const sum = (field: 'rows' | 'bytes' | 'files') => streams.reduce((s, [, x]) => s + x[field], 0);
    expect(perSource[0]).toMatchObject({
      service: 'sluice-sync',
      source: 'metered',
      rows: sum('rows'),
      bytes: sum('bytes'),
      files: sum('files'),
      duration: Date.parse(run?.endedAt ?? '') - Date.parse(run?.startedAt ?? ''),
    });
    const perStream = emf.filter((d) => dimensionsOf(d) === 'service,source,stream');
    expect(perStream.map((d) => [d.stream, d.rows, d.bytes, d.files, d.duration]).sort()).toEqual(
      streams.map(([name, s]) => [name, s.rows, s.bytes, s.files, s.durationMs]).sort(),
    );
    const logs = docs.filter((d) => d._aws === undefined && d.message !== undefined);
    const landed = logs.filter((d) => d.message === 'stream landed');
    expect(landed.map((d) => [d.source, d.run, d.stream]).sort()).toEqual(
      streams.map(([name]) => ['metered', runId, name]).sort(),
    );
    const steps = logs.filter((d) => d.message === 'sync step finished');
    expect(steps.length).toBeGreaterThanOrEqual(3);
    for (const step of steps) expect([step.source, step.run]).toEqual(['metered', runId]);
  });
});
