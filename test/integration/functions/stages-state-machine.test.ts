/**
 * The stages in the sync state machine: the definition CDK renders from
 * engine/stages/declarations.ts STAGES, executed by the ASL interpreter
 * (test/support/asl.ts) with the real sync and stages handlers in-process
 * against moto (S3, DynamoDB, Glue, Athena). moto's Athena accepts the
 * stages' SQL without running it, so these tests check the orchestration —
 * order, retries, the catch path, what reaches Athena, the run record — and
 * use failures that need no SQL: a volume check (run history), a held lease,
 * a cycle of models. The SQL itself runs on Trino (test/trino).
 */

import { randomUUID } from 'node:crypto';
import { AthenaClient, GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { newRunId } from '../../../engine/layout.js';
import type { RunRecord, SourceDefinition } from '../../../engine/ports.js';
import { STAGES } from '../../../engine/stages/declarations.js';
import { currentTableName } from '../../../engine/stages/merge-plan.js';
import { readWatermark } from '../../../engine/stages/watermark.js';
import { type Execution, execute, type Json, type StateMachineDefinition } from '../../support/asl.js';
import { renderSyncDefinition } from '../../support/sync-definition.js';
import { type AwsTestLake, openAwsTestLake, sampleSource } from '../aws/lake.js';

type Handler = (event: unknown, context: Context) => Promise<Json>;

const SYNC_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-sync';
const STAGES_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-stages';
const SMALL = { rows: 300, seed: 11, pageSize: 100 };

function contextWith(remainingMs: number): Context {
  const until = Date.now() + remainingMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'sluice-stages',
    getRemainingTimeInMillis: () => until - Date.now(),
  } as unknown as Context;
}

const entered = (execution: Execution, state: string): number =>
  execution.history.filter((e) => e.state === state && e.type === 'entered').length;

const stagesEntered = (execution: Execution): string[] =>
  execution.history.filter((e) => e.type === 'entered' && e.state.startsWith('Stage ')).map((e) => e.state);

/** The SQL Athena received (moto records every query it was sent). */
async function athenaQueries(): Promise<string[]> {
  const athena = new AthenaClient(clientConfig(AwsService.athena));
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await athena.send(
      new ListQueryExecutionsCommand({ ...(token ? { NextToken: token } : {}), MaxResults: 50 }),
    );
    ids.push(...(page.QueryExecutionIds ?? []));
    token = page.NextToken;
  } while (token);
  // moto has no BatchGetQueryExecution: one GetQueryExecution per id.
  const queries: string[] = [];
  for (const id of ids) {
    const got = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    queries.push(got.QueryExecution?.Query ?? '');
  }
  return queries;
}

describe('the stages in the sync state machine on the emulator', () => {
  let lake: AwsTestLake;
  let definition: StateMachineDefinition;
  let sync: Handler;
  let stages: Handler;

  const invoke = (resource: string, payload: Json): Promise<Json> => {
    if (resource === SYNC_ARN) return sync(payload, contextWith(900_000));
    if (resource === STAGES_ARN) return stages(payload, contextWith(900_000));
    throw new Error(`no function ${resource}`);
  };

  async function addSource(name: string, extra: Partial<SourceDefinition> = {}): Promise<SourceDefinition> {
    const source = { ...sampleSource(name, SMALL), ...extra };
    await lake.backend.state.putSource(source);
    return source;
  }

  async function run(name: string, runId: string): Promise<RunRecord> {
    const record = await lake.backend.state.getRun(name, runId);
    if (!record) throw new Error(`run ${runId} of ${name} is not recorded`);
    return record;
  }

  /** Holds the source's lease as another owner (a sync of the source running) before the chosen stage attempts. */
  function leaseHeldDuring(stage: string, attempts: (attempt: number) => boolean) {
    return async (resource: string, payload: Json, attempt: number): Promise<Json> => {
      const p = payload as { stage?: string; source?: string };
      if (p.stage === stage && p.source) {
        if (attempts(attempt)) await lake.backend.state.acquireLease(p.source, 'another-sync', 60_000);
        else await lake.backend.state.releaseLease(p.source, 'another-sync');
      }
      return invoke(resource, payload);
    };
  }

  beforeAll(async () => {
    definition = renderSyncDefinition(SYNC_ARN, STAGES_ARN);
    lake = await openAwsTestLake({ source: sampleSource('unused', SMALL) });
    Object.assign(process.env, {
      SLUICE_BUCKET: lake.names.bucket,
      SLUICE_TABLE: lake.names.table,
      SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
      SLUICE_LAKE_PREFIX: lake.names.prefix,
      SLUICE_STAGE_LEASE_WAIT_MS: '0',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });
    sync = (await import('../../../functions/sync/index.js')).handler as unknown as Handler;
    stages = (await import('../../../functions/stages/index.js')).handler as unknown as Handler;
  });

  afterAll(() => {
    delete process.env.SLUICE_STAGE_LEASE_WAIT_MS;
  });

  it('runs the declared stages in order after finish, each recorded, the merge through Athena', async () => {
    // Prepare
    await addSource('ordered');

    // Act
    const execution = await execute(definition, {
      name: 'ordered-run',
      input: { source: 'ordered', runId: 'ordered-run' },
      invoke,
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(stagesEntered(execution)).toEqual(STAGES.map((s) => `Stage ${s.name}`));
    const record = await run('ordered', 'ordered-run');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.stages?.map((s) => [s.name, s.status, s.attempts])).toEqual(
      STAGES.map((s) => [s.name, 'SUCCEEDED', 1]),
    );
    const watermark = await readWatermark(lake.backend.state, 'ordered', 'orders');
    expect(watermark.manifest).toBeDefined();
    const table = currentTableName('ordered', 'orders');
    expect((await lake.backend.objects.list(`_lineage/${table}/`)).map((o) => o.key)).toEqual([
      `_lineage/${table}/ordered-run.json`,
    ]);
    expect((await athenaQueries()).some((q) => q.startsWith(`MERGE INTO "${table}"`))).toBe(true);
    expect(await lake.backend.state.getLease('ordered')).toBeUndefined();
  });

  it('retries a stage with its declared policy and records the attempts it took', async () => {
    // Prepare: a sync of the source holds its lease during the merge's first two attempts
    await addSource('bumpy');
    const merge = STAGES.find((s) => s.name === 'merge')!;

    // Act
    const runId = newRunId(new Date());
    const execution = await execute(definition, {
      name: `bumpy-${runId}`,
      input: { source: 'bumpy', runId },
      invoke: leaseHeldDuring('merge', (attempt) => attempt <= 2),
      timeScale: 0.001,
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const retries = execution.history.filter((e) => e.type === 'retry');
    expect(retries.map((e) => [e.state, e.error])).toEqual([
      ['Stage merge', 'LeaseHeldError'],
      ['Stage merge', 'LeaseHeldError'],
    ]);
    expect(retries.map((e) => e.waitMs)).toEqual([
      merge.retry.intervalMs,
      merge.retry.intervalMs * merge.retry.backoffRate,
    ]);
    const record = await run('bumpy', runId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.stages?.find((s) => s.name === 'merge')).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 3,
    });
    // The cost estimate bills what Step Functions bills: every state entered and every retry.
    const billed = execution.history.filter((e) => e.type === 'entered' || e.type === 'retry').length;
    expect(record.cost?.stateTransitions).toBe(billed);
  });

  it('records the run FAILED through the one catch path when a stage’s retries run out', async () => {
    // Prepare: the lease stays held through every attempt of the merge
    await addSource('stuck');

    // Act
    const execution = await execute(definition, {
      name: 'stuck-run',
      input: { source: 'stuck', runId: 'stuck-run' },
      invoke: leaseHeldDuring('merge', () => true),
      timeScale: 0.001,
    });
    await lake.backend.state.releaseLease('stuck', 'another-sync');

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'LeaseHeldError' });
    expect(entered(execution, 'Stage merge')).toBe(1);
    expect(execution.history.filter((e) => e.type === 'retry')).toHaveLength(2);
    expect(entered(execution, 'RecordStageFailure')).toBe(1);
    expect(entered(execution, 'StagesFailed')).toBe(1);
    expect(entered(execution, 'Stage models')).toBe(0);
    const record = await run('stuck', 'stuck-run');
    expect(record.status).toBe('FAILED');
    expect(record.error).toMatch(/^stage merge failed after 3 attempts: .*another-sync/);
    expect(record.stages?.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['catalog', 'SUCCEEDED', 1],
      ['quality', 'SUCCEEDED', 1],
      ['merge', 'FAILED', 3],
      ['models', 'SKIPPED', 0],
    ]);
  });

  it('stops before the merge and records QUALITY_FAILED when a blocking quality check fails', async () => {
    // Prepare: five earlier runs landed about ten orders each; this one lands hundreds
    await addSource('gated', { quality: { orders: [{ type: 'volume', maxZ: 3.5, minRuns: 5 }] } });
    for (const [i, rows] of [9, 10, 11, 10, 12].entries()) {
      await lake.backend.state.putRun({
        runId: `2020010${i}T000000000Z-history`,
        source: 'gated',
        status: 'SUCCEEDED',
        startedAt: `2020-01-0${i + 1}T00:00:00.000Z`,
        endedAt: `2020-01-0${i + 1}T00:01:00.000Z`,
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

    // Act
    const execution = await execute(definition, {
      name: 'gated-run',
      input: { source: 'gated', runId: 'gated-run' },
      invoke,
      timeScale: 0.001,
    });

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'QualityFailedError' });
    expect(entered(execution, 'Stage quality')).toBe(1);
    expect(execution.history.filter((e) => e.type === 'retry')).toEqual([]);
    expect(entered(execution, 'Stage merge')).toBe(0);
    const record = await run('gated', 'gated-run');
    expect(record.status).toBe('QUALITY_FAILED');
    expect(record.error).toMatch(
      /^stage quality failed after 1 attempt: data-quality checks failed: orders: volume failed/,
    );
    expect(record.quality?.find((q) => q.check === 'volume')).toMatchObject({
      passed: false,
      severity: 'error',
    });
    expect(record.stages?.map((s) => [s.name, s.status])).toEqual([
      ['catalog', 'SUCCEEDED'],
      ['quality', 'FAILED'],
      ['merge', 'SKIPPED'],
      ['models', 'SKIPPED'],
    ]);
    expect((await readWatermark(lake.backend.state, 'gated', 'orders')).manifest).toBeUndefined();
    // The results are in the quality table all the same.
    expect((await lake.backend.objects.list('raw/gated/sluice_quality/')).length).toBeGreaterThan(0);
  });

  it('fails a stage at once, naming the file, when a model cannot run', async () => {
    // Prepare: two models that ref each other (kept in the lake under _models/)
    await addSource('modelled');
    const put = (key: string, sql: string) => lake.backend.objects.put(key, new TextEncoder().encode(sql));
    await put('_models/loop_a.sql', "SELECT * FROM ref('loop_b')");
    await put('_models/loop_b.sql', "SELECT * FROM ref('loop_a')");

    // Act
    const execution = await execute(definition, {
      name: 'modelled-run',
      input: { source: 'modelled', runId: 'modelled-run' },
      invoke,
      timeScale: 0.001,
    });
    await lake.backend.objects.delete('_models/loop_a.sql');
    await lake.backend.objects.delete('_models/loop_b.sql');

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'StageFatalError' });
    expect(execution.history.filter((e) => e.type === 'retry')).toEqual([]);
    const record = await run('modelled', 'modelled-run');
    expect(record.status).toBe('FAILED');
    expect(record.error).toMatch(/^stage models failed after 1 attempt: .*_models\/loop_a\.sql/);
  });

  it('compacts and expires current tables through Athena on a maintenance event, leaving a busy source', async () => {
    // Prepare: two sources whose current tables exist; one of them is syncing
    await addSource('kept');
    await addSource('busy');
    for (const name of ['kept', 'busy']) {
      const execution = await execute(definition, {
        name: `${name}-run`,
        input: { source: name, runId: `${name}-run` },
        invoke,
      });
      expect(execution.status).toBe('SUCCEEDED');
    }
    await lake.backend.state.acquireLease('busy', 'another-sync', 60_000);

    // Act
    const result = (await stages(
      { action: 'maintain', sources: ['kept', 'busy'] },
      contextWith(900_000),
    )) as {
      maintained: Record<string, { table: string; compacted: string; expired: string[] }[]>;
      busy: string[];
    };
    await lake.backend.state.releaseLease('busy', 'another-sync');

    // Assess
    const table = currentTableName('kept', 'orders');
    expect(result.busy).toEqual(['busy']);
    expect(result.maintained.kept?.map((t) => t.table)).toContain(table);
    const queries = await athenaQueries();
    expect(queries).toContain(`OPTIMIZE "${table}" REWRITE DATA USING BIN_PACK`);
    expect(queries).toContain(`VACUUM "${table}"`);
    expect(queries.some((q) => q.startsWith(`OPTIMIZE "${currentTableName('busy', 'orders')}"`))).toBe(false);
  });
});
