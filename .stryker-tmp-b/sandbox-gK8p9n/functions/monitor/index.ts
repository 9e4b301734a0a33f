/**
 * The monitor Lambda, on a schedule (infra/constructs/monitoring.ts):
 * publishes each source's freshness (EMF metric `freshness`, dimension
 * `source`) for the sources' SLA alarms, and rolls forward commits stuck
 * after their commit point (engine/monitor.ts). A roll-forward that fails
 * publishes `rollForwardFailures` (a P1 alarm watches it) and fails the
 * invocation, so Lambda's error alarm fires too.
 */
// @ts-nocheck

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { SluiceError } from '../../engine/errors.js';
import { recentFailedRuns, rollForwardStuck, sourceFreshness } from '../../engine/monitor.js';
import { backend } from '../shared/backend.js';
import { optionalEnv } from '../shared/env.js';
import { wrap } from '../shared/middleware.js';
import { engineLogger, logger, metrics } from '../shared/powertools.js';

export class RollForwardError extends SluiceError {
  public constructor(message: string) {
    super(message);
    this.name = 'RollForwardError';
  }
}

export interface MonitorReport {
  readonly sources: number;
  readonly rolledForward: number;
  readonly skipped: number;
}

async function handle(_event: unknown, _context: Context): Promise<MonitorReport> {
  const aws = backend();
  const now = new Date();
  const stuckAfterMs = Number(optionalEnv('SLUICE_STUCK_AFTER_MINUTES') ?? '10') * 60_000;
  const freshness = await sourceFreshness(aws, now);
  for (const entry of freshness) {
    const metric = metrics.singleMetric();
    metric.addDimension('source', entry.source);
    metric.addMetric('freshness', MetricUnit.Seconds, entry.seconds);
    metric.publishStoredMetrics();
  }
  const intervalMs = Number(optionalEnv('SLUICE_MONITOR_INTERVAL_MINUTES') ?? '5') * 60_000;
  metrics.addMetric(
    'runsFailed',
    MetricUnit.Count,
    await recentFailedRuns(aws, new Date(now.getTime() - intervalMs)),
  );
  const outcome = await rollForwardStuck({ ...aws, logger: engineLogger }, { now, stuckAfterMs });
  for (const rolled of outcome.rolledForward) {
    logger.warn('rolled a stuck commit forward', { source: rolled.source, run: rolled.runId });
  }
  metrics.addMetric('stuckCommitsRolledForward', MetricUnit.Count, outcome.rolledForward.length);
  metrics.addMetric('rollForwardFailures', MetricUnit.Count, outcome.failures.length);
  if (outcome.failures.length > 0) {
    for (const failure of outcome.failures) logger.error('roll-forward failed', failure);
    metrics.publishStoredMetrics();
    throw new RollForwardError(
      `${outcome.failures.length} stuck commits could not be rolled forward (first: ${outcome.failures[0]?.key}: ${outcome.failures[0]?.error})`,
    );
  }
  return { sources: freshness.length, rolledForward: outcome.rolledForward.length, skipped: outcome.skipped };
}

export const handler = wrap(handle);
