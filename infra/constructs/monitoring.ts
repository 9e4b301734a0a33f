import { Duration, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SluiceFunction } from './sluice-function.js';

/** As in our alerting practice: P1 service down (page), P2 degraded (same day), P3 business hours. */
export const Severity = { p1: 'P1', p2: 'P2', p3: 'P3' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

export interface MonitoredFunction {
  /** Short name in alarm names, e.g. `api`. */
  readonly name: string;
  readonly function: lambda.IFunction;
  /** Severity of its errors. */
  readonly severity: Severity;
}

export interface MonitoringProps {
  /** Alarm names start with it: `<prefix><severity>-<what>`. e.g. `sluice-dev-` */
  readonly alarmPrefix: string;
  readonly topic: sns.ITopic;
  /** The monitor Lambda's variables (the backend's). */
  readonly environment: Readonly<Record<string, string>>;
  readonly functions: readonly MonitoredFunction[];
  readonly stateMachine: sfn.IStateMachine;
  readonly deadLetters: sqs.IQueue;
  readonly stream: kinesis.IStream;
  /** The stream consumer (its IteratorAge is the push lag). */
  readonly consumer: lambda.IFunction;
  /** @default Duration.minutes(5) */
  readonly monitorInterval?: Duration;
  /** A pending manifest older than this is a stuck commit. @default Duration.minutes(10) */
  readonly stuckAfter?: Duration;
  /** Push lag that alarms. @default Duration.minutes(15) */
  readonly maxIteratorAge?: Duration;
}

const NAMESPACE = 'Sluice';
const MONITOR_SERVICE = 'sluice-monitor';

/**
 * Everything that tells an operator something is wrong before a consumer
 * does: the monitor Lambda on a schedule (freshness, stuck commits, failed
 * runs), the alarms (severity in each name, all to the SNS topic; runbook in
 * docs/operations.md) and the CloudWatch dashboard. Sources' freshness
 * alarms are made by the API with each source (adapters/aws/cloudwatch-alarms.ts).
 */
export class Monitoring extends Construct {
  public readonly monitor: SluiceFunction;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;

  public constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const interval = props.monitorInterval ?? Duration.minutes(5);
    this.monitor = new SluiceFunction(this, 'Monitor', {
      entry: 'functions/monitor/index.ts',
      description: 'Sluice monitor: freshness per source, stuck commits rolled forward, failed runs',
      serviceName: MONITOR_SERVICE,
      environment: {
        ...props.environment,
        SLUICE_STUCK_AFTER_MINUTES: String((props.stuckAfter ?? Duration.minutes(10)).toMinutes()),
        SLUICE_MONITOR_INTERVAL_MINUTES: String(interval.toMinutes()),
      },
      memorySize: 512,
      timeout: Duration.minutes(2),
    });
    new events.Rule(this, 'Schedule', {
      description: 'Runs the Sluice monitor',
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(this.monitor.function, { retryAttempts: 0 })],
    });
    // A failed check is not retried by Lambda either (it would, twice, beside the next scheduled run).
    this.monitor.function.configureAsyncInvoke({ retryAttempts: 0 });

    const action = new cloudwatchActions.SnsAction(props.topic);
    const alarm = (
      id: string,
      severity: Severity,
      what: string,
      metric: cloudwatch.IMetric,
      description: string,
      threshold = 0,
    ): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmName: `${props.alarmPrefix}${severity}-${what}`,
        alarmDescription: `${severity}: ${description} Runbook: docs/operations.md#${what}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };
    const sluiceMetric = (metricName: string, service: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic,
        period: interval,
      });
    const five = Duration.minutes(5);

    alarm(
      'RollForwardFailed',
      Severity.p1,
      'roll-forward-failed',
      sluiceMetric('rollForwardFailures', MONITOR_SERVICE),
      'a commit stuck after its commit point could not be rolled forward; readers may see part of a run.',
    );
    alarm(
      'MonitorErrors',
      Severity.p1,
      'monitor-errors',
      this.monitor.function.metricErrors({ period: five }),
      'the monitor failed: freshness is not published, so every freshness alarm goes off.',
    );
    alarm(
      'FailedRuns',
      Severity.p2,
      'failed-runs',
      sluiceMetric('runsFailed', MONITOR_SERVICE),
      'a sync or push run was recorded FAILED.',
    );
    alarm(
      'QualityFailures',
      Severity.p3,
      'quality-failures',
      sluiceMetric('qualityFailures', 'sluice-stages'),
      'a data-quality check failed on landed data.',
    );
    alarm(
      'DeadLetters',
      Severity.p2,
      'dlq-not-empty',
      props.deadLetters.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }),
      'pushed records the consumer gave up on are waiting in the DLQ.',
    );
    const iteratorAge = props.consumer.metric('IteratorAge', { period: five, statistic: 'Maximum' });
    alarm(
      'IteratorAge',
      Severity.p2,
      'iterator-age',
      iteratorAge,
      'pushed records wait too long before they land (consumer behind or failing).',
      (props.maxIteratorAge ?? Duration.minutes(15)).toMilliseconds(),
    );
    alarm(
      'ExecutionsFailed',
      Severity.p2,
      'executions-failed',
      props.stateMachine.metricFailed({ period: five }),
      'a sync execution failed.',
    );
    alarm(
      'ExecutionsTimedOut',
      Severity.p2,
      'executions-timed-out',
      props.stateMachine.metricTimedOut({ period: five }),
      'a sync execution timed out.',
    );
    for (const fn of props.functions) {
      alarm(
        `${fn.name}Errors`,
        fn.severity,
        `${fn.name}-errors`,
        fn.function.metricErrors({ period: five }),
        `the ${fn.name} Lambda failed invocations.`,
      );
      alarm(
        `${fn.name}Throttles`,
        Severity.p3,
        `${fn.name}-throttles`,
        fn.function.metricThrottles({ period: five }),
        `the ${fn.name} Lambda was throttled (account concurrency).`,
      );
    }

    const search = (expression: string, label: string) =>
      new cloudwatch.MathExpression({ expression, label, period: five, usingMetrics: {} });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.alarmPrefix}pipeline`,
      defaultInterval: Duration.hours(24),
    });
    // The CloudFormation schema of a dashboard takes no Tags (cfn-lint E3002), whatever the app tags.
    Tags.of(this.dashboard).remove('sluice:stage');
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Runs and failures',
        left: [
          props.stateMachine.metricStarted({ period: five }),
          props.stateMachine.metricSucceeded({ period: five }),
          props.stateMachine.metricFailed({ period: five }),
          sluiceMetric('runsFailed', MONITOR_SERVICE),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Rows and bytes landed',
        left: [search(`SEARCH('{${NAMESPACE},service,source} MetricName="rows"', 'Sum', 300)`, 'rows')],
        right: [search(`SEARCH('{${NAMESPACE},service,source} MetricName="bytes"', 'Sum', 300)`, 'bytes')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Freshness per source (s)',
        left: [search(`SEARCH('{${NAMESPACE},service,source} MetricName="freshness"', 'Maximum', 300)`, '')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Push lag and dead letters',
        left: [iteratorAge],
        right: [props.deadLetters.metricApproximateNumberOfMessagesVisible({ period: five })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration (p99)',
        left: props.functions.map((fn) => fn.function.metricDuration({ period: five, statistic: 'p99' })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: props.functions.map((fn) => fn.function.metricErrors({ period: five })),
        right: props.functions.map((fn) => fn.function.metricThrottles({ period: five })),
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }
}
