import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  FATAL_STAGE_ERRORS,
  type StageDeclaration,
  validateStages,
} from '../../engine/stages/declarations.js';

export interface SyncOrchestrationProps {
  /** The sync Lambda: actions `begin`, `slice`, `finish` and `fail` (functions/sync). */
  readonly syncFunction: lambda.IFunction;
  /** The stages Lambda: one attempt of one stage per invocation, and the stages' catch path (functions/stages). */
  readonly stagesFunction: lambda.IFunction;
  /** The stages after a sync lands, in order, each with its retry policy (engine/stages/declarations.ts STAGES). */
  readonly stages: readonly StageDeclaration[];
  /** Name of the EventBridge Scheduler group that holds one schedule per source. */
  readonly scheduleGroupName: string;
  /**
   * Retries of a step that failed transiently (Lambda's own errors, `TransientError`): Step Functions'
   * `MaxAttempts`, which counts retries, so 6 means up to 7 attempts in all.
   * @default 6
   */
  readonly maxAttempts?: number;
  /**
   * Longest a whole run may take.
   * @default Duration.hours(24)
   */
  readonly runTimeout?: Duration;
}

/** Errors worth another attempt of the same step: Lambda's own hiccups and the engine's transient failures. */
export const RETRYABLE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
  'TransientError',
] as const;

/** A run of this source is in progress (the lease is taken): this execution ends without running. */
export const LEASE_HELD_ERROR = 'LeaseHeldError';

/** A stage's Retry from its declaration: Step Functions counts retries, the declaration attempts. */
export function stageRetry(stage: StageDeclaration): sfn.RetryProps {
  return {
    errors: [sfn.Errors.ALL],
    interval: Duration.seconds(Math.max(1, Math.ceil(stage.retry.intervalMs / 1000))),
    maxAttempts: stage.retry.maxAttempts - 1,
    backoffRate: stage.retry.backoffRate,
    maxDelay: Duration.seconds(Math.max(1, Math.ceil(stage.retry.maxDelayMs / 1000))),
  };
}

/**
 * One sync as a Step Functions execution:
 *
 *   run id → begin → slice ⟲ (until drained) → finish → Stage <name>… → done
 *                    a sync step fails → record FAILED, release the lease → fail
 *                    a stage fails for good → record FAILED / QUALITY_FAILED → fail
 *
 * The stages are the declared list (engine/stages/declarations.ts), one Task
 * state each, invoking the stages Lambda for one attempt of that stage. Its
 * Retry comes from the declaration, after a first retrier that stops at once
 * on errors a retry cannot fix (a failed `error` quality check, a model that
 * does not run). A failing execution is what alerts: the Monitoring
 * construct's `executions-failed` alarm.
 *
 * Each slice is one Lambda invocation that stops well before its timeout and
 * hands on a small checkpoint reference, so a run outlives any invocation.
 * Every step retries transient errors with exponential backoff and full
 * jitter; a retried slice continues from the last published checkpoint.
 * A second trigger while a run holds the source's lease ends at once
 * (`AlreadyRunning`): two runs of one source never overlap.
 *
 * The Scheduler group holds each source's schedule (created by the API); the
 * role here is the one those schedules assume to start executions.
 */
export class SyncOrchestration extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly scheduleGroup: scheduler.CfnScheduleGroup;
  public readonly schedulerRole: iam.Role;

  public constructor(scope: Construct, id: string, props: SyncOrchestrationProps) {
    super(scope, id);
    validateStages(props.stages);
    const retry: sfn.RetryProps = {
      errors: [...RETRYABLE_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: props.maxAttempts ?? 6,
      backoffRate: 2,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    };
    const runId = sfn.JsonPath.stringAt('$.runId');
    const source = sfn.JsonPath.stringAt('$.source');
    const invoke = (
      name: string,
      fn: lambda.IFunction,
      payload: Record<string, unknown>,
      resultPath: string,
    ) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath,
      }).addRetry(retry);

    const recordFailure = invoke(
      'RecordFailure',
      props.syncFunction,
      { action: 'fail', source, runId, error: sfn.JsonPath.objectAt('$.error') },
      sfn.JsonPath.DISCARD,
    );
    const failed = new sfn.Fail(this, 'Failed', {
      errorPath: sfn.JsonPath.stringAt('$.error.Error'),
      causePath: sfn.JsonPath.stringAt('$.error.Cause'),
    });
    recordFailure.next(failed);
    const onError = { errors: [sfn.Errors.ALL], resultPath: '$.error' };

    // The execution's input goes along whole: its optional `streams` cannot be addressed by a path that may be absent.
    const begin = invoke(
      'Begin',
      props.syncFunction,
      { action: 'begin', source, runId, trigger: sfn.JsonPath.objectAt('$') },
      '$.run',
    );
    begin.addCatch(new sfn.Succeed(this, 'AlreadyRunning', { comment: 'another run holds the lease' }), {
      errors: [LEASE_HELD_ERROR],
      resultPath: '$.error',
    });
    begin.addCatch(recordFailure, onError);

    const slice = invoke(
      'Slice',
      props.syncFunction,
      { action: 'slice', source, runId, checkpoint: sfn.JsonPath.objectAt('$.run.checkpoint') },
      '$.run',
    ).addCatch(recordFailure, onError);
    const finish = invoke(
      'Finish',
      props.syncFunction,
      { action: 'finish', source, runId, checkpoint: sfn.JsonPath.objectAt('$.run.checkpoint') },
      '$.run',
    ).addCatch(recordFailure, onError);

    // The stages' one catch path: the run recorded FAILED (QUALITY_FAILED for a failed error check).
    const recordStageFailure = invoke(
      'RecordStageFailure',
      props.stagesFunction,
      {
        action: 'fail',
        source,
        runId: sfn.JsonPath.stringAt('$.run.runId'),
        error: sfn.JsonPath.objectAt('$.error'),
      },
      sfn.JsonPath.DISCARD,
    );
    recordStageFailure.next(
      new sfn.Fail(this, 'StagesFailed', {
        errorPath: sfn.JsonPath.stringAt('$.error.Error'),
        causePath: sfn.JsonPath.stringAt('$.error.Cause'),
      }),
    );
    let chain = sfn.Chain.start(finish);
    for (const stage of props.stages) {
      const step = new tasks.LambdaInvoke(this, `Stage ${stage.name}`, {
        comment: stage.description,
        lambdaFunction: props.stagesFunction,
        payload: sfn.TaskInput.fromObject({
          stage: stage.name,
          source,
          // The run that landed: the execution's, or the unfinished one begin continued.
          runId: sfn.JsonPath.stringAt('$.run.runId'),
          retryCount: sfn.JsonPath.numberAt('$$.State.RetryCount'),
        }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath: sfn.JsonPath.DISCARD,
      })
        .addRetry({ errors: [...FATAL_STAGE_ERRORS], maxAttempts: 0 })
        .addRetry(stageRetry(stage))
        .addCatch(recordStageFailure, onError);
      chain = chain.next(step);
    }
    chain = chain.next(new sfn.Succeed(this, 'Done'));

    const drained = new sfn.Choice(this, 'Drained?')
      .when(sfn.Condition.booleanEquals('$.run.done', true), chain)
      .otherwise(slice);
    slice.next(drained);

    // Triggers from the API pass the run id; schedules do not, so the execution's name becomes it.
    const namedRun = new sfn.Pass(this, 'NameRunAfterExecution', {
      parameters: { 'source.$': '$.source', 'runId.$': '$$.Execution.Name' },
    });
    const definition = new sfn.Choice(this, 'HasRunId?')
      .when(sfn.Condition.isPresent('$.runId'), begin)
      .otherwise(namedRun.next(begin));
    begin.next(drained);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Sluice sync: begin, slices until drained, finish, stages',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: props.runTimeout ?? Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', {
      name: props.scheduleGroupName,
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to start Sluice sync executions',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.stateMachine.grantStartExecution(this.schedulerRole);
  }
}
