/**
 * `sluice stages run <source>`: runs the transform stages (quality, merge into
 * `current`) for the source's latest run; `sluice sync` runs them after each
 * run. The outcome lands in the run record.
 */
import { SluiceError } from '../../engine/errors.js';
import type { RunRecord } from '../../engine/ports.js';
import { resolveSource } from '../../engine/sources.js';
import { runStages } from '../../engine/stages/runner.js';
import type { CliContext } from '../context.js';
import { sourceOrFail } from './sources.js';

export async function runSourceStages(
  ctx: CliContext,
  name: string,
  options: { runId?: string; waitSeconds?: number } = {},
): Promise<RunRecord> {
  const source = await sourceOrFail(ctx, name);
  const { connector, config } = await resolveSource(source, ctx);
  const streams = await connector.streams(config as never);
  return runStages(
    {
      objects: ctx.objects,
      state: ctx.state,
      catalog: ctx.catalog,
      logger: ctx.logger,
      openQueryEngine: () => ctx.openQueryEngine(),
    },
    {
      source,
      streams,
      ...(options.runId ? { runId: options.runId } : {}),
      leaseWaitMs: (options.waitSeconds ?? 0) * 1000,
    },
  );
}

/** The error a command fails with when the stages did not succeed. */
export function stagesFailed(run: RunRecord): SluiceError {
  return new SluiceError(`run ${run.runId} is ${run.status}: ${run.error ?? 'a stage failed'}`);
}
