import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface MaintenanceScheduleProps {
  /** The stages Lambda (functions/stages): it runs `{ action: 'maintain' }` events. */
  readonly stagesFunction: lambda.IFunction;
  /**
   * When maintenance runs.
   * @default daily at 03:30 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * Only these sources' current tables.
   * @default every source
   */
  readonly sources?: readonly string[];
}

/** Daily at 03:30 UTC: after the night's syncs on most schedules, before the working day. */
export const DEFAULT_MAINTENANCE_SCHEDULE = events.Schedule.cron({ minute: '30', hour: '3' });

/**
 * Compaction and expiry of the `current` Iceberg tables on a schedule: an
 * EventBridge rule invokes the stages Lambda with a maintenance event, which
 * runs engine/stages/maintenance.ts through Athena (`OPTIMIZE … REWRITE DATA
 * USING BIN_PACK`, then `VACUUM`) for each source under its lease; a source
 * busy syncing is left for the next run. Without it every merge's small files
 * and every snapshot would stay, and scans would slow down run by run.
 *
 * Not the Step Functions Athena integration: which tables exist, whether the
 * merge has written them, and the lease are runtime state the Lambda reads.
 */
export class MaintenanceSchedule extends Construct {
  public readonly rule: events.Rule;

  public constructor(scope: Construct, id: string, props: MaintenanceScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Compacts and expires the Sluice current tables (OPTIMIZE BIN_PACK, VACUUM)',
      schedule: props.schedule ?? DEFAULT_MAINTENANCE_SCHEDULE,
      targets: [
        new targets.LambdaFunction(props.stagesFunction, {
          event: events.RuleTargetInput.fromObject({
            action: 'maintain',
            ...(props.sources === undefined ? {} : { sources: [...props.sources] }),
          }),
          // Covers delivery only (e.g. while Lambda throttles the invocation), within the hour.
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
    // A run that fails is not run again by Lambda (it would retry twice, OPTIMIZE and VACUUM of every
    // source each time): the stages-errors alarm reports it, and the next day's run picks it up.
    props.stagesFunction.configureAsyncInvoke({ retryAttempts: 0 });
  }
}
