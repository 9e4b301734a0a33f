/**
 * A pulled run's cost inputs against what actually ran: the state machine as
 * CDK renders it, executed by the ASL interpreter (test/support/asl.ts) with
 * the real sync and stages handlers against the emulator. The run record must
 * hold as many Lambda requests as the sync and stages functions served, as many state
 * transitions as the interpreter entered states and retried Tasks, and
 * GB-seconds and USD as computed by hand from the list prices.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRunId } from '../../../engine/layout.js';
import type { RunRecord } from '../../../engine/ports.js';
import { type Execution, execute, type Json, type StateMachineDefinition } from '../../support/asl.js';
import { renderSyncDefinition, STAGES_ARN, SYNC_ARN } from '../../support/sync-definition.js';
import { type AwsTestLake, openAwsTestLake, sampleSource } from '../aws/lake.js';

type Handler = (event: unknown, context: Context) => Promise<Json>;

const MEMORY_MB = 1769;
/** List prices, us-east-1, typed in from the AWS pricing pages (an oracle apart from engine/cost.ts). */
const GB_SECOND_USD = process.arch === 'arm64' ? 0.0000133334 : 0.0000166667;
const REQUEST_USD = 0.2 / 1_000_000;
const TRANSITION_USD = 0.025 / 1000;

function contextWith(remainingMs: number, requestId: string = randomUUID()): Context {
  const until = Date.now() + remainingMs;
  return {
    awsRequestId: requestId,
    functionName: 'sluice-sync',
    memoryLimitInMB: String(MEMORY_MB),
    getRemainingTimeInMillis: () => until - Date.now(),
  } as unknown as Context;
}

/** What Step Functions bills: every state entered and every retry of a Task. */
const billedTransitions = (execution: Execution): number =>
  execution.history.filter((e) => e.type === 'entered' || e.type === 'retry').length;

describe('the cost of a pulled run', () => {
  let lake: AwsTestLake;
  let definition: StateMachineDefinition;
  let sync: Handler;
  let stages: Handler;
  /** Every invocation of the sync and stages functions: its request id and its duration measured from outside. */
  let served: { requestId: string; action: string; ms: number }[];

  const call = async (fn: Handler, payload: Json, context: Context): Promise<Json> => {
    const started = performance.now();
    try {
      return await fn(payload, context);
    } finally {
      served.push({
        requestId: context.awsRequestId,
        action: String(
          (payload as { action?: string; stage?: string }).action ?? (payload as { stage?: string }).stage,
        ),
        ms: performance.now() - started,
      });
    }
  };
  const invoke = (resource: string, payload: Json): Promise<Json> => {
    if (resource === SYNC_ARN) return call(sync, payload, contextWith(900_000));
    if (resource === STAGES_ARN) return call(stages, payload, contextWith(900_000));
    throw new Error(`no function ${resource}`);
  };

  /** Assesses the record's cost against the interpreter's execution and the handler calls. */
  function expectCostOf(run: RunRecord | undefined, execution: Execution): void {
    const cost = run?.cost;
    expect(cost).toBeDefined();
    if (!cost) return;
    expect(cost.requests).toBe(served.length);
    expect(cost.stateTransitions).toBe(billedTransitions(execution));
    expect(cost.lambdaMs).toBeGreaterThan(0);
    expect(cost.lambdaMs).toBeLessThanOrEqual(served.reduce((sum, s) => sum + Math.ceil(s.ms), 0));
    expect(cost.memoryMb).toBe(MEMORY_MB);
    const gbSeconds = (cost.lambdaMs / 1000) * (MEMORY_MB / 1024);
    expect(cost.lambdaGbSeconds).toBeCloseTo(gbSeconds, 12);
    expect(cost.usd).toBeCloseTo(
      gbSeconds * GB_SECOND_USD + served.length * REQUEST_USD + billedTransitions(execution) * TRANSITION_USD,
      12,
    );
  }

  beforeAll(async () => {
    definition = renderSyncDefinition();
    lake = await openAwsTestLake();
    Object.assign(process.env, {
      SLUICE_BUCKET: lake.names.bucket,
      SLUICE_TABLE: lake.names.table,
      SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
      SLUICE_LAKE_PREFIX: lake.names.prefix,
      SLUICE_SLICE_ROWS: '1000',
      SLUICE_SLICE_MARGIN_MS: '10000',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });
    sync = (await import('../../../functions/sync/index.js')).handler as unknown as Handler;
    stages = (await import('../../../functions/stages/index.js')).handler as unknown as Handler;
  });

  afterAll(() => {
    delete process.env.SLUICE_SLICE_ROWS;
    delete process.env.SLUICE_SLICE_MARGIN_MS;
  });

  it('records the invocations, GB-seconds and transitions an API-started run executed, retries included', async () => {
    // Prepare: the third slice's first attempt starts with its time all but gone (a TransientError retry).
    served = [];
    await lake.backend.state.putSource(sampleSource('api'));
    const runId = newRunId(new Date());
    let slices = 0;
    const faulty = (resource: string, payload: Json, attempt: number): Promise<Json> => {
      if ((payload as { action?: string }).action === 'slice' && attempt === 1 && ++slices === 3) {
        return call(sync, payload, contextWith(1));
      }
      return invoke(resource, payload);
    };

    // Act
    const execution = await execute(definition, {
      name: `api-${runId}`,
      input: { source: 'api', runId },
      invoke: faulty,
      timeScale: 0.001,
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.history.filter((e) => e.type === 'retry').map((e) => e.error)).toEqual([
      'TransientError',
    ]);
    const run = await lake.backend.state.getRun('api', runId);
    expect(run?.status).toBe('SUCCEEDED');
    expect(served.filter((s) => s.action === 'slice').length).toBeGreaterThan(3);
    expectCostOf(run, execution);
  });

  it('counts the state that names a scheduled run after its execution', async () => {
    // Prepare: a schedule's input has no run id; Step Functions names the execution with a UUID.
    served = [];
    await lake.backend.state.putSource(sampleSource('scheduled'));
    const name = randomUUID();

    // Act
    const execution = await execute(definition, { name, input: { source: 'scheduled' }, invoke });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.history.map((e) => e.state)).toContain('NameRunAfterExecution');
    expectCostOf(await lake.backend.state.getRun('scheduled', name), execution);
  });

  it('counts the catch path of a run that fails for good', async () => {
    // Prepare: the source is deleted after the first slice
    served = [];
    await lake.backend.state.putSource(sampleSource('doomed'));
    const runId = newRunId(new Date());
    let slices = 0;
    const deleting = async (resource: string, payload: Json): Promise<Json> => {
      if ((payload as { action?: string }).action === 'slice' && ++slices === 2) {
        await lake.backend.state.deleteSource('doomed');
      }
      return invoke(resource, payload);
    };

    // Act
    const execution = await execute(definition, {
      name: `doomed-${runId}`,
      input: { source: 'doomed', runId },
      invoke: deleting,
    });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.history.map((e) => e.state)).toContain('RecordFailure');
    const run = await lake.backend.state.getRun('doomed', runId);
    expect(run?.status).toBe('FAILED');
    expectCostOf(run, execution);
  });

  it('counts an invocation once however often its usage is written, and a new invocation again', async () => {
    // Prepare: a finished run, and its finish step's request id
    served = [];
    await lake.backend.state.putSource(sampleSource('again'));
    const runId = newRunId(new Date());
    await execute(definition, { name: `again-${runId}`, input: { source: 'again', runId }, invoke });
    const before = (await lake.backend.state.getRun('again', runId))?.cost;
    const finish = served.findLast((s) => s.action === 'finish');
    const checkpoint = { source: 'again', runId, slice: 0, done: true };
    const payload = { action: 'finish', source: 'again', runId, checkpoint };

    // Act: the same invocation again, then a new one
    await sync(payload, contextWith(900_000, finish?.requestId));
    const same = (await lake.backend.state.getRun('again', runId))?.cost;
    await sync(payload, contextWith(900_000));
    const next = (await lake.backend.state.getRun('again', runId))?.cost;

    // Assess
    expect(finish).toBeDefined();
    expect(same).toEqual(before);
    expect(next?.requests).toBe((before?.requests ?? 0) + 1);
    expect(next?.lambdaMs).toBeGreaterThan(before?.lambdaMs ?? 0);
  });
});
