import { NotFoundError } from '../../engine/errors.js';
import type { RunRecord } from '../../engine/ports.js';
import { resolveSource } from '../../engine/sources.js';
import { runSync } from '../../engine/sync.js';
import type { CliContext } from '../context.js';
import { formatProgress } from '../format.js';

export interface SyncCommandOptions {
  readonly streams?: readonly string[];
  /** Seconds to wait for a concurrent run of the same source. */
  readonly waitSeconds?: number;
  readonly quiet?: boolean;
}

/** Syncs one stored source, printing progress to stderr; returns the run record. */
export async function syncSource(
  ctx: CliContext,
  name: string,
  options: SyncCommandOptions = {},
): Promise<RunRecord> {
  const source = await ctx.state.getSource(name);
  if (!source) {
    const known = (await ctx.state.listSources()).map((s) => s.name);
    throw new NotFoundError(
      `source "${name}" does not exist${known.length > 0 ? ` (sources: ${known.join(', ')})` : '; add one with `sluice sources add --file <json>`'}`,
    );
  }
  const { connector, config } = await resolveSource(source, ctx);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await runSync(
      { objects: ctx.objects, state: ctx.state, catalog: ctx.catalog, logger: ctx.logger },
      {
        source,
        connector,
        config,
        ...(options.streams && options.streams.length > 0 ? { streams: options.streams } : {}),
        leaseWaitMs: (options.waitSeconds ?? 0) * 1000,
        signal: controller.signal,
        onProgress: options.quiet ? undefined : (p) => process.stderr.write(`${formatProgress(p)}\n`),
      },
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
