/**
 * The stages Lambda. Thin: validate the event, find the source and its
 * streams, call the engine's stage runner through the AWS adapters (S3,
 * DynamoDB, Glue, Athena for the SQL), report metrics.
 *
 * Three kinds of event:
 * - a stage of the sync state machine (infra/constructs/sync-orchestration.ts):
 *   `{ stage, source, runId, retryCount }` runs ONE attempt of the named stage
 *   of engine/stages/declarations.ts `STAGES` (`runStage`); Step Functions
 *   retries it with the declaration's policy;
 * - the state machine's catch path: `{ action: 'fail', source, runId, error }`
 *   records the run FAILED (QUALITY_FAILED for a failed `error` check);
 * - the maintenance schedule (infra/constructs/maintenance-schedule.ts):
 *   `{ action: 'maintain', sources? }` compacts and expires current tables.
 *
 * What Step Functions sees of a failure is the error's name: QualityFailedError
 * and StageFatalError are not retried (declarations.ts FATAL_STAGE_ERRORS),
 * anything else is.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { loadConnector } from '../../connectors/loaders.js';
import { LeaseHeldError, NotFoundError, ValidationError } from '../../engine/errors.js';
import type { QualityResult, SourceDefinition } from '../../engine/ports.js';
import { createRegistry, resolveSource } from '../../engine/sources.js';
import { STAGES } from '../../engine/stages/declarations.js';
import { QualityFailedError, StageFatalError } from '../../engine/stages/errors.js';
import { maintainSource, type TableMaintenance } from '../../engine/stages/maintenance.js';
import { loadLakeModels } from '../../engine/stages/models.js';
import { isRetryable, recordStageFailure, runStage, type StageDeps } from '../../engine/stages/runner.js';
import { backend } from '../shared/backend.js';
import { optionalEnv } from '../shared/env.js';
import { wrap } from '../shared/middleware.js';
import { engineLogger, logger, metrics } from '../shared/powertools.js';
import { invocationOf, recordUsage } from '../shared/usage.js';

export const StagesAction = { stage: 'stage', fail: 'fail', maintain: 'maintain' } as const;
export type StagesAction = (typeof StagesAction)[keyof typeof StagesAction];

/** One attempt of one stage: what each stage's Task state sends. */
export interface StageEvent {
  readonly action: typeof StagesAction.stage;
  readonly stage: string;
  readonly source: string;
  readonly runId: string;
  /** Step Functions' `$$.State.RetryCount`: 0 on the first attempt. */
  readonly retryCount: number;
}

/** The catch path: `error` is what Step Functions caught (`{ Error, Cause }`). */
export interface StageFailEvent {
  readonly action: typeof StagesAction.fail;
  readonly source: string;
  readonly runId: string;
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** The maintenance schedule: every source's current tables, or the named sources'. */
export interface MaintainEvent {
  readonly action: typeof StagesAction.maintain;
  readonly sources?: readonly string[];
}

export type StagesEvent = StageEvent | StageFailEvent | MaintainEvent;

/** How long a stage waits for the source's lease (a sync of the source may have just begun). @default 30 s (env `SLUICE_STAGE_LEASE_WAIT_MS`) */
const DEFAULT_LEASE_WAIT_MS = 30_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(`the stages event needs "${field}" (a string)`, { field });
  }
  return value;
}

export function parseStagesEvent(event: unknown): StagesEvent {
  const body = isRecord(event) ? event : {};
  const action = body.action ?? StagesAction.stage;
  switch (action) {
    case StagesAction.stage: {
      const stage = requireString(body, 'stage');
      if (!STAGES.some((s) => s.name === stage)) {
        throw new ValidationError(
          `"stage" ${JSON.stringify(stage)} is not a stage (known: ${STAGES.map((s) => s.name).join(', ')})`,
          { field: 'stage' },
        );
      }
      const retryCount = body.retryCount ?? 0;
      if (typeof retryCount !== 'number' || !Number.isInteger(retryCount) || retryCount < 0) {
        throw new ValidationError('"retryCount" must be a whole number ≥ 0', { field: 'retryCount' });
      }
      return {
        action: StagesAction.stage,
        stage,
        source: requireString(body, 'source'),
        runId: requireString(body, 'runId'),
        retryCount,
      };
    }
    case StagesAction.fail: {
      const error = body.error;
      if (error !== undefined && !isRecord(error)) {
        throw new ValidationError('"error" must be the caught error {Error, Cause}', { field: 'error' });
      }
      return {
        action: StagesAction.fail,
        source: requireString(body, 'source'),
        runId: requireString(body, 'runId'),
        ...(error === undefined ? {} : { error: error as StageFailEvent['error'] & object }),
      };
    }
    case StagesAction.maintain: {
      const sources = body.sources;
      if (
        sources !== undefined &&
        (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string'))
      ) {
        throw new ValidationError('"sources" must be an array of source names', { field: 'sources' });
      }
      return {
        action: StagesAction.maintain,
        ...(sources === undefined ? {} : { sources: sources as string[] }),
      };
    }
    default:
      throw new ValidationError(
        `"action" must be one of ${Object.values(StagesAction).join(', ')} (or absent for a stage)`,
        { field: 'action' },
      );
  }
}

function deps(): StageDeps {
  const aws = backend();
  return {
    objects: aws.objects,
    state: aws.state,
    catalog: aws.catalog,
    logger: engineLogger,
    openQueryEngine: () => aws.openQueryEngine(),
  };
}

/**
 * Quality results as EMF metrics: `qualityFailures` (failing checks, any
 * severity) with the `service` dimension alone — the one the
 * `quality-failures` alarm watches — and per check `qualityCheckFailures`
 * (1 or 0) and `qualityFailingRows` by source, stream and check.
 */
export function emitQualityMetrics(source: string, results: readonly QualityResult[]): void {
  metrics.addMetric('qualityFailures', MetricUnit.Count, results.filter((r) => !r.passed).length);
  for (const result of results) {
    for (const [name, value] of [
      ['qualityCheckFailures', result.passed ? 0 : 1],
      ['qualityFailingRows', result.failingRows],
    ] as const) {
      const single = metrics.singleMetric();
      single.addDimensions({ source, stream: result.stream, check: result.check });
      single.addMetric(name, MetricUnit.Count, value);
    }
  }
}

async function sourceOrFail(name: string): Promise<SourceDefinition> {
  const source = await backend().state.getSource(name);
  if (!source) throw new NotFoundError(`source "${name}" does not exist`, { what: `source ${name}` });
  return source;
}

/** Rethrows a stage's error under the name the state machine's retriers match. */
function classify(error: unknown): never {
  if (error instanceof QualityFailedError || error instanceof StageFatalError) throw error;
  if (!isRetryable(error) || error instanceof NotFoundError) {
    throw new StageFatalError((error as Error).message, { cause: error });
  }
  throw error;
}

async function stage(event: StageEvent) {
  const aws = backend();
  let quality: readonly QualityResult[] | undefined;
  try {
    const source = await sourceOrFail(event.source);
    const loaded = await loadConnector(source.type);
    const { connector, config } = await resolveSource(source, {
      secrets: aws.secrets,
      registry: createRegistry(loaded ? [loaded] : []),
    });
    const streams = await connector.streams(config as never);
    const models = event.stage === 'models' ? await loadLakeModels(aws.objects) : [];
    const attempt = await runStage(deps(), {
      source,
      streams,
      models,
      runId: event.runId,
      stage: event.stage,
      attempt: event.retryCount + 1,
      leaseWaitMs: Number(optionalEnv('SLUICE_STAGE_LEASE_WAIT_MS') ?? DEFAULT_LEASE_WAIT_MS),
    });
    quality = attempt.quality;
    logger.info('stage succeeded', { outcome: attempt.outcome });
    return {
      stage: event.stage,
      runId: event.runId,
      status: attempt.outcome.status,
      detail: attempt.outcome.detail ?? [],
    };
  } catch (error) {
    if (error instanceof QualityFailedError) quality = error.cause as QualityResult[];
    return classify(error);
  } finally {
    if (quality) emitQualityMetrics(event.source, quality);
  }
}

async function fail(event: StageFailEvent) {
  const run = await recordStageFailure(deps(), {
    source: event.source,
    runId: event.runId,
    error: causeOf(event.error),
    qualityFailed: event.error?.Error === 'QualityFailedError',
  });
  return { runId: run.runId, status: run.status, error: run.error ?? '' };
}

/** The message of a caught Lambda error: `Cause` is the function's error as JSON. */
function causeOf(error: StageFailEvent['error']): string {
  if (!error) return 'the stage failed';
  try {
    const cause = JSON.parse(error.Cause ?? '') as { errorMessage?: string };
    if (cause.errorMessage) return cause.errorMessage;
  } catch {
    // Not JSON: a States.* error (a timeout) whose cause is plain text.
  }
  return [error.Error, error.Cause].filter(Boolean).join(': ') || 'the stage failed';
}

/**
 * Maintains each source in turn. A source whose lease is held (a sync or its
 * stages are running) is skipped until the next schedule; any other failure
 * is logged, the others still run, and the invocation fails at the end so
 * the stages function's error alarm sees it.
 */
async function maintain(event: MaintainEvent) {
  const aws = backend();
  const names = event.sources ?? (await aws.state.listSources()).map((s) => s.name);
  const maintained: Record<string, readonly TableMaintenance[]> = {};
  const busy: string[] = [];
  const failed: string[] = [];
  for (const name of names) {
    try {
      maintained[name] = await maintainSource(
        {
          objects: aws.objects,
          state: aws.state,
          catalog: aws.catalog,
          openQueryEngine: () => aws.openQueryEngine(),
        },
        name,
      );
    } catch (error) {
      if (error instanceof LeaseHeldError) {
        busy.push(name);
        logger.info('source busy; maintained at the next schedule', { source: name });
        continue;
      }
      failed.push(name);
      logger.error('maintenance failed', { source: name, error });
    }
  }
  const tables = Object.values(maintained).reduce((sum, t) => sum + t.length, 0);
  metrics.addMetric('tablesMaintained', MetricUnit.Count, tables);
  if (failed.length > 0) {
    throw new StageFatalError(`maintenance failed for ${failed.join(', ')} (see the log)`);
  }
  return { maintained, busy };
}

/**
 * The transitions this invocation adds to what the sync Lambda's `finish`
 * already counted (functions/sync/transitions.ts counts every stage's first
 * attempt): a retry is one more; the catch path enters RecordStageFailure
 * and StagesFailed. States after a failed stage that never ran stay counted
 * by `finish`: the estimate errs high, never low.
 */
export function stageInvocationTransitions(event: StageEvent | StageFailEvent): number {
  if (event.action === StagesAction.fail) return 2;
  return event.retryCount > 0 ? 1 : 0;
}

/** Adds this invocation's duration and transitions to the run's cost; never fails the stage. */
async function recordStageUsage(
  event: StageEvent | StageFailEvent,
  context: Context,
  durationMs: number,
): Promise<void> {
  try {
    const usage = invocationOf(context, durationMs, stageInvocationTransitions(event));
    await recordUsage(backend().state, event.source, event.runId, [usage]);
  } catch (error) {
    logger.warn('could not add this invocation’s cost to the run record', { run: event.runId, error });
  }
}

async function handle(event: unknown, context: Context) {
  const parsed = parseStagesEvent(event);
  if (parsed.action === StagesAction.maintain) return maintain(parsed);
  logger.appendKeys({
    source: parsed.source,
    run: parsed.runId,
    ...(parsed.action === StagesAction.stage ? { stage: parsed.stage } : {}),
  });
  const started = performance.now();
  try {
    return parsed.action === StagesAction.fail ? await fail(parsed) : await stage(parsed);
  } finally {
    await recordStageUsage(parsed, context, performance.now() - started);
  }
}

export const handler = wrap(handle);
