/**
 * The ingest stream's consumer Lambda (Kinesis event source mapping with
 * ReportBatchItemFailures, bisect on error and an SQS on-failure
 * destination; infra/constructs/stream-consumer.ts). Thin: consume.ts does
 * the work; here are the backend, the correlation keys and the metrics.
 */
// @ts-nocheck

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { backend } from '../shared/backend.js';
import { optionalEnv } from '../shared/env.js';
import { wrap } from '../shared/middleware.js';
import { engineLogger, logger, metrics } from '../shared/powertools.js';
import { consumeBatch } from './consume.js';

function targetFileBytes(): number | undefined {
  const value = optionalEnv('SLUICE_PUSH_TARGET_FILE_BYTES');
  return value === undefined ? undefined : Number(value);
}

async function handle(event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> {
  const target = targetFileBytes();
  const memoryMb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 1769);
  const result = await consumeBatch(
    {
      backend: backend(),
      logger: engineLogger,
      options: { memoryMb, ...(target ? { targetFileBytes: target } : {}) },
    },
    event,
    context,
  );
  metrics.addMetric('pushRecordsFailed', MetricUnit.Count, result.failed);
  for (const landing of result.landings) {
    logger.info('push batch landed', {
      source: landing.source,
      run: landing.runId,
      streams: Object.keys(landing.streams),
      landed: landing.landed,
      duplicates: landing.duplicates,
    });
    const perSource = metrics.singleMetric();
    perSource.addDimension('source', landing.source);
    perSource.addMetric('pushRecordsLanded', MetricUnit.Count, landing.landed);
    perSource.addMetric('pushDuplicatesDropped', MetricUnit.Count, landing.duplicates);
    perSource.addMetric('pushLatency', MetricUnit.Seconds, landing.latencySeconds);
    for (const stats of Object.values(landing.streams)) {
      perSource.addMetric('rows', MetricUnit.Count, stats.rows);
      perSource.addMetric('bytes', MetricUnit.Bytes, stats.bytes);
      perSource.addMetric('files', MetricUnit.Count, stats.files);
    }
    perSource.publishStoredMetrics();
  }
  return result.response;
}

export const handler = wrap(handle);
