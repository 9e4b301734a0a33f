import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SluiceFunction } from './sluice-function.js';

export const COMPACTION_SERVICE = 'sluice-compaction';

export interface CompactionScheduleSettings {
  /** How often the job runs. @default Duration.days(1) */
  readonly rate?: Duration;
  /** The size compacted files aim for. @default 134217728 (128 MiB) */
  readonly targetFileBytes?: number;
  /** How long superseded files stay for queries planned before a switch (longer than the longest Athena query). @default Duration.hours(1) */
  readonly gracePeriod?: Duration;
}

export interface CompactionScheduleProps extends CompactionScheduleSettings {
  /** The backend's variables (functions/shared/env.ts). */
  readonly environment: Readonly<Record<string, string>>;
  readonly bucket: s3.IBucket;
  readonly table: dynamodb.ITable;
  /** The Glue catalog, database and table ARNs of this stage. */
  readonly glueResources: readonly string[];
  readonly alarmTopic: sns.ITopic;
  /** Alarm names start with it: `<prefix>P3-compaction-failed`. */
  readonly alarmPrefix: string;
}

/** Checked settings with their defaults (pure, so tests and docs share them). */
export function compactionDefaults(
  settings: CompactionScheduleSettings,
): Required<CompactionScheduleSettings> {
  const rate = settings.rate ?? Duration.days(1);
  const targetFileBytes = settings.targetFileBytes ?? 128 * 1024 * 1024;
  const gracePeriod = settings.gracePeriod ?? Duration.hours(1);
  if (rate.toMinutes({ integral: false }) < 60)
    throw new Error(`compaction rate must be at least 1 hour, got ${rate.toHumanString()}`);
  if (!Number.isInteger(targetFileBytes) || targetFileBytes < 1024 * 1024) {
    throw new Error(
      `compaction targetFileBytes must be a whole number of at least 1 MiB, got ${targetFileBytes}`,
    );
  }
  if (gracePeriod.toMinutes({ integral: false }) < 1) {
    throw new Error(`compaction gracePeriod must be at least 1 minute, got ${gracePeriod.toHumanString()}`);
  }
  return { rate, targetFileBytes, gracePeriod };
}

/**
 * The scheduled compaction of push tables' small files
 * (functions/compaction, docs/push.md "Compaction"): an EventBridge rule
 * runs the function; it reads and rewrites the lake, holds leases in the
 * state table, and switches Glue partitions. A failed partition fails the
 * invocation, which a P3 alarm reports: data stays correct and readable,
 * only the small files remain until a run succeeds.
 */
export class CompactionSchedule extends Construct {
  public readonly handler: SluiceFunction;
  public readonly alarm: cloudwatch.Alarm;

  public constructor(scope: Construct, id: string, props: CompactionScheduleProps) {
    super(scope, id);
    const settings = compactionDefaults(props);
    this.handler = new SluiceFunction(this, 'Compaction', {
      entry: 'functions/compaction/index.ts',
      description: 'Sluice compaction: rewrites small pushed files into target-size files',
      serviceName: COMPACTION_SERVICE,
      environment: {
        ...props.environment,
        SLUICE_COMPACTION_TARGET_BYTES: String(settings.targetFileBytes),
        SLUICE_COMPACTION_GRACE_MINUTES: String(settings.gracePeriod.toMinutes({ integral: false })),
      },
      parquet: true,
      timeout: Duration.minutes(15),
    });
    const fn = this.handler.function;
    new events.Rule(this, 'Schedule', {
      description: 'Runs the Sluice compaction of push tables',
      schedule: events.Schedule.rate(settings.rate),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
    // Nor does Lambda run a failed job again (it would, twice): the alarm reports it, the next run resumes.
    fn.configureAsyncInvoke({ retryAttempts: 0 });

    // The lake (read, rewrite, move, delete superseded versions), leases and cursors, and the catalog's partitions.
    props.bucket.grantReadWrite(fn);
    props.table.grantReadWriteData(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetTables',
          'glue:UpdateTable',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:UpdatePartition',
        ],
        resources: [...props.glueResources],
      }),
    );

    this.alarm = new cloudwatch.Alarm(this, 'Failed', {
      alarmName: `${props.alarmPrefix}P3-compaction-failed`,
      alarmDescription:
        'P3: the compaction job failed for at least one partition; readers are unaffected, small files remain. ' +
        'Runbook: docs/operations.md#compaction-failed',
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new cloudwatchActions.SnsAction(props.alarmTopic);
    this.alarm.addAlarmAction(action);
    this.alarm.addOkAction(action);
  }
}
