/**
 * Powertools singletons, one per container: JSON logs correlated by source
 * and run, EMF metrics, X-Ray traces. Service name and namespace come from
 * POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (set by CDK).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, type MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Logger as EngineLogger } from '../../connectors/sdk/types.js';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sluice';
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Sluice';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace });
export const tracer = new Tracer({ serviceName });

/** The engine's logger interface on Powertools Logger. */
export const engineLogger: EngineLogger = {
  debug: (message, extra) => logger.debug(message, extra ?? {}),
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};

export type MetricValue = readonly [
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
];

/**
 * Publishes metrics under extra dimensions (e.g. `source`, `stream`) as one
 * EMF document, at once. Not `metrics.singleMetric()`: that flushes at every
 * `addMetric` and forgets its dimensions with the first flush, so every
 * metric after the first would land without them.
 */
export function publishMetrics(
  dimensions: Readonly<Record<string, string>>,
  values: readonly MetricValue[],
): void {
  if (values.length === 0) return;
  const batch = new Metrics({ serviceName, namespace });
  batch.addDimensions({ ...dimensions });
  for (const [name, unit, value] of values) batch.addMetric(name, unit, value);
  batch.publishStoredMetrics();
}
