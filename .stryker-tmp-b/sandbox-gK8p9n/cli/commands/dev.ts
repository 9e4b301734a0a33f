// @ts-nocheck
import type { RunRecord } from '../../engine/ports.js';
import { createSource } from '../../engine/sources.js';
import type { CliContext } from '../context.js';
import { formatCount, formatRunReport } from '../format.js';
import { printJson } from '../output.js';
import { printQuery } from './query.js';
import { runSourceStages } from './stages.js';
import { syncSource } from './sync.js';

export const DEV_SOURCE = 'shop';

/** Current orders by status: latest version per key, deletes honoured. */
export const DEV_QUERY = `SELECT status, count(*) AS orders, round(sum(amount), 2) AS amount
FROM (
  SELECT * FROM shop.orders
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at DESC, _sluice_extracted_at DESC) = 1
)
WHERE NOT coalesce(_sluice_deleted, false)
GROUP BY status ORDER BY orders DESC`;

function summary(run: RunRecord): string {
  const streams = Object.values(run.streams);
  const rows = streams.reduce((sum, s) => sum + s.rows, 0);
  const incremental = streams.some((s) => s.incremental);
  return incremental
    ? `incremental sync: ${formatCount(rows)} changed rows since the last run (only new, updated and deleted records)`
    : `first sync: ${formatCount(rows)} rows landed in ${streams.length} streams`;
}

/**
 * `npm start`: register the sample shop if absent, sync it, report, query.
 * With `--json`, one object: whether it registered the source, the run record
 * and the query's rows.
 */
export async function dev(
  ctx: CliContext,
  options: { rows: number; query: boolean; json?: boolean },
): Promise<void> {
  const json = options.json ?? false;
  const out = (line = ''): void => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  out(`Sluice local mode · home ${ctx.location}`);
  const registered = !(await ctx.state.getSource(DEV_SOURCE));
  if (registered) {
    await createSource(
      {
        name: DEV_SOURCE,
        type: 'sample',
        config: { rows: options.rows, seed: 42 },
        schedule: 'rate(1 hour)',
      },
      ctx,
    );
    out(`registered source "${DEV_SOURCE}" (connector sample, ${formatCount(options.rows)} orders)`);
  }
  out(`syncing "${DEV_SOURCE}" …`);
  const landed = await syncSource(ctx, DEV_SOURCE);
  // The stages (quality, merge into shop__<stream>__current) run after the sync, as `sluice sync` does.
  const run = await runSourceStages(ctx, DEV_SOURCE, { runId: landed.runId });
  if (json) {
    const rows = options.query ? await queryRows(ctx) : undefined;
    printJson({ source: DEV_SOURCE, registered, run, ...(rows ? { query: { sql: DEV_QUERY, rows } } : {}) });
    return;
  }
  out('');
  out(formatRunReport(run));
  out('');
  out(summary(run));
  if (options.query) {
    out('');
    out('query: current orders by status (latest version per id, deletes applied)');
    await printQuery(ctx, DEV_QUERY, false);
  }
  out('');
  out('next: run `npm start` again for an incremental sync, or try');
  out(`  npm run sluice -- query "SELECT * FROM ${DEV_SOURCE}.customers LIMIT 5"`);
  out(`  npm run sluice -- runs ${DEV_SOURCE}`);
  out(
    `  npm run sluice -- query "SELECT status, count(*) FROM ${DEV_SOURCE}__orders__current GROUP BY status"`,
  );
}

async function queryRows(ctx: CliContext): Promise<readonly Record<string, unknown>[]> {
  const engine = await ctx.openQueryEngine();
  try {
    return (await engine.query(DEV_QUERY)).rows;
  } finally {
    await engine.close();
  }
}
