// @ts-nocheck
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { StageDefinition } from '../../engine/stages.js';

export interface SyncOrchestrationProps {
  /** The sync Lambda: actions `begin`, `slice`, `finish` and `fail` (functions/sync). */
  readonly syncFunction: lambda.IFunction;
  /** The stages Lambda: runs one stage of the list per invocation (functions/stages). */
  readonly stagesFunction: lambda.IFunction;
  /** The stages after a sync lands, in order (engine/stages.ts). */
  readonly stages: readonly StageDefinition[];
  /** Name of the EventBridge Scheduler group that holds one schedule per source. */
  readonly scheduleGroupName: string;
  /**
   * Where alarms go (failed executions).
   * @default no alarm actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Attempts of a step that failed transiently (Lambda throttling, `TransientError`).
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

/**
 * One sync as a Step Functions execution:
 *
 *   run id → begin → slice ⟲ (until drained) → finish → stages… → done
 *                    any failure → record FAILED, release the lease → fail
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

    let chain = sfn.Chain.start(finish);
    for (const stage of props.stages) {
      const step = invoke(
        `Stage ${stage.name}`,
        props.stagesFunction,
        // The run that landed: the execution's, or the unfinished one begin continued.
        { stage: stage.name, source, runId: sfn.JsonPath.stringAt('$.run.runId') },
        sfn.JsonPath.DISCARD,
      ).addCatch(recordFailure, onError);
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

    const failures = new cloudwatch.Alarm(this, 'FailedExecutions', {
      alarmDescription: 'A Sluice sync execution failed',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) failures.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
  }
}
