/**
 * The sync Lambda. Thin: find the source, resolve its secrets, run the engine
 * through the AWS adapters, report metrics.
 *
 * TEMPORARY (issue 9 builds on issue 8): this runs a whole sync in one
 * invocation with `runSync`. The engine developer's slice API
 * (`beginRun` → `runSlice(checkpoint, { deadline })` → `finishRun`) replaces
 * the `runSync` call below with one action per state of the state machine
 * (infra/constructs/sync-orchestration.ts); the event and output shapes
 * there are already the sliced ones.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { registry } from '../../connectors/index.js';
import { NotFoundError, ValidationError } from '../../engine/errors.js';
import { keepEncoderWarm, warmEncoder } from '../../engine/parquet/index.js';
import type { RunRecord } from '../../engine/ports.js';
import { resolveSource } from '../../engine/sources.js';
import { runSync } from '../../engine/sync.js';
import { backend } from '../shared/backend.js';
import { wrap } from '../shared/middleware.js';
import { engineLogger, logger, metrics } from '../shared/powertools.js';

// One encoder thread per container, started while the container initialises and kept between invocations.
keepEncoderWarm();
warmEncoder().catch((error: unknown) =>
  logger.warn('Parquet encoder thread did not start; encoding inline', { error }),
);

export interface SyncEvent {
  readonly source: string;
  /** The run id (Step Functions passes one derived from its execution name). */
  readonly runId?: string;
}

export interface SyncResult {
  readonly source: string;
  readonly runId: string;
  readonly status: RunRecord['status'];
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
}

export function parseSyncEvent(event: unknown): SyncEvent {
  const body = (event ?? {}) as Record<string, unknown>;
  if (typeof body.source !== 'string' || body.source.length === 0) {
    throw new ValidationError('the sync event needs "source" (a source name)', { field: 'source' });
  }
  if (body.runId !== undefined && typeof body.runId !== 'string') {
    throw new ValidationError('"runId" must be a string', { field: 'runId' });
  }
  return { source: body.source, ...(body.runId ? { runId: body.runId } : {}) };
}

async function sync(event: unknown, _context: Context): Promise<SyncResult> {
  const { source: name, runId } = parseSyncEvent(event);
  logger.appendKeys({ source: name });
  const aws = backend();
  const source = await aws.state.getSource(name);
  if (!source) throw new NotFoundError(`source "${name}" does not exist`, { what: `source ${name}` });
  const { connector, config } = await resolveSource(source, { secrets: aws.secrets, registry });
  const run = await runSync(
    { objects: aws.objects, state: aws.state, catalog: aws.catalog, logger: engineLogger },
    { source, connector, config, ...(runId ? { runId } : {}) },
  );
  const streams = Object.values(run.streams);
  const result: SyncResult = {
    source: name,
    runId: run.runId,
    status: run.status,
    rows: streams.reduce((sum, s) => sum + s.rows, 0),
    files: streams.reduce((sum, s) => sum + s.files, 0),
    bytes: streams.reduce((sum, s) => sum + s.bytes, 0),
  };
  metrics.addDimension('source', name);
  metrics.addMetric('rows', MetricUnit.Count, result.rows);
  metrics.addMetric('bytes', MetricUnit.Bytes, result.bytes);
  logger.info('sync finished', { ...result });
  return result;
}

export const handler = wrap(sync);
