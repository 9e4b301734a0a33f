/**
 * The transform stages, declared as data: what runs after a run commits, in
 * order, and how each stage is retried. The local stage runner (runner.ts)
 * executes this list; the deployable service renders the same list into a
 * Step Functions state machine (one Task state per stage, its `Retry` from
 * `retry`, one Catch path that records the failure). The retry fields are
 * Step Functions' own: IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds.
 */
// @ts-nocheck


export const StageKind = {
  /** Data-quality checks declared with the source; an `error` check failing stops promotion. */
  quality: 'quality',
  /** Newest version per key into `<source>__<stream>__current`, tombstones applied. */
  merge: 'merge',
  /** The SQL models (`models/*.sql`), in dependency order, materialised as tables. */
  models: 'models',
} as const;
export type StageKind = (typeof StageKind)[keyof typeof StageKind];

export interface RetryPolicy {
  /** Attempts in all, the first included (Step Functions' MaxAttempts counts retries: this minus one). */
  readonly maxAttempts: number;
  /** Wait before the first retry. */
  readonly intervalMs: number;
  /** Each further wait is the previous one times this. */
  readonly backoffRate: number;
  /** No wait is longer than this. */
  readonly maxDelayMs: number;
}

export interface StageDeclaration {
  /** Unique; the state's name in the state machine and the stage's name in the run record. */
  readonly name: string;
  readonly kind: StageKind;
  readonly retry: RetryPolicy;
  /** What the stage is for, shown in the state machine's comment. */
  readonly description: string;
}

/** The same policy for every stage (SDLF: one retry policy everywhere). */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  intervalMs: 2000,
  backoffRate: 2,
  maxDelayMs: 30_000,
};

/** The stage list: run in this order after every committed run. */
export const STAGES: readonly StageDeclaration[] = [
  {
    name: 'quality',
    kind: StageKind.quality,
    retry: DEFAULT_RETRY,
    description: 'data-quality checks on the rows the run landed; error checks block promotion',
  },
  {
    name: 'merge',
    kind: StageKind.merge,
    retry: DEFAULT_RETRY,
    description: 'merge the raw files committed since the last merge into <source>__<stream>__current',
  },
  {
    name: 'models',
    kind: StageKind.models,
    retry: DEFAULT_RETRY,
    description: 'build the SQL models (models/*.sql) in dependency order',
  },
];

/** The wait before retry number `retry` (1-based) of a stage. */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxDelayMs, Math.round(policy.intervalMs * policy.backoffRate ** (retry - 1)));
}

/** Checks a stage list: names unique, kinds known, retry numbers sane. Throws naming the fault. */
export function validateStages(stages: readonly StageDeclaration[]): void {
  const seen = new Set<string>();
  const kinds = new Set<string>(Object.values(StageKind));
  for (const [index, stage] of stages.entries()) {
    const where = `stage ${index + 1} (${JSON.stringify(stage.name)})`;
    if (typeof stage.name !== 'string' || !/^[a-z][a-z0-9_-]{0,79}$/.test(stage.name)) {
      throw new TypeError(`${where}: name must be lowercase letters, digits, _ or - (at most 80)`);
    }
    if (seen.has(stage.name)) throw new TypeError(`${where}: name is used twice`);
    seen.add(stage.name);
    if (!kinds.has(stage.kind))
      throw new TypeError(`${where}: kind ${JSON.stringify(stage.kind)} is unknown`);
    const r = stage.retry;
    if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1) {
      throw new TypeError(`${where}: retry.maxAttempts must be a whole number ≥ 1`);
    }
    if (!(r.intervalMs >= 0) || !(r.backoffRate >= 1) || !(r.maxDelayMs >= 0)) {
      throw new TypeError(`${where}: retry needs intervalMs ≥ 0, backoffRate ≥ 1, maxDelayMs ≥ 0`);
    }
  }
}
