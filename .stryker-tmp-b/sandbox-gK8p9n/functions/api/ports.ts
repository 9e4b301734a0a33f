/**
 * What the API needs besides the engine's ports: a scheduler for sources'
 * schedules and a way to start a sync. AWS: EventBridge Scheduler and Step
 * Functions (adapters/aws/scheduler.ts, step-functions.ts); local: the
 * in-process scheduler and runner of `sluice serve` (cli/commands/serve.ts).
 */
// @ts-nocheck

import type { Catalog, ObjectStore, SecretStore, StateStore } from '../../engine/ports.js';
import type { EventSink } from '../../engine/push-events.js';
import type { ConnectorRegistry } from '../../engine/sources.js';

export interface ScheduleSpec {
  /** `rate(…)` or `cron(…)`, as EventBridge Scheduler reads them. */
  readonly expression: string;
  /** IANA zone for cron fields. */
  readonly timezone: string;
  /** False for a paused source: the schedule stays, disabled. */
  readonly enabled: boolean;
}

export interface SourceScheduler {
  /** Creates or replaces the source's schedule. */
  put(source: string, spec: ScheduleSpec): Promise<void>;
  /** Removes the source's schedule; succeeds when there is none. */
  delete(source: string): Promise<void>;
}

export interface StartedSync {
  readonly runId: string;
  /** Where the run executes (a Step Functions execution ARN on AWS). */
  readonly executionArn?: string;
}

export interface SyncTrigger {
  /** Starts a sync of the source as run `runId`; returns once it is started, not finished. */
  start(source: string, runId: string, streams?: readonly string[]): Promise<StartedSync>;
}

export interface ApiDeps {
  readonly state: StateStore;
  readonly secrets: SecretStore;
  readonly objects: ObjectStore;
  readonly catalog: Catalog;
  readonly registry: ConnectorRegistry;
  readonly scheduler: SourceScheduler;
  readonly trigger: SyncTrigger;
  /** Where pushed events go (the Kinesis ingest stream); push answers 501 without it. */
  readonly events?: EventSink;
  /** The CloudWatch alarm of each source's freshness SLA; none without it. */
  readonly alarms?: SourceAlarms;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/** A source's freshness alarm, kept with the source's lifecycle (adapters/aws/cloudwatch-alarms.ts). */
export interface SourceAlarms {
  /** Creates or replaces the alarm for an SLA of `slaMinutes`. */
  put(source: string, slaMinutes: number): Promise<void>;
  /** Removes it; succeeds when there is none. */
  delete(source: string): Promise<void>;
}
