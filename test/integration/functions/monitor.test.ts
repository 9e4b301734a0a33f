/**
 * The monitor's work and the sources' SLA alarms against the emulator:
 * alarms follow a source's lifecycle through the API (moto's CloudWatch),
 * freshness comes from run history, and a push batch that died after its
 * commit point is rolled forward exactly once — while a writer that still
 * holds its lease is left alone, and a commit that cannot be rolled forward
 * is reported.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchSourceAlarms } from '../../../adapters/aws/cloudwatch-alarms.js';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { registry } from '../../../connectors/index.js';
import { pushStreams } from '../../../connectors/push/index.js';
import { silentLogger } from '../../../connectors/sdk/logger.js';
import { writePendingManifest } from '../../../engine/commit.js';
import { rollForwardStuck, sourceFreshness } from '../../../engine/monitor.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { landPushBatch, type PushedRecord, shardLeaseName, shardMarkStream } from '../../../engine/push.js';
import { createApi } from '../../../functions/api/routes.js';
import { type AwsTestLake, openAwsTestLake } from '../aws/lake.js';
import { uniqueName } from '../aws/support.js';

const cloudwatch = new CloudWatchClient(clientConfig(AwsService.cloudWatch));

function pushSource(name: string): SourceDefinition {
  const now = new Date().toISOString();
  return { name, type: 'push', config: { streams: [{ name: 'events' }] }, createdAt: now, updatedAt: now };
}

function records(from: number, count: number, arrivedAt = new Date()): PushedRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    stream: 'events',
    data: { n: from + i },
    sequenceNumber: String(1_000_000 + from + i),
    arrivedAt,
  }));
}

describe('the monitor', () => {
  let lake: AwsTestLake;
  const deps = () => ({ ...lake.backend, logger: silentLogger });

  beforeAll(async () => {
    lake = await openAwsTestLake({ source: pushSource('app') });
  });

  it('creates, updates and deletes a source freshness alarm with the source', async () => {
    // Prepare
    const prefix = `${uniqueName('sluice')}-`;
    const alarms = new CloudWatchSourceAlarms({
      client: cloudwatch,
      namePrefix: prefix,
      actions: ['arn:aws:sns:us-east-1:123456789012:alarms'],
    });
    const api = createApi({
      ...lake.backend,
      registry,
      scheduler: { put: async () => undefined, delete: async () => undefined },
      trigger: { start: async () => expect.unreachable() },
      alarms,
    });
    const call = (method: string, path: string, body?: unknown) =>
      api.handle({
        method,
        path,
        query: {},
        headers: {},
        body: body === undefined ? undefined : JSON.stringify(body),
        requestId: 'test',
      });
    const alarm = async () =>
      (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix }))).MetricAlarms ?? [];

    // Act + Assess
    const created = await call('POST', '/sources', {
      name: 'hooks',
      type: 'push',
      config: { streams: [{ name: 'events' }] },
      sla: { freshness: 'PT2H' },
    });
    expect(created.statusCode).toBe(201);
    expect((await alarm()).map((a) => [a.AlarmName, a.Threshold, a.MetricName])).toEqual([
      [`${prefix}P2-freshness-hooks`, 7200, 'freshness'],
    ]);
    expect((await alarm())[0]!.Dimensions).toContainEqual({ Name: 'source', Value: 'hooks' });
    // One late monitor run (an empty 5-minute period, breaching) does not page; two in a row do.
    expect((await alarm())[0]).toMatchObject({
      Period: 300,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
    });
    expect((await call('PATCH', '/sources/hooks', { slaMinutes: 30 })).statusCode).toBe(200);
    expect((await alarm()).map((a) => a.Threshold)).toEqual([1800]);
    expect((await call('PATCH', '/sources/hooks', { slaMinutes: null })).statusCode).toBe(200);
    expect(await alarm()).toEqual([]);
    expect((await call('PATCH', '/sources/hooks', { sla: { freshness: 'PT5M' } })).statusCode).toBe(200);
    expect((await alarm()).map((a) => a.Threshold)).toEqual([300]);
    const bad = await call('PATCH', '/sources/hooks', { sla: { freshness: '2 hours' } });
    expect([bad.statusCode, JSON.parse(bad.body).error.field]).toEqual([400, 'sla.freshness']);
    expect((await alarm()).map((a) => a.Threshold)).toEqual([300]);
    expect((await call('DELETE', '/sources/hooks')).statusCode).toBe(200);
    expect(await alarm()).toEqual([]);
  });

  it('rolls a push batch stuck after its commit point forward once, and reports freshness', async () => {
    // Prepare: a batch that died right after its commit point.
    const source = pushSource('app');
    const streams = pushStreams(source.config as never);
    const shardId = 'arn:aws:kinesis:us-east-1:123456789012:stream/s/shardId-000000000000';
    await expect(
      landPushBatch(
        deps(),
        { source, streams, shardId, records: records(0, 30) },
        {
          onPhase: (phase) => {
            if (phase === 'manifest-written') throw new Error('crash');
          },
        },
      ),
    ).rejects.toThrow('crash');
    const pending = await lake.backend.objects.list('_manifests/app/pending/');
    const now = new Date();

    // Act
    const early = await rollForwardStuck(deps(), { now, stuckAfterMs: 600_000 });
    const late = await rollForwardStuck(deps(), {
      now: new Date(now.getTime() + 900_000),
      stuckAfterMs: 600_000,
    });
    const again = await rollForwardStuck(deps(), {
      now: new Date(now.getTime() + 900_000),
      stuckAfterMs: 600_000,
    });
    const redelivered = await landPushBatch(deps(), { source, streams, shardId, records: records(0, 30) });
    const freshness = await sourceFreshness(lake.backend, new Date(Date.now() + 60_000));

    // Assess
    expect(pending).toHaveLength(1);
    expect(early.rolledForward).toEqual([]);
    expect(late.rolledForward.map((r) => r.source)).toEqual(['app']);
    expect(again.rolledForward).toEqual([]);
    expect(redelivered.landed).toBe(0);
    expect(Number((await lake.athenaRows('SELECT count(*) AS n FROM app__events'))[0]!.n)).toBe(30);
    expect((await lake.backend.state.listRuns('app')).map((r) => r.status)).toEqual(['SUCCEEDED']);
    const app = freshness.find((f) => f.source === 'app')!;
    expect(app.seconds).toBeGreaterThanOrEqual(59);
    expect(app.seconds).toBeLessThan(120);
  });

  it('leaves a commit whose writer holds its lease, and reports one it cannot roll forward', async () => {
    // Prepare
    const source = pushSource('app');
    await lake.backend.state.putSource(source);
    const shardId = 'arn:aws:kinesis:us-east-1:123456789012:stream/s/shardId-000000000007';
    const manifest = {
      format: 2 as const,
      runId: '20260101T000000000Z-pbad',
      source: 'app',
      createdAt: new Date(0).toISOString(),
      slice: 1,
      // Expects a mark version that never existed: another writer "moved" it.
      streams: [
        {
          name: shardMarkStream(shardId),
          files: [],
          cursor: { expectedVersion: 7, next: { value: '99', keysAtValue: [] } },
        },
      ],
    };
    await writePendingManifest(lake.backend.objects, manifest);
    await lake.backend.state.acquireLease(shardLeaseName('app', shardId), 'live-writer', 60_000);

    // Act
    const held = await rollForwardStuck(deps(), { now: new Date(), stuckAfterMs: 1 });
    await lake.backend.state.releaseLease(shardLeaseName('app', shardId), 'live-writer');
    const failed = await rollForwardStuck(deps(), { now: new Date(), stuckAfterMs: 1 });

    // Assess
    expect(held.skipped).toBe(1);
    expect(held.failures).toEqual([]);
    expect(failed.failures).toHaveLength(1);
    expect(failed.failures[0]!.error).toContain('expected version 7');
  });
});
