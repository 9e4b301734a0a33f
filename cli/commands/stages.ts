/**
 * `sluice stages run <source>`: runs the transform stages (quality, merge into
 * `current`) for the source's latest run; `sluice sync` runs them after each
 * run. The outcome lands in the run record.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { SluiceError } from '../../engine/errors.js';
import type { RunRecord } from '../../engine/ports.js';
import { resolveSource } from '../../engine/sources.js';
import {
  maintainSource as maintainCurrentSource,
  type TableMaintenance,
} from '../../engine/stages/maintenance.js';
import type { ModelFile } from '../../engine/stages/models.js';
import { runStages } from '../../engine/stages/runner.js';
import type { CliContext } from '../context.js';
import { sourceOrFail } from './sources.js';

/** The SQL models: `*.sql` in `dir` (default `$SLUICE_MODELS`, else `./models`); none when it does not exist. */
export async function loadModels(dir?: string): Promise<ModelFile[]> {
  const root = resolve(dir ?? process.env.SLUICE_MODELS ?? 'models');
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => n.endsWith('.sql')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && dir === undefined) return [];
    throw new SluiceError(`cannot read the models directory ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const shown = relative(process.cwd(), root) || '.';
  return Promise.all(
    names.map(async (n) => ({ path: join(shown, n), sql: await readFile(join(root, n), 'utf8') })),
  );
}

export async function runSourceStages(
  ctx: CliContext,
  name: string,
  options: { runId?: string; waitSeconds?: number; modelsDir?: string } = {},
): Promise<RunRecord> {
  const source = await sourceOrFail(ctx, name);
  const { connector, config } = await resolveSource(source, ctx);
  const streams = await connector.streams(config as never);
  const models = await loadModels(options.modelsDir);
  // The stages stop where they are on Ctrl-C, as they would on a crash, and the next run takes them
  // up again: say so instead of leaving silently. Locally the lease of a process that is gone is free
  // at once; in DynamoDB it runs out (releasing it here could let another runner start while this
  // process still writes).
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? 130 : 143;
    const say = (after: string): void => {
      process.stderr.write(
        `\ninterrupted during the stages of ${name}: the landed data is committed; ${after}\`sluice stages run ${name}\` or the next sync finishes them\n`,
      );
      process.exit(code);
    };
    if (ctx.backend === 'local') {
      say('');
      return;
    }
    ctx.state.getLease(name).then(
      (lease) =>
        say(
          `once the stages' lease runs out${lease ? ` (${new Date(lease.expiresAt).toISOString()})` : ''}, add --wait 300 to wait for it, `,
        ),
      () => say("once the stages' lease runs out, "),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await runStages(
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
        models,
        ...(options.runId ? { runId: options.runId } : {}),
        leaseWaitMs: (options.waitSeconds ?? 0) * 1000,
      },
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The error a command fails with when the stages did not succeed. */
export function stagesFailed(run: RunRecord): SluiceError {
  return new SluiceError(`run ${run.runId} is ${run.status}: ${run.error ?? 'a stage failed'}`);
}

/** `sluice stages maintain <source>`: compaction and expiry of the current tables, under the source's lease. */
export async function maintainSource(
  ctx: CliContext,
  name: string,
  options: { retentionMs?: number; waitSeconds?: number } = {},
): Promise<TableMaintenance[]> {
  const source = await sourceOrFail(ctx, name);
  return maintainCurrentSource(
    {
      objects: ctx.objects,
      state: ctx.state,
      catalog: ctx.catalog,
      openQueryEngine: () => ctx.openQueryEngine(),
    },
    source.name,
    {
      leaseWaitMs: (options.waitSeconds ?? 0) * 1000,
      ...(options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs }),
    },
  );
}
