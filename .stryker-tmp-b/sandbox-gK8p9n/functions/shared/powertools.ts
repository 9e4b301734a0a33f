/**
 * Powertools singletons, one per container: JSON logs correlated by source
 * and run, EMF metrics, X-Ray traces. Service name and namespace come from
 * POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (set by CDK).
 */
// @ts-nocheck

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Logger as EngineLogger } from '../../connectors/sdk/types.js';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sluice';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Sluice',
});
export const tracer = new Tracer({ serviceName });

/** The engine's logger interface on Powertools Logger. */
export const engineLogger: EngineLogger = {
  debug: (message, extra) => logger.debug(message, extra ?? {}),
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};
