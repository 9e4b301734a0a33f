/**
 * Each source's freshness SLA as a CloudWatch alarm on the `freshness`
 * metric the monitor publishes (functions/monitor), created, updated and
 * deleted with the source through the API. Missing data breaches: a monitor
 * that stopped publishing is as bad as a stale source. It takes two breaching
 * periods in a row: a monitor run that starts late leaves one period empty,
 * which alone must not page, while a real breach alarms within two periods.
 */
import {
  type CloudWatchClient,
  DeleteAlarmsCommand,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import type { SourceAlarms } from '../../functions/api/ports.js';

export interface CloudWatchSourceAlarmsOptions {
  readonly client: CloudWatchClient;
  /** Alarm names start with it: `<prefix>P2-freshness-<source>`. e.g. `sluice-dev-` */
  readonly namePrefix: string;
  /** Where the alarm notifies (the SNS topic). */
  readonly actions: readonly string[];
  /** @default 'Sluice' */
  readonly namespace?: string;
  /** The `service` dimension Powertools adds to the monitor's metrics. @default 'sluice-monitor' */
  readonly service?: string;
  /** The monitor's schedule: one datapoint per period. @default 300 */
  readonly periodSeconds?: number;
}

export const FRESHNESS_METRIC = 'freshness';

/** Consecutive breaching periods (of `periodSeconds`) that put a freshness alarm in ALARM. */
export const FRESHNESS_BREACHING_PERIODS = 2;

export class CloudWatchSourceAlarms implements SourceAlarms {
  public constructor(private readonly options: CloudWatchSourceAlarmsOptions) {}

  public alarmName(source: string): string {
    return `${this.options.namePrefix}P2-freshness-${source}`;
  }

  public async put(source: string, slaMinutes: number): Promise<void> {
    const period = this.options.periodSeconds ?? 300;
    await this.options.client.send(
      new PutMetricAlarmCommand({
        AlarmName: this.alarmName(source),
        AlarmDescription:
          `P2 (degraded): source ${source} has landed nothing new for longer than its SLA of ${slaMinutes} min. ` +
          'Runbook: docs/operations.md#freshness',
        Namespace: this.options.namespace ?? 'Sluice',
        MetricName: FRESHNESS_METRIC,
        Dimensions: [
          { Name: 'service', Value: this.options.service ?? 'sluice-monitor' },
          { Name: 'source', Value: source },
        ],
        Statistic: 'Maximum',
        Period: period,
        EvaluationPeriods: FRESHNESS_BREACHING_PERIODS,
        DatapointsToAlarm: FRESHNESS_BREACHING_PERIODS,
        Threshold: slaMinutes * 60,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [...this.options.actions],
        OKActions: [...this.options.actions],
      }),
    );
  }

  public async delete(source: string): Promise<void> {
    await this.options.client.send(new DeleteAlarmsCommand({ AlarmNames: [this.alarmName(source)] }));
  }
}
