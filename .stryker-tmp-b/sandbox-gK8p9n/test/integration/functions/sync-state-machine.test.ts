/**
 * The sync state machine as CDK renders it (infra/constructs/sync-orchestration.ts),
 * executed by the ASL interpreter in test/support/asl.ts with its Task states
 * invoking the real sync and stages handlers in-process, against the emulator
 * (S3, DynamoDB, Glue). The retry policy is the rendered one; only its waits
 * are scaled down. See docs/testing.md for why not moto's execution mode.
 */
// @ts-nocheck

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../../engine/ports.js';
import { SYNC_STAGES } from '../../../engine/stages.js';
import { SyncOrchestration } from '../../../infra/constructs/sync-orchestration.js';
import { type Execution, execute, type Json, type StateMachineDefinition } from '../../support/asl.js';
import { type AwsTestLake, landedSampleRows, openAwsTestLake, sampleSource } from '../aws/lake.js';

type Handler = (event: unknown, context: Context) => Promise<Json>;

const SYNC_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-sync';
const STAGES_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-stages';
/** Rows per slice: the 3,000-row sample source takes several slices. */
const SLICE_ROWS = 700;
const MARGIN_MS = 10_000;

function renderDefinition(): StateMachineDefinition {
  const stack = new Stack(new App(), 'Orchestration');
  new SyncOrchestration(stack, 'Sync', {
    syncFunction: lambda.Function.fromFunctionArn(stack, 'SyncFn', SYNC_ARN),
    stagesFunction: lambda.Function.fromFunctionArn(stack, 'StagesFn', STAGES_ARN),
    stages: SYNC_STAGES,
    scheduleGroupName: 'sluice-test',
  });
  const [machine] = Object.values(
    Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
  );
  const body = (machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString;
  const text =
    typeof body === 'string'
      ? body
      : (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
          .map((part) => {
            if (typeof part !== 'string') throw new Error(`unresolved part ${JSON.stringify(part)}`);
            return part;
          })
          .join('');
  return JSON.parse(text) as StateMachineDefinition;
}

function contextWith(remainingMs: number): Context {
  const until = Date.now() + remainingMs;
  return {
    awsRequestId: 'request',
    functionName: 'sluice-sync',
    getRemainingTimeInMillis: () => until - Date.now(),
  } as unknown as Context;
}

const entered = (execution: Execution, state: string): number =>
  execution.history.filter((e) => e.state === state && e.type === 'entered').length;

describe('the sync state machine on the emulator', () => {
  let lake: AwsTestLake;
  let reference: string[];
  let definition: StateMachineDefinition;
  let sync: Handler;
  let stages: Handler;

  /** The Lambda service: runs the handler named by the Task's resource with a 15-minute budget. */
  const invoke = (resource: string, payload: Json): Promise<Json> => {
    if (resource === SYNC_ARN) return sync(payload, contextWith(900_000));
    if (resource === STAGES_ARN) return stages(payload, contextWith(900_000));
    throw new Error(`no function ${resource}`);
  };

  async function addSource(name: string): Promise<SourceDefinition> {
    const source = sampleSource(name);
    await lake.backend.state.putSource(source);
    return source;
  }

  beforeAll(async () => {
    definition = renderDefinition();
    lake = await openAwsTestLake();
    const clean = await openAwsTestLake();
    await clean.sync();
    reference = await landedSampleRows(clean);
    Object.assign(process.env, {
      SLUICE_BUCKET: lake.names.bucket,
      SLUICE_TABLE: lake.names.table,
      SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
      SLUICE_LAKE_PREFIX: lake.names.prefix,
      SLUICE_SLICE_ROWS: String(SLICE_ROWS),
      SLUICE_SLICE_MARGIN_MS: String(MARGIN_MS),
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

  it('loops slices until drained, then finishes and runs the stages', async () => {
    // Prepare
    await addSource('happy');

    // Act
    const execution = await execute(definition, {
      name: 'happy-run-1',
      input: { source: 'happy', runId: 'happy-run-1' },
      invoke,
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(entered(execution, 'Slice')).toBeGreaterThan(3);
    expect(entered(execution, 'Stage catalog')).toBe(1);
    const run = await lake.backend.state.getRun('happy', 'happy-run-1');
    expect(run).toMatchObject({ status: 'SUCCEEDED', slices: entered(execution, 'Slice') });
    expect(await landedSampleRows(lake, 'happy')).toEqual(reference);
    expect(await lake.backend.state.getLease('happy')).toBeUndefined();
    expect(await lake.backend.objects.list('_runs/happy/')).toEqual([]);
  });

  it('names the run after the execution when a schedule starts it without a run id', async () => {
    // Prepare
    await addSource('scheduled');

    // Act
    const execution = await execute(definition, {
      name: 'sched-exec-7',
      input: { source: 'scheduled' },
      invoke,
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect((await lake.backend.state.getRun('scheduled', 'sched-exec-7'))?.status).toBe('SUCCEEDED');
  });

  it('passes the trigger’s streams to begin', async () => {
    // Prepare
    await addSource('picked');

    // Act
    const execution = await execute(definition, {
      name: 'picked-run',
      input: { source: 'picked', runId: 'picked-run', streams: ['orders'] },
      invoke,
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const run = await lake.backend.state.getRun('picked', 'picked-run');
    expect(Object.keys(run?.streams ?? {})).toEqual(['orders']);
  });

  it('retries a throttled invocation and a slice cut off by its deadline, and continues from the checkpoint', async () => {
    // Prepare: the Lambda service throttles the second slice once; the third slice's first
    // attempt starts with its time all but gone (its slice is cut off at once).
    await addSource('bumpy');
    let slices = 0;
    const faulty = async (resource: string, payload: Json, attempt: number): Promise<Json> => {
      const action = (payload as { action?: string }).action;
      if (action === 'slice' && attempt === 1) {
        slices++;
        if (slices === 2) {
          throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
        }
        if (slices === 3) return sync(payload, contextWith(1));
      }
      return invoke(resource, payload);
    };

    // Act
    const execution = await execute(definition, {
      name: 'bumpy-run',
      input: { source: 'bumpy', runId: 'bumpy-run' },
      invoke: faulty,
      timeScale: 0.001,
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const retries = execution.history.filter((e) => e.type === 'retry').map((e) => e.error);
    expect(retries).toEqual(['Lambda.TooManyRequestsException', 'TransientError']);
    expect((await lake.backend.state.getRun('bumpy', 'bumpy-run'))?.status).toBe('SUCCEEDED');
    expect(await landedSampleRows(lake, 'bumpy')).toEqual(reference);
  });

  it('records the run FAILED and releases the lease when a step fails for good', async () => {
    // Prepare: the source is deleted after the first slice
    await addSource('doomed');
    let slices = 0;
    const deleting = async (resource: string, payload: Json): Promise<Json> => {
      if ((payload as { action?: string }).action === 'slice' && ++slices === 2) {
        await lake.backend.state.deleteSource('doomed');
      }
      return invoke(resource, payload);
    };

    // Act
    const execution = await execute(definition, {
      name: 'doomed-run',
      input: { source: 'doomed', runId: 'doomed-run' },
      invoke: deleting,
    });

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'NotFoundError' });
    expect(entered(execution, 'RecordFailure')).toBe(1);
    expect(entered(execution, 'Finish')).toBe(0);
    const run = await lake.backend.state.getRun('doomed', 'doomed-run');
    expect(run).toMatchObject({ status: 'FAILED', error: 'source "doomed" does not exist' });
    expect(await lake.backend.state.getLease('doomed')).toBeUndefined();
  });

  it('runs a source once when a second execution is triggered during a run', async () => {
    // Prepare: the second execution starts while the first is in its first slice
    await addSource('busy');
    let second: Promise<Execution> | undefined;
    const racing = async (resource: string, payload: Json): Promise<Json> => {
      if ((payload as { action?: string }).action === 'slice' && second === undefined) {
        second = execute(definition, {
          name: 'busy-run-2',
          input: { source: 'busy', runId: 'busy-run-2' },
          invoke,
        });
        await second;
      }
      return invoke(resource, payload);
    };

    // Act
    const first = await execute(definition, {
      name: 'busy-run-1',
      input: { source: 'busy', runId: 'busy-run-1' },
      invoke: racing,
    });

    // Assess
    const other = await (second as Promise<Execution>);
    expect(first.status).toBe('SUCCEEDED');
    expect(other.status).toBe('SUCCEEDED');
    expect(entered(other, 'AlreadyRunning')).toBe(1);
    expect(entered(other, 'Slice')).toBe(0);
    expect(await lake.backend.state.getRun('busy', 'busy-run-2')).toBeUndefined();
    expect(await landedSampleRows(lake, 'busy')).toEqual(reference);
  });
});
