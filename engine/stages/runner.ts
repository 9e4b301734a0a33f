/**
 * The stage runner: executes the stage list (declarations.ts) after a
 * committed run. Two entry points share one attempt function:
 *
 * - `runStage`: ONE attempt of ONE named stage for one run, under the
 *   source's lease. The stages Lambda calls it for the stage the state
 *   machine names; Step Functions does the retries (the declaration's
 *   `Retry`) and, when they run out, the catch path calls
 *   `recordStageFailure`.
 * - `runStages`: the whole list locally (`sluice sync`, `sluice stages run`),
 *   each stage retried with backoff as its policy says, then the same
 *   `recordStageFailure`.
 *
 * Every attempt writes its outcome into the run record (a failed attempt
 * provisionally, so the record shows how far the stages got and how many
 * attempts a stage took); the run's status moves only when a stage fails for
 * good (FAILED; an `error` quality check: QUALITY_FAILED) or the last stage
 * succeeds (SUCCEEDED). Each stage is idempotent (the merge by its
 * watermark, the quality table and models by fixed keys), so a retried or
 * crashed attempt is simply run again.
 */
import { sleep } from '../../connectors/sdk/sleep.js';
import type { Logger, Stream } from '../../connectors/sdk/types.js';
import { SluiceError, ValidationError } from '../errors.js';
import { leaseOwnerFor, takeLease } from '../lease.js';
import type {
  Catalog,
  ObjectStore,
  QualityResult,
  QueryEngine,
  RunRecord,
  SourceDefinition,
  StageOutcome,
  StateStore,
} from '../ports.js';
import { runIdsWithState } from '../run-state.js';
import {
  retryDelayMs,
  STAGES,
  type StageDeclaration,
  StageKind,
  stageNamed,
  validateStages,
} from './declarations.js';
import { ModelError, QualityFailedError, StageFatalError } from './errors.js';
import { recordLineage } from './lineage.js';
import { type MergePhase, mergeTable } from './merge.js';
import { type ModelFile, runModels } from './models.js';
import { runQuality } from './quality.js';
import { landQualityResults } from './quality-table.js';

export interface StageDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly logger: Logger;
  /** A query engine over the lake (DuckDB locally, Athena on AWS); closed by the runner. */
  openQueryEngine(): Promise<QueryEngine>;
  readonly clock?: () => Date;
}

export type StagePhase = 'stage-started' | 'stage-succeeded' | MergePhase;

export interface StagePhaseDetail {
  readonly stage: string;
  readonly attempt: number;
  readonly table?: string;
}

/** What every stage needs to know about the source and how to report its steps. */
export interface StageTarget {
  readonly source: SourceDefinition;
  /** The source's declared streams (their cursors order versions in the merge). */
  readonly streams: readonly Stream[];
  /** The SQL models the models stage builds (`models/*.sql`). @default none */
  readonly models?: readonly ModelFile[];
  /** Called at each step; an extension point (tests inject faults here). */
  readonly onPhase?: (phase: StagePhase, detail: StagePhaseDetail) => void | Promise<void>;
}

export interface RunStageOptions extends StageTarget {
  /** The run the stage belongs to. */
  readonly runId: string;
  /** The stage's name in the list. */
  readonly stage: string;
  /** Which attempt this is, counted from 1 (Step Functions' `$$.State.RetryCount` + 1). @default 1 */
  readonly attempt?: number;
  /** @default STAGES */
  readonly stages?: readonly StageDeclaration[];
  readonly signal?: AbortSignal;
  /** @default 0 */
  readonly leaseWaitMs?: number;
  /** @default 300000 */
  readonly leaseTtlMs?: number;
}

/** One attempt's result: the run record as written, the stage's outcome, and the quality results of a quality stage. */
export interface StageAttempt {
  readonly run: RunRecord;
  readonly outcome: StageOutcome;
  readonly quality?: readonly QualityResult[];
}

export interface RecordStageFailureOptions {
  readonly source: string;
  readonly runId: string;
  /** The error as the caller saw it (the state machine's Cause). */
  readonly error: string;
  /** True when an `error` quality check failed: the run becomes QUALITY_FAILED. */
  readonly qualityFailed: boolean;
  /** @default the first stage of the list the run has not finished */
  readonly stage?: string;
  /** @default STAGES */
  readonly stages?: readonly StageDeclaration[];
}

export interface RunStagesOptions extends StageTarget {
  /** The run the stages belong to. @default the source's latest run */
  readonly runId?: string;
  /** @default STAGES */
  readonly stages?: readonly StageDeclaration[];
  readonly signal?: AbortSignal;
  /** @default 0 */
  readonly leaseWaitMs?: number;
  /** @default 300000 */
  readonly leaseTtlMs?: number;
}

interface StageContext {
  readonly deps: StageDeps;
  readonly options: StageTarget;
  readonly run: RunRecord;
  readonly attempt: number;
  readonly stage: StageDeclaration;
  readonly engine: () => Promise<QueryEngine>;
}

interface StageResult {
  readonly detail: string[];
  readonly quality?: readonly QualityResult[];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Errors a retry cannot fix: bad declarations, failed quality checks, models that do not run. */
export function isRetryable(error: unknown): boolean {
  return !(
    error instanceof ValidationError ||
    error instanceof QualityFailedError ||
    error instanceof ModelError ||
    error instanceof StageFatalError
  );
}

async function execute(ctx: StageContext): Promise<StageResult> {
  const { deps, options } = ctx;
  switch (ctx.stage.kind) {
    case StageKind.catalog: {
      const landed = Object.entries(ctx.run.streams)
        .filter(([, s]) => s.files > 0)
        .map(([name]) => name);
      const missing: string[] = [];
      for (const stream of landed) {
        if (!(await deps.catalog.getTable(options.source.name, stream))) missing.push(stream);
      }
      if (missing.length > 0) {
        throw new StageFatalError(
          `run ${ctx.run.runId} landed streams with no catalog table: ${missing.join(', ')}`,
        );
      }
      return { detail: [] };
    }
    case StageKind.quality: {
      const results = await runQuality(
        {
          catalog: deps.catalog,
          state: deps.state,
          engine: ctx.engine,
          ...(deps.clock ? { clock: deps.clock } : {}),
        },
        options.source,
        ctx.run,
        options.streams,
      );
      // Landed before the verdict: a failing run's results are the ones most worth querying.
      await landQualityResults(
        { ...deps, clock: deps.clock ?? (() => new Date()) },
        options.source.name,
        ctx.run,
        results,
      );
      const failed = results.filter((r) => !r.passed && r.severity === 'error');
      if (failed.length > 0) throw new QualityFailedError(failed, { cause: results });
      return {
        detail: results.filter((r) => !r.passed).map((r) => `warn ${r.stream}: ${r.message}`),
        quality: results,
      };
    }
    case StageKind.merge: {
      const detail: string[] = [];
      const byName = new Map(options.streams.map((s) => [s.name, s]));
      for (const table of await deps.catalog.listTables(options.source.name)) {
        const plan = await mergeTable(
          {
            objects: deps.objects,
            state: deps.state,
            engine: ctx.engine,
            onPhase: (phase, d) =>
              options.onPhase?.(phase, { stage: ctx.stage.name, attempt: ctx.attempt, table: d.table }),
            applied: (applied) =>
              recordLineage(deps.objects, {
                table: applied.table,
                stage: ctx.stage.name,
                runId: ctx.run.runId,
                at: (deps.clock ?? (() => new Date()))().toISOString(),
                inputs: [applied.rawTable],
                files: applied.files.map((f) => f.key),
                sourceRuns: [...new Set(applied.files.map((f) => f.runId))],
              }),
          },
          table,
          byName.get(table.stream),
          // Files of a later sync wait for that run's own quality checks.
          { upToRun: ctx.run.runId },
        );
        if (!plan) continue;
        detail.push(`${plan.table}: ${plan.files.length} new ${plan.files.length === 1 ? 'file' : 'files'}`);
      }
      return { detail };
    }
    case StageKind.models: {
      const at = (deps.clock ?? (() => new Date()))().toISOString();
      const built = await runModels(
        { objects: deps.objects, engine: ctx.engine },
        options.models ?? [],
        ctx.run.runId,
      );
      for (const model of built) {
        await recordLineage(deps.objects, {
          table: model.name,
          stage: ctx.stage.name,
          runId: ctx.run.runId,
          at,
          inputs: model.refs,
          path: model.path,
        });
      }
      return { detail: built.map((m) => `${m.name} (${m.path})`) };
    }
  }
}

/** A run's error written by a stage failure (as opposed to a landing failure, which the stages leave as it is). */
const STAGE_FAILURE = /^stage [a-z][a-z0-9_-]* failed after \d+ attempts?: /;

function landingFailed(run: RunRecord): boolean {
  return run.status === 'FAILED' && !STAGE_FAILURE.test(run.error ?? '');
}

async function loadRun(state: StateStore, source: string, runId: string | undefined): Promise<RunRecord> {
  const run = runId === undefined ? (await state.listRuns(source, 1))[0] : await state.getRun(source, runId);
  if (!run) {
    throw new SluiceError(
      runId === undefined
        ? `source "${source}" has no runs yet; sync it first`
        : `run ${runId} of source "${source}" does not exist`,
    );
  }
  return run;
}

/** Stages run over finished runs only: an unfinished one may still commit files the merge must not miss. */
async function refuseUnfinished(objects: ObjectStore, source: string): Promise<void> {
  const unfinished = await runIdsWithState(objects, source);
  if (unfinished.length > 0) {
    throw new SluiceError(
      `run ${unfinished[0]} of source "${source}" is unfinished; stages run once it has finished (\`sluice sync ${source}\` continues it)`,
    );
  }
}

/**
 * Writes one stage's outcome into the run record (read afresh), in list
 * order. The last stage succeeding makes the run SUCCEEDED (a landing
 * failure stays as it is); other outcomes leave the status alone.
 */
async function saveOutcome(
  deps: StageDeps,
  run: RunRecord,
  stages: readonly StageDeclaration[],
  outcome: StageOutcome,
  quality: readonly QualityResult[] | undefined,
): Promise<RunRecord> {
  const current = (await deps.state.getRun(run.source, run.runId)) ?? run;
  const byName = new Map((current.stages ?? []).map((o) => [o.name, o]));
  byName.set(outcome.name, outcome);
  const ordered = stages.flatMap((s) => {
    const o = byName.get(s.name);
    return o ? [o] : [];
  });
  const finished = outcome.status === 'SUCCEEDED' && outcome.name === stages.at(-1)?.name;
  const { error: previous, ...rest } = current;
  const record: RunRecord =
    finished && !landingFailed(current)
      ? { ...rest, status: 'SUCCEEDED', stages: ordered, ...(quality ? { quality } : {}) }
      : {
          ...rest,
          ...(previous === undefined ? {} : { error: previous }),
          stages: ordered,
          ...(quality ? { quality } : {}),
        };
  await deps.state.putRun(record);
  return record;
}

/** One attempt of one stage; its outcome (a failure provisionally) lands in the run record. */
async function attemptStage(ctx: StageContext, stages: readonly StageDeclaration[]): Promise<StageAttempt> {
  const { deps, options, stage, attempt, run } = ctx;
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock().toISOString();
  try {
    await options.onPhase?.('stage-started', { stage: stage.name, attempt });
    const result = await execute(ctx);
    await options.onPhase?.('stage-succeeded', { stage: stage.name, attempt });
    const outcome: StageOutcome = {
      name: stage.name,
      status: 'SUCCEEDED',
      attempts: attempt,
      startedAt,
      endedAt: clock().toISOString(),
      ...(result.detail.length > 0 ? { detail: result.detail } : {}),
    };
    const record = await saveOutcome(deps, run, stages, outcome, result.quality);
    return { run: record, outcome, ...(result.quality ? { quality: result.quality } : {}) };
  } catch (error) {
    const quality = error instanceof QualityFailedError ? (error.cause as QualityResult[]) : undefined;
    const outcome = failedAttempt(stage, attempt, startedAt, clock(), error);
    // Best effort: the attempt's own error is what the caller must see.
    await saveOutcome(deps, run, stages, outcome, quality).catch((saveError: unknown) =>
      deps.logger.warn('could not record the failed stage attempt', {
        source: run.source,
        stage: stage.name,
        error: errorMessage(saveError),
      }),
    );
    throw error;
  }
}

/** The outcome of an attempt of `stage` that ended in `error`. */
function failedAttempt(
  stage: StageDeclaration,
  attempt: number,
  startedAt: string,
  endedAt: Date,
  error: unknown,
): StageOutcome {
  return {
    name: stage.name,
    status: 'FAILED',
    attempts: attempt,
    startedAt,
    endedAt: endedAt.toISOString(),
    error: errorMessage(error),
  };
}

/**
 * Runs ONE attempt of ONE named stage for one run, under the source's lease
 * (the stages Lambda's entry point; Step Functions retries it). Returns the
 * outcome and the run record as written; throws the stage's error (a
 * `QualityFailedError` for a failed `error` check; `isRetryable` says
 * whether another attempt may help). Running it again for the same run and
 * stage is safe: every stage is idempotent.
 */
export async function runStage(deps: StageDeps, options: RunStageOptions): Promise<StageAttempt> {
  const stages = options.stages ?? STAGES;
  validateStages(stages);
  let stage: StageDeclaration;
  try {
    stage = stageNamed(options.stage, stages);
  } catch (error) {
    throw new ValidationError((error as Error).message, { field: 'stage', cause: error });
  }
  const attempt = options.attempt ?? 1;
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new ValidationError(`attempt must be a whole number ≥ 1, got ${attempt}`, { field: 'attempt' });
  }
  const source = options.source.name;
  const run = await loadRun(deps.state, source, options.runId);
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock().toISOString();
  let engine: Promise<QueryEngine> | undefined;
  let held: Awaited<ReturnType<typeof takeLease>> | undefined;
  try {
    held = await takeStagesLease(deps, source, run.runId, options);
    await refuseUnfinished(deps.objects, source);
    held.signal.throwIfAborted();
  } catch (error) {
    // The attempt counts though the stage never began (the lease held by a sync, an unfinished run).
    await held?.release();
    const outcome = failedAttempt(stage, attempt, startedAt, clock(), error);
    await saveOutcome(deps, run, stages, outcome, undefined).catch(() => undefined);
    throw error;
  }
  try {
    return await attemptStage(
      {
        deps,
        options,
        run,
        attempt,
        stage,
        engine: () => {
          engine ??= deps.openQueryEngine();
          return engine;
        },
      },
      stages,
    );
  } finally {
    await held.release();
    if (engine) await (await engine.catch(() => undefined))?.close();
  }
}

/**
 * Records a stage that failed for good: the stage FAILED (with the attempts
 * its last attempt recorded), the stages after it SKIPPED, the run FAILED or
 * QUALITY_FAILED with `stage <name> failed after <n> attempts: <error>` (a
 * landing failure keeps its status). The state machine's catch path and the
 * local runner both end here.
 */
export async function recordStageFailure(
  deps: StageDeps,
  options: RecordStageFailureOptions,
): Promise<RunRecord> {
  const stages = options.stages ?? STAGES;
  const run = await loadRun(deps.state, options.source, options.runId);
  const clock = deps.clock ?? (() => new Date());
  const now = clock().toISOString();
  const byName = new Map((run.stages ?? []).map((o) => [o.name, o]));
  const failedAt =
    options.stage === undefined
      ? Math.max(
          0,
          stages.findIndex((s) => byName.get(s.name)?.status !== 'SUCCEEDED'),
        )
      : stages.indexOf(stageNamed(options.stage, stages));
  const stage = stages[failedAt]!;
  const last = byName.get(stage.name);
  // The failing attempt recorded its own error and count; a Lambda that died (timeout) recorded none.
  const provisional = last?.status === 'FAILED' ? last : undefined;
  const attempts = provisional?.attempts ?? 1;
  const message = provisional?.error ?? options.error;
  const outcomes: StageOutcome[] = stages.map((s, i) => {
    if (i < failedAt)
      return (
        byName.get(s.name) ?? { name: s.name, status: 'SKIPPED', attempts: 0, startedAt: now, endedAt: now }
      );
    if (i > failedAt) return { name: s.name, status: 'SKIPPED', attempts: 0, startedAt: now, endedAt: now };
    return {
      name: s.name,
      status: 'FAILED',
      attempts,
      startedAt: provisional?.startedAt ?? now,
      endedAt: provisional?.endedAt ?? now,
      error: message,
    };
  });
  const reason = `stage ${stage.name} failed after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}: ${message}`;
  const { error: _previous, ...rest } = run;
  const record: RunRecord = landingFailed(run)
    ? { ...run, stages: outcomes }
    : {
        ...rest,
        status: options.qualityFailed ? 'QUALITY_FAILED' : 'FAILED',
        error: reason,
        stages: outcomes,
      };
  await deps.state.putRun(record);
  deps.logger.error('stages failed', { source: run.source, runId: run.runId, error: reason });
  return record;
}

/** The source's lease for the stages of one run: a sync of the source and its stages never overlap. */
function takeStagesLease(
  deps: StageDeps,
  source: string,
  runId: string,
  options: { readonly leaseTtlMs?: number; readonly leaseWaitMs?: number; readonly signal?: AbortSignal },
): ReturnType<typeof takeLease> {
  return takeLease(
    deps.state,
    source,
    {
      owner: leaseOwnerFor(`stages-${runId}`),
      ttlMs: options.leaseTtlMs ?? 300_000,
      waitMs: options.leaseWaitMs ?? 0,
      keep: false,
    },
    options.signal,
  );
}

/**
 * Runs the whole stage list for the source's latest (or the given) run,
 * locally: each stage's attempts through the same attempt function as
 * `runStage`, retried with backoff as its policy says, under one lease for
 * the list. Returns the run record: SUCCEEDED when every stage succeeded,
 * FAILED or QUALITY_FAILED otherwise (with `error` naming the stage).
 */
export async function runStages(deps: StageDeps, options: RunStagesOptions): Promise<RunRecord> {
  const stages = options.stages ?? STAGES;
  validateStages(stages);
  const source = options.source.name;
  const run = await loadRun(deps.state, source, options.runId);
  const held = await takeStagesLease(deps, source, run.runId, options);
  let engine: Promise<QueryEngine> | undefined;
  const openEngine = (): Promise<QueryEngine> => {
    engine ??= deps.openQueryEngine();
    return engine;
  };
  try {
    await refuseUnfinished(deps.objects, source);
    let record = run;
    for (const stage of stages) {
      for (let attempt = 1; ; attempt++) {
        try {
          held.signal.throwIfAborted();
          record = (await attemptStage({ deps, options, run, attempt, stage, engine: openEngine }, stages))
            .run;
          break;
        } catch (error) {
          const last = attempt >= stage.retry.maxAttempts || !isRetryable(error) || held.signal.aborted;
          if (last) {
            return await recordStageFailure(deps, {
              source,
              runId: run.runId,
              stage: stage.name,
              error: errorMessage(error),
              qualityFailed: error instanceof QualityFailedError,
              stages,
            });
          }
          const delay = retryDelayMs(stage.retry, attempt);
          deps.logger.warn('stage failed; retrying', {
            source,
            stage: stage.name,
            attempt,
            delayMs: delay,
            error: errorMessage(error),
          });
          await sleep(delay, held.signal);
        }
      }
    }
    return record;
  } finally {
    await held.release();
    if (engine) await (await engine.catch(() => undefined))?.close();
  }
}
