/**
 * The sync Lambda. Thin: find the source, resolve its secrets, run the engine
 * through the AWS adapters, report metrics.
 *
 * One action per state of the sync state machine
 * (infra/constructs/sync-orchestration.ts): begin, slice, finish, fail.
 *
 * TEMPORARY (issue 9 builds on issue 8): `begin` runs the whole sync in one
 * invocation with `runSync` and answers `done: true`, and `slice` throws.
 * The engine developer's slice API (`beginRun` → `runSlice(checkpoint,
 * { deadline })` → `finishRun`) replaces the `runSync` call in `begin` and
 * fills `slice`; the event and result shapes are already the sliced ones.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { registry } from '../../connectors/index.js';
import { NotFoundError, SluiceError, ValidationError } from '../../engine/errors.js';
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

export const SyncAction = { begin: 'begin', slice: 'slice', finish: 'finish', fail: 'fail' } as const;
export type SyncAction = (typeof SyncAction)[keyof typeof SyncAction];

/** What the state machine sends (infra/constructs/sync-orchestration.ts). */
export interface SyncEvent {
  readonly action: SyncAction;
  readonly source: string;
  readonly runId: string;
  /** `slice`: the checkpoint reference the previous step returned. */
  readonly checkpoint?: string;
  /** `fail`: the error Step Functions caught (`{ Error, Cause }`). */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** What `begin`, `slice` and `finish` return: `done` ends the slice loop. */
export interface SyncStepResult {
  readonly source: string;
  readonly runId: string;
  readonly done: boolean;
  /** Reference to the run's checkpoint, for the next slice. */
  readonly checkpoint?: string;
  readonly status: RunRecord['status'];
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
}

export class SliceNotAvailableError extends SluiceError {
  public constructor() {
    super('the slice step needs the slice API of issue 8 (beginRun/runSlice/finishRun), not merged yet');
    this.name = 'SliceNotAvailableError';
  }
}

export function parseSyncEvent(event: unknown): SyncEvent {
  const body = (event ?? {}) as Record<string, unknown>;
  const actions: readonly string[] = Object.values(SyncAction);
  if (typeof body.action !== 'string' || !actions.includes(body.action)) {
    throw new ValidationError(`"action" must be one of ${actions.join(', ')}`, { field: 'action' });
  }
  for (const field of ['source', 'runId'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      throw new ValidationError(`the sync event needs "${field}" (a string)`, { field });
    }
  }
  if (body.checkpoint !== undefined && typeof body.checkpoint !== 'string') {
    throw new ValidationError('"checkpoint" must be a string (a checkpoint reference)', {
      field: 'checkpoint',
    });
  }
  return body as unknown as SyncEvent;
}

function summary(run: RunRecord, done: boolean): SyncStepResult {
  const streams = Object.values(run.streams);
  return {
    source: run.source,
    runId: run.runId,
    done,
    status: run.status,
    rows: streams.reduce((sum, s) => sum + s.rows, 0),
    files: streams.reduce((sum, s) => sum + s.files, 0),
    bytes: streams.reduce((sum, s) => sum + s.bytes, 0),
  };
}

/** The message of a caught Lambda error: `Cause` is the function's error as JSON. */
function causeOf(error: SyncEvent['error']): string {
  if (!error) return 'the run failed';
  try {
    const cause = JSON.parse(error.Cause ?? '') as { errorMessage?: string };
    if (cause.errorMessage) return cause.errorMessage;
  } catch {
    // Not JSON: a States.* error whose cause is plain text.
  }
  return [error.Error, error.Cause].filter(Boolean).join(': ') || 'the run failed';
}

async function begin(event: SyncEvent): Promise<SyncStepResult> {
  const aws = backend();
  const source = await aws.state.getSource(event.source);
  if (!source)
    throw new NotFoundError(`source "${event.source}" does not exist`, { what: `source ${event.source}` });
  const { connector, config } = await resolveSource(source, { secrets: aws.secrets, registry });
  // TEMPORARY until issue 8 merges: the whole run in this one invocation. The slice API replaces
  // this call with `beginRun` here, `runSlice(checkpoint, { deadline })` in `slice`, `finishRun` in `finish`.
  const run = await runSync(
    { objects: aws.objects, state: aws.state, catalog: aws.catalog, logger: engineLogger },
    { source, connector, config, runId: event.runId },
  );
  return summary(run, true);
}

async function finish(event: SyncEvent): Promise<SyncStepResult> {
  const run = await backend().state.getRun(event.source, event.runId);
  if (!run) throw new NotFoundError(`run ${event.runId} of source "${event.source}" does not exist`);
  return summary(run, true);
}

/** The catch path: the run is recorded FAILED with the error (unless it already ended) and its lease released. */
async function fail(event: SyncEvent): Promise<{ readonly runId: string; readonly status: 'FAILED' }> {
  const { state } = backend();
  const error = causeOf(event.error);
  const run = await state.getRun(event.source, event.runId);
  if (run === undefined || run.status === 'RUNNING') {
    const now = new Date().toISOString();
    await state.putRun({
      runId: event.runId,
      source: event.source,
      startedAt: run?.startedAt ?? now,
      streams: run?.streams ?? {},
      ...run,
      status: 'FAILED',
      endedAt: now,
      error,
    });
  }
  await state.releaseLease(event.source, event.runId);
  logger.error('sync failed', { error });
  return { runId: event.runId, status: 'FAILED' };
}

async function step(
  event: unknown,
  _context: Context,
): Promise<SyncStepResult | { runId: string; status: 'FAILED' }> {
  const parsed = parseSyncEvent(event);
  logger.appendKeys({ source: parsed.source, runId: parsed.runId, action: parsed.action });
  switch (parsed.action) {
    case SyncAction.begin: {
      const result = await begin(parsed);
      metrics.addDimension('source', parsed.source);
      metrics.addMetric('rows', MetricUnit.Count, result.rows);
      metrics.addMetric('bytes', MetricUnit.Bytes, result.bytes);
      logger.info('sync step finished', { ...result });
      return result;
    }
    case SyncAction.slice:
      // THE GAP: filled by the slice API of issue 8 (runSlice from the checkpoint, with the invocation's deadline).
      throw new SliceNotAvailableError();
    case SyncAction.finish:
      return finish(parsed);
    case SyncAction.fail:
      return fail(parsed);
  }
}

export const handler = wrap(step);
