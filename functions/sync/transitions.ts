/**
 * The state transitions a sync execution is billed for, counted by the sync
 * Lambda from the state machine's shape (infra/constructs/sync-orchestration.ts):
 *
 *   HasRunId? [NameRunAfterExecution] → Begin → Drained? → (Slice → Drained?)×k
 *     → Finish → one Task per stage → Done
 *   any failure → RecordFailure → Failed
 *
 * Step Functions counts a transition for every state entered and for every
 * retry of a Task. So each invocation stands for its own Task attempt, plus
 * the states its success leads through up to the next invocation; the states
 * before `begin` are a fixed charge, keyed by the execution so a retried
 * begin counts them once. test/integration/functions/sync-cost.test.ts holds
 * this against the interpreter's count for real executions.
 */
import type { SyncAction } from './index.js';

/** Run ids the API issues (engine/layout.ts `newRunId`): `20261127T141322123Z-0a1b2c`. */
const ISSUED_RUN_ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

/**
 * A run id the API did not issue came from the execution's name: a schedule
 * started the execution without one and `NameRunAfterExecution` ran.
 */
export function startedWithoutRunId(runId: string): boolean {
  return !ISSUED_RUN_ID.test(runId);
}

/** `HasRunId?`, and `NameRunAfterExecution` when the execution was started without a run id. */
export function startTransitions(runId: string): number {
  return startedWithoutRunId(runId) ? 2 : 1;
}

/**
 * One invocation's share: its Task attempt, and when it returned, the states
 * up to the next Task (`Drained?` after begin and slice; every stage's Task
 * and `Done` after finish; `Failed` after fail). A stage's retries are its
 * own (the stages Lambda), not counted here.
 */
export function invocationTransitions(action: SyncAction, returned: boolean, stages: number): number {
  if (!returned) return 1;
  switch (action) {
    case 'begin':
    case 'slice':
      return 2;
    case 'finish':
      return 1 + stages + 1;
    case 'fail':
      return 2;
  }
}
