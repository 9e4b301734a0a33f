/**
 * The compaction Lambda, on a schedule (infra/constructs/compaction-schedule.ts):
 * compacts the small files of every push source's partitions that are at
 * least two days old (engine/compaction-job.ts, docs/push.md "Compaction").
 * Settings come from the environment: `SLUICE_COMPACTION_TARGET_BYTES`,
 * `SLUICE_COMPACTION_GRACE_MINUTES`. A partition that fails publishes
 * `compactionFailures` (an alarm watches it) and fails the invocation; the
 * next run resumes it from its manifest.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { CompactionOutcome, compactSource, type PartitionCompaction } from '../../engine/compaction-job.js';
import { SluiceError } from '../../engine/errors.js';
import { backend } from '../shared/backend.js';
import { EnvError, optionalEnv } from '../shared/env.js';
import { wrap } from '../shared/middleware.js';
import { engineLogger, logger, metrics } from '../shared/powertools.js';

export class CompactionJobError extends SluiceError {
  public constructor(message: string) {
    super(message);
    this.name = 'CompactionJobError';
  }
}

export interface CompactionReport {
  readonly sources: number;
  readonly compacted: number;
  readonly failed: number;
  readonly partitions: readonly PartitionCompaction[];
}

/** Stops starting new partitions this long before Lambda's timeout: a partition's rewrite needs the time. */
const RESERVE_MS = 120_000;

function positiveNumber(key: string, fallback: number): number {
  const text = optionalEnv(key);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new EnvError(key, `${key} must be a positive number, got "${text}"`);
  return value;
}

async function handle(_event: unknown, context: Context): Promise<CompactionReport> {
  const aws = backend();
  const targetFileBytes = positiveNumber('SLUICE_COMPACTION_TARGET_BYTES', 128 * 1024 * 1024);
  const graceMs = positiveNumber('SLUICE_COMPACTION_GRACE_MINUTES', 60) * 60_000;
  const signal = AbortSignal.timeout(Math.max(1_000, context.getRemainingTimeInMillis() - RESERVE_MS));
  const sources = (await aws.state.listSources()).filter((s) => s.type === 'push');
  const partitions: PartitionCompaction[] = [];
  for (const source of sources) {
    if (signal.aborted) break;
    const result = await compactSource({ ...aws, logger: engineLogger }, source.name, {
      targetFileBytes,
      graceMs,
      signal,
    });
    for (const partition of result.partitions) {
      const log = partition.outcome === CompactionOutcome.failed ? logger.error : logger.info;
      log.call(logger, 'compaction', { ...partition });
      partitions.push(partition);
    }
  }
  const count = (outcome: CompactionOutcome) => partitions.filter((p) => p.outcome === outcome).length;
  const failed = partitions.filter((p) => p.outcome === CompactionOutcome.failed);
  metrics.addMetric('partitionsCompacted', MetricUnit.Count, count(CompactionOutcome.compacted));
  metrics.addMetric('compactionFailures', MetricUnit.Count, failed.length);
  metrics.addMetric(
    'filesCompacted',
    MetricUnit.Count,
    partitions.reduce(
      (sum, p) => sum + (p.outcome === CompactionOutcome.compacted ? (p.filesBefore ?? 0) : 0),
      0,
    ),
  );
  if (failed.length > 0) {
    metrics.publishStoredMetrics();
    throw new CompactionJobError(
      `${failed.length} partitions could not be compacted (first: ${failed[0]?.source}.${failed[0]?.stream} ${failed[0]?.partition}: ${failed[0]?.error})`,
    );
  }
  return { sources: sources.length, compacted: count(CompactionOutcome.compacted), failed: 0, partitions };
}

export const handler = wrap(handle, { timeoutEarlyInMillis: 0 });
