/**
 * The local stage runner: executes the stage list (declarations.ts) after a
 * committed run, in order, each stage retried with backoff as its policy
 * says, under the source's lease. The outcome of every stage goes into the
 * run record; a stage that fails after its retries marks the run FAILED (an
 * `error` quality check: QUALITY_FAILED) with the reason, and later stages do
 * not run. Step Functions runs the same list on AWS.
 */
// @ts-nocheck

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
import { retryDelayMs, STAGES, type StageDeclaration, StageKind, validateStages } from './declarations.js';
import { ModelError, QualityFailedError } from './errors.js';
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

export interface RunStagesOptions {
  readonly source: SourceDefinition;
  /** The source's declared streams (their cursors order versions in the merge). */
  readonly streams: readonly Stream[];
  /** The run the stages belong to. @default the source's latest run */
  readonly runId?: string;
  /** @default STAGES */
  readonly stages?: readonly StageDeclaration[];
  /** The SQL models the models stage builds (`models/*.sql`). @default none */
  readonly models?: readonly ModelFile[];
  readonly signal?: AbortSignal;
  /** @default 0 */
  readonly leaseWaitMs?: number;
  /** @default 300000 */
  readonly leaseTtlMs?: number;
  /** Called at each step; an extension point (tests inject faults here). */
  readonly onPhase?: (phase: StagePhase, detail: StagePhaseDetail) => void | Promise<void>;
}

interface StageContext {
  readonly deps: StageDeps;
  readonly options: RunStagesOptions;
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
function retryable(error: unknown): boolean {
  return !(
    error instanceof ValidationError ||
    error instanceof QualityFailedError ||
    error instanceof ModelError
  );
}

async function execute(ctx: StageContext): Promise<StageResult> {
  const { deps, options } = ctx;
  switch (ctx.stage.kind) {
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

/**
 * Runs the stages for the source's latest (or the given) run and records the
 * outcome in its run record, which it returns: SUCCEEDED when every stage
 * succeeded, FAILED or QUALITY_FAILED otherwise (with `error` naming the stage).
 */
export async function runStages(deps: StageDeps, options: RunStagesOptions): Promise<RunRecord> {
  const stages = options.stages ?? STAGES;
  validateStages(stages);
  const clock = deps.clock ?? (() => new Date());
  const source = options.source.name;
  const run =
    options.runId === undefined
      ? (await deps.state.listRuns(source, 1))[0]
      : await deps.state.getRun(source, options.runId);
  if (!run) {
    throw new SluiceError(
      options.runId === undefined
        ? `source "${source}" has no runs yet; sync it first`
        : `run ${options.runId} of source "${source}" does not exist`,
    );
  }
  const held = await takeLease(
    deps.state,
    source,
    {
      owner: leaseOwnerFor(`stages-${run.runId}`),
      ttlMs: options.leaseTtlMs ?? 300_000,
      waitMs: options.leaseWaitMs ?? 0,
      keep: false,
    },
    options.signal,
  );
  let engine: Promise<QueryEngine> | undefined;
  const openEngine = (): Promise<QueryEngine> => {
    engine ??= deps.openQueryEngine();
    return engine;
  };
  try {
    const unfinished = await runIdsWithState(deps.objects, source);
    if (unfinished.length > 0) {
      throw new SluiceError(
        `run ${unfinished[0]} of source "${source}" is unfinished; stages run once it has finished (\`sluice sync ${source}\` continues it)`,
      );
    }
    const outcomes: StageOutcome[] = [];
    let quality: readonly QualityResult[] | undefined;
    let failure: { status: RunRecord['status']; error: string } | undefined;
    for (const stage of stages) {
      const startedAt = clock().toISOString();
      for (let attempt = 1; ; attempt++) {
        try {
          held.signal.throwIfAborted();
          await options.onPhase?.('stage-started', { stage: stage.name, attempt });
          const result = await execute({ deps, options, run, attempt, stage, engine: openEngine });
          await options.onPhase?.('stage-succeeded', { stage: stage.name, attempt });
          if (result.quality) quality = result.quality;
          outcomes.push({
            name: stage.name,
            status: 'SUCCEEDED',
            attempts: attempt,
            startedAt,
            endedAt: clock().toISOString(),
            ...(result.detail.length > 0 ? { detail: result.detail } : {}),
          });
          break;
        } catch (error) {
          const last = attempt >= stage.retry.maxAttempts || !retryable(error) || held.signal.aborted;
          if (!last) {
            const delay = retryDelayMs(stage.retry, attempt);
            deps.logger.warn('stage failed; retrying', {
              source,
              stage: stage.name,
              attempt,
              delayMs: delay,
              error: errorMessage(error),
            });
            await sleep(delay, held.signal);
            continue;
          }
          const reason = `stage ${stage.name} failed after ${attempt} ${attempt === 1 ? 'attempt' : 'attempts'}: ${errorMessage(error)}`;
          if (error instanceof QualityFailedError) quality = error.cause as QualityResult[];
          outcomes.push({
            name: stage.name,
            status: 'FAILED',
            attempts: attempt,
            startedAt,
            endedAt: clock().toISOString(),
            error: errorMessage(error),
          });
          failure = {
            status: error instanceof QualityFailedError ? 'QUALITY_FAILED' : 'FAILED',
            error: reason,
          };
          break;
        }
      }
      if (failure) break;
    }
    for (const stage of stages.slice(outcomes.length)) {
      const now = clock().toISOString();
      outcomes.push({ name: stage.name, status: 'SKIPPED', attempts: 0, startedAt: now, endedAt: now });
    }
    // Landing failures stay as they are; a stage failure (or its repair by a re-run) sets the status.
    const landed = run.status === 'FAILED' && run.stages === undefined ? run : undefined;
    const { error: _previous, ...rest } = run;
    const record: RunRecord = landed
      ? { ...run, stages: outcomes, ...(quality ? { quality } : {}) }
      : {
          ...rest,
          status: failure?.status ?? 'SUCCEEDED',
          ...(failure ? { error: failure.error } : {}),
          stages: outcomes,
          ...(quality ? { quality } : {}),
        };
    await deps.state.putRun(record);
    if (failure) deps.logger.error('stages failed', { source, runId: run.runId, error: failure.error });
    return record;
  } finally {
    await held.release();
    if (engine) await (await engine.catch(() => undefined))?.close();
  }
}
