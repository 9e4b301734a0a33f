/**
 * The sync Lambda. Thin: find the source, resolve its secrets, run one step
 * of the engine's sliced run through the AWS adapters, report metrics.
 *
 * One action per state of the sync state machine
 * (infra/constructs/sync-orchestration.ts): `begin` (lease, recovery, run
 * record) → `slice` until the checkpoint says done → `finish`; `fail` is the
 * catch path. Each step holds the source's lease under the execution's run id
 * (kept between steps, released by `finish` and `fail`), so a second trigger
 * of the source fails `begin` with `LeaseHeldError` and never runs.
 *
 * The checkpoint handed between states is the engine's `RunCheckpoint`: a
 * reference to the run's state in the lake (`_runs/`), not the state itself.
 *
 * Every invocation, successful or not, adds what it used (duration, memory,
 * one request, its state transitions: ./transitions.ts) to its run's record
 * for the run's cost estimate (engine/cost.ts, docs/operations.md#cost-estimate).
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { loadConnector } from '../../connectors/loaders.js';
import { TransientError } from '../../connectors/sdk/errors.js';
import type { InvocationUsage } from '../../engine/cost.js';
import { NotFoundError, ValidationError } from '../../engine/errors.js';
import { keepEncoderWarm, warmEncoder } from '../../engine/parquet/index.js';
import type { RunRecord } from '../../engine/ports.js';
import { beginRun, finishRun, RunInterruptedError, type RunStepOptions, runSlice } from '../../engine/run.js';
import type { RunCheckpoint } from '../../engine/run-state.js';
import { createRegistry, resolveSource } from '../../engine/sources.js';
import { STAGES } from '../../engine/stages/declarations.js';
import { backend } from '../shared/backend.js';
import { checkParquetEncoderEnv, optionalEnv } from '../shared/env.js';
import { wrap } from '../shared/middleware.js';
import { engineLogger, logger, metrics, publishMetrics } from '../shared/powertools.js';
import { invocationOf, recordUsage } from '../shared/usage.js';
import { invocationTransitions, startTransitions } from './transitions.js';

// One encoder per container (a thread, or parquet-wasm on this thread at one vCPU), started while the
// container initialises and kept between invocations.
checkParquetEncoderEnv();
keepEncoderWarm();
warmEncoder().catch((error: unknown) =>
  logger.warn('Parquet encoder did not warm up; the first write starts it', { error }),
);

export const SyncAction = { begin: 'begin', slice: 'slice', finish: 'finish', fail: 'fail' } as const;
export type SyncAction = (typeof SyncAction)[keyof typeof SyncAction];

/** What the state machine sends (infra/constructs/sync-orchestration.ts). */
export interface SyncEvent {
  readonly action: SyncAction;
  readonly source: string;
  /** The execution's run id: names the lease every step holds, and the run `begin` starts. */
  readonly runId: string;
  /** `begin`: the execution's input; its `streams` (optional) select the streams of a new run. */
  readonly trigger?: { readonly streams?: readonly string[] };
  /** `slice` and `finish`: the checkpoint the previous step returned. */
  readonly checkpoint?: RunCheckpoint;
  /** `fail`: the error Step Functions caught (`{ Error, Cause }`). */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** What `begin`, `slice` and `finish` return: `done` ends the slice loop. */
export interface SyncStepResult {
  readonly source: string;
  /** The run worked on: the execution's, or an unfinished run `begin` continued. */
  readonly runId: string;
  readonly done: boolean;
  /** Reference to the run's state, for the next step. */
  readonly checkpoint: RunCheckpoint;
  readonly status: RunRecord['status'];
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
}

/** Time kept between a slice's deadline and the invocation's timeout. @default 60 s (env `SLUICE_SLICE_MARGIN_MS`) */
const DEFAULT_MARGIN_MS = 60_000;
/** The lease outlives a step by this much, so the next step (or a retry after backoff) finds it still ours. */
const LEASE_TTL_MS = 10 * 60_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseCheckpoint(value: unknown): RunCheckpoint {
  if (
    !isRecord(value) ||
    typeof value.source !== 'string' ||
    typeof value.runId !== 'string' ||
    typeof value.slice !== 'number' ||
    typeof value.done !== 'boolean'
  ) {
    throw new ValidationError('"checkpoint" must be a run checkpoint {source, runId, slice, done}', {
      field: 'checkpoint',
    });
  }
  return value as unknown as RunCheckpoint;
}

export function parseSyncEvent(event: unknown): SyncEvent {
  const body = isRecord(event) ? event : {};
  const actions: readonly string[] = Object.values(SyncAction);
  if (typeof body.action !== 'string' || !actions.includes(body.action)) {
    throw new ValidationError(`"action" must be one of ${actions.join(', ')}`, { field: 'action' });
  }
  for (const field of ['source', 'runId'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      throw new ValidationError(`the sync event needs "${field}" (a string)`, { field });
    }
  }
  if (body.action === SyncAction.slice || body.action === SyncAction.finish) {
    const checkpoint = parseCheckpoint(body.checkpoint);
    if (checkpoint.source !== body.source) {
      throw new ValidationError(`the checkpoint belongs to source "${checkpoint.source}"`, {
        field: 'checkpoint.source',
      });
    }
  }
  if (body.trigger !== undefined) {
    const streams = isRecord(body.trigger) ? body.trigger.streams : 'not an object';
    if (streams !== undefined && (!Array.isArray(streams) || !streams.every((s) => typeof s === 'string'))) {
      throw new ValidationError('"trigger.streams" must be an array of stream names', {
        field: 'trigger.streams',
      });
    }
  }
  return body as unknown as SyncEvent;
}

function summary(run: RunRecord, checkpoint: RunCheckpoint): SyncStepResult {
  const streams = Object.values(run.streams);
  return {
    source: run.source,
    runId: checkpoint.runId,
    done: checkpoint.done,
    checkpoint,
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

/**
 * An AWS call that failed in a way worth another attempt (throttled, 5xx,
 * network) after the SDK's own retries. Before the engine's step starts
 * nothing is written, so the state machine's retry continues from the same
 * checkpoint.
 */
function isTransientAwsError(error: unknown): boolean {
  if (!isRecord(error)) return false;
  const meta = error.$metadata as { httpStatusCode?: number } | undefined;
  const status = meta?.httpStatusCode;
  if (error.$retryable !== undefined) return true;
  if (error.$fault === 'server' || (status !== undefined && (status >= 500 || status === 429))) return true;
  return ['TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE'].includes(String(error.code ?? error.name));
}

/** Rethrows what the state machine should retry as `TransientError` (its Retry matches the name). */
function classify(error: unknown): never {
  if (error instanceof TransientError) throw error;
  if (error instanceof RunInterruptedError) {
    throw new TransientError(`${error.message} (the retry continues from slice ${error.checkpoint.slice})`, {
      cause: error,
    });
  }
  if (isTransientAwsError(error)) {
    throw new TransientError(`AWS call failed transiently: ${(error as Error).message}`, { cause: error });
  }
  throw error;
}

/** The engine's step options for this event: the source, its connector and config, the execution's lease. */
async function stepOptions(event: SyncEvent): Promise<RunStepOptions> {
  const aws = backend();
  const source = await aws.state.getSource(event.source);
  if (!source)
    throw new NotFoundError(`source "${event.source}" does not exist`, { what: `source ${event.source}` });
  // Only this source's connector is loaded (a cold start does not pay for the others' libraries).
  const loaded = await loadConnector(source.type);
  const registry = createRegistry(loaded ? [loaded] : []);
  const { connector, config, piiSalt } = await resolveSource(source, { secrets: aws.secrets, registry });
  return {
    source,
    connector,
    config,
    ...(piiSalt === undefined ? {} : { piiSalt }),
    leaseOwner: event.runId,
    leaseTtlMs: LEASE_TTL_MS,
    keepLease: event.action !== SyncAction.finish,
  };
}

function deps() {
  const aws = backend();
  return { objects: aws.objects, state: aws.state, catalog: aws.catalog, logger: engineLogger };
}

async function begin(event: SyncEvent): Promise<SyncStepResult> {
  const options = await stepOptions(event);
  const checkpoint = await beginRun(deps(), {
    ...options,
    runId: event.runId,
    ...(event.trigger?.streams ? { streams: event.trigger.streams } : {}),
  });
  return result(checkpoint);
}

/**
 * One slice, ending `margin` before the invocation's timeout. A signal aborts
 * the slice at half the margin should it overrun (the engine then keeps the
 * run as it was and the retry continues it).
 */
async function slice(event: SyncEvent, context: Context): Promise<SyncStepResult> {
  const options = await stepOptions(event);
  const remaining = context.getRemainingTimeInMillis();
  // A function with a short timeout still gets three quarters of it for reading.
  const margin = Math.min(Number(optionalEnv('SLUICE_SLICE_MARGIN_MS') ?? DEFAULT_MARGIN_MS), remaining / 4);
  const sliceRows = optionalEnv('SLUICE_SLICE_ROWS');
  const controller = new AbortController();
  const hardStop = setTimeout(() => controller.abort(), Math.max(0, remaining - margin / 2));
  try {
    const checkpoint = await runSlice(deps(), event.checkpoint as RunCheckpoint, {
      ...options,
      deadline: Date.now() + Math.max(0, remaining - margin),
      signal: controller.signal,
      ...(sliceRows === undefined ? {} : { sliceRows: Number(sliceRows) }),
    });
    return result(checkpoint);
  } catch (error) {
    // Stopped by the hard stop before the engine's step began (e.g. while taking the lease): nothing was written.
    if (controller.signal.aborted && !(error instanceof RunInterruptedError)) {
      throw new TransientError(
        'the slice reached its hard stop before it began; the retry continues the run',
        {
          cause: error,
        },
      );
    }
    throw error;
  } finally {
    clearTimeout(hardStop);
  }
}

async function finish(event: SyncEvent): Promise<SyncStepResult> {
  const options = await stepOptions(event);
  const checkpoint = event.checkpoint as RunCheckpoint;
  // Not kept (keepLease is false for finish): the lease is released when the run is recorded.
  const run = await finishRun(deps(), checkpoint, options);
  const result = summary(run, { ...checkpoint, done: true });
  publishRunMetrics(run, result);
  return result;
}

async function result(checkpoint: RunCheckpoint): Promise<SyncStepResult> {
  const run = await backend().state.getRun(checkpoint.source, checkpoint.runId);
  if (!run)
    throw new NotFoundError(`run ${checkpoint.runId} of source "${checkpoint.source}" does not exist`);
  return summary(run, checkpoint);
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

/**
 * Per-run and per-stream EMF metrics of a finished run (dimension `source`, and `stream` per stream).
 * The run totals get `source` from `step`, which adds it to the invocation's metrics before they are flushed.
 */
function publishRunMetrics(run: RunRecord, result: SyncStepResult): void {
  metrics.addMetric('rows', MetricUnit.Count, result.rows);
  metrics.addMetric('bytes', MetricUnit.Bytes, result.bytes);
  metrics.addMetric('files', MetricUnit.Count, result.files);
  if (run.endedAt) {
    metrics.addMetric(
      'duration',
      MetricUnit.Milliseconds,
      Date.parse(run.endedAt) - Date.parse(run.startedAt),
    );
  }
  for (const [stream, stats] of Object.entries(run.streams)) {
    publishMetrics({ source: run.source, stream }, [
      ['rows', MetricUnit.Count, stats.rows],
      ['bytes', MetricUnit.Bytes, stats.bytes],
      ['files', MetricUnit.Count, stats.files],
      ['duration', MetricUnit.Milliseconds, stats.durationMs],
    ]);
    logger.info('stream landed', { stream, ...stats });
  }
}

/**
 * Adds this invocation to its run's cost (engine/cost.ts): measured duration,
 * memory, one request, and the state transitions it stands for
 * (./transitions.ts). Keyed by the request id, so writing it again counts
 * nothing twice. Never fails the step: the cost is an estimate.
 */
async function recordStepUsage(
  event: SyncEvent,
  context: Context,
  runId: string,
  durationMs: number,
  returned: boolean,
): Promise<void> {
  const transitions = invocationTransitions(event.action, returned, STAGES.length);
  const usages: InvocationUsage[] = [invocationOf(context, durationMs, transitions)];
  if (event.action === SyncAction.begin) {
    usages.unshift({
      key: `start:${event.runId}`,
      durationMs: 0,
      memoryMb: usages[0]!.memoryMb,
      architecture: usages[0]!.architecture,
      requests: 0,
      stateTransitions: startTransitions(event.runId),
    });
  }
  try {
    const recorded = await recordUsage(backend().state, event.source, runId, usages);
    if (!recorded) logger.debug('no run record to add this invocation’s cost to', { run: runId });
  } catch (error) {
    logger.warn('could not add this invocation’s cost to the run record', { run: runId, error });
  }
}

async function step(
  event: unknown,
  context: Context,
): Promise<SyncStepResult | { runId: string; status: 'FAILED' }> {
  const started = performance.now();
  const parsed = parseSyncEvent(event);
  logger.appendKeys({ source: parsed.source, run: parsed.runId, action: parsed.action });
  // The run this invocation works on: the checkpoint's (begin may continue an earlier run).
  let runId = parsed.checkpoint?.runId ?? parsed.runId;
  let returned = false;
  try {
    if (parsed.action === SyncAction.fail) {
      const failed = await fail(parsed);
      returned = true;
      return failed;
    }
    const result =
      parsed.action === SyncAction.begin
        ? await begin(parsed)
        : parsed.action === SyncAction.slice
          ? await slice(parsed, context)
          : await finish(parsed);
    runId = result.runId;
    returned = true;
    metrics.addDimension('source', parsed.source);
    logger.info('sync step finished', { ...result });
    return result;
  } catch (error) {
    return classify(error);
  } finally {
    await recordStepUsage(parsed, context, runId, performance.now() - started, returned);
  }
}

// No early timeout from middy: it would answer while the slice goes on publishing unobserved (and a retry
// then run beside it under the same lease). The slice's own deadline and hard stop end it in time instead.
export const handler = wrap(step, { timeoutEarlyInMillis: 0 });
