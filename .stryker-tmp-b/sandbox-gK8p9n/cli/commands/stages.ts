/**
 * `sluice stages run <source>`: runs the transform stages (quality, merge into
 * `current`) for the source's latest run; `sluice sync` runs them after each
 * run. The outcome lands in the run record.
 */
// @ts-nocheck

import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { SluiceError } from '../../engine/errors.js';
import { leaseOwnerFor, takeLease } from '../../engine/lease.js';
import type { QueryEngine, RunRecord } from '../../engine/ports.js';
import { resolveSource } from '../../engine/sources.js';
import { maintainCurrentTables, type TableMaintenance } from '../../engine/stages/maintenance.js';
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
      models,
      ...(options.runId ? { runId: options.runId } : {}),
      leaseWaitMs: (options.waitSeconds ?? 0) * 1000,
    },
  );
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
  const held = await takeLease(
    ctx.state,
    source.name,
    {
      owner: leaseOwnerFor(`maintain-${Date.now()}`),
      ttlMs: 300_000,
      waitMs: (options.waitSeconds ?? 0) * 1000,
      keep: false,
    },
    undefined,
  );
  let engine: Promise<QueryEngine> | undefined;
  try {
    return await maintainCurrentTables(
      {
        objects: ctx.objects,
        state: ctx.state,
        catalog: ctx.catalog,
        engine: () => {
          engine ??= ctx.openQueryEngine();
          return engine;
        },
      },
      source.name,
      options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs },
    );
  } finally {
    if (engine) await (await engine).close();
    await held.release();
  }
}
