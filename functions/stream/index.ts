/**
 * The ingest stream's consumer Lambda (Kinesis event source mapping with
 * ReportBatchItemFailures, bisect on error and an SQS on-failure
 * destination; infra/constructs/stream-consumer.ts). Thin: consume.ts does
 * the work; here are the backend, the correlation keys and the metrics.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { backend } from '../shared/backend.js';
import { optionalEnv } from '../shared/env.js';
import { wrap } from '../shared/middleware.js';
import { engineLogger, logger, metrics, publishMetrics } from '../shared/powertools.js';
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
    const streams = Object.entries(landing.streams);
    const total = (field: 'rows' | 'bytes' | 'files') => streams.reduce((sum, [, s]) => sum + s[field], 0);
    publishMetrics({ source: landing.source }, [
      ['pushRecordsLanded', MetricUnit.Count, landing.landed],
      ['pushDuplicatesDropped', MetricUnit.Count, landing.duplicates],
      ['pushLatency', MetricUnit.Seconds, landing.latencySeconds],
      ['rows', MetricUnit.Count, total('rows')],
      ['bytes', MetricUnit.Bytes, total('bytes')],
      ['files', MetricUnit.Count, total('files')],
    ]);
    for (const [stream, stats] of streams) {
      publishMetrics({ source: landing.source, stream }, [
        ['rows', MetricUnit.Count, stats.rows],
        ['bytes', MetricUnit.Bytes, stats.bytes],
        ['files', MetricUnit.Count, stats.files],
        ['duration', MetricUnit.Milliseconds, stats.durationMs],
      ]);
      logger.info('stream landed', { source: landing.source, run: landing.runId, stream, ...stats });
    }
  }
  return result.response;
}

export const handler = wrap(handle);
