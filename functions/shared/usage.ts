/**
 * What an invocation used, added to its run's record so the run shows its
 * estimated cost (engine/cost.ts). Any handler that works for a run can call
 * it in a `finally`: a failed invocation is billed too.
 */
import type { Context } from 'aws-lambda';
import { addInvocation, type InvocationUsage, LambdaArchitecture } from '../../engine/cost.js';
import type { StateStore } from '../../engine/ports.js';

/** The SluiceFunction construct's default, for a context that does not say (only tests). */
const DEFAULT_MEMORY_MB = 1769;

/** The memory size Lambda bills: the context's, else the runtime's variable. */
export function memoryOf(context: Pick<Context, 'memoryLimitInMB'> | undefined): number {
  const value = Number(context?.memoryLimitInMB ?? process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_MEMORY_MB;
}

/** The architecture this code runs on (the GB-second price depends on it). */
export function architectureOf(arch: string = process.arch): LambdaArchitecture {
  return arch === 'arm64' ? LambdaArchitecture.arm64 : LambdaArchitecture.x86_64;
}

/** One invocation, keyed by its request id: written twice, it counts once. */
export function invocationOf(
  context: Pick<Context, 'awsRequestId' | 'memoryLimitInMB'>,
  durationMs: number,
  stateTransitions: number,
): InvocationUsage {
  return {
    key: context.awsRequestId,
    durationMs,
    memoryMb: memoryOf(context),
    architecture: architectureOf(),
    requests: 1,
    stateTransitions,
  };
}

/**
 * Adds invocations (and fixed charges) to the run's recorded cost in one
 * write. Returns false, writing nothing, when the run has no record (e.g. a
 * `begin` that found the lease held: the run is another execution's).
 */
export async function recordUsage(
  state: StateStore,
  source: string,
  runId: string,
  usages: readonly InvocationUsage[],
): Promise<boolean> {
  const run = await state.getRun(source, runId);
  if (!run) return false;
  const counted = new Set(run.cost?.counted ?? []);
  const fresh = usages.filter((usage) => !counted.has(usage.key));
  if (fresh.length === 0) return true;
  let cost = run.cost;
  for (const usage of fresh) cost = addInvocation(cost, usage);
  await state.putRun({ ...run, cost });
  return true;
}
