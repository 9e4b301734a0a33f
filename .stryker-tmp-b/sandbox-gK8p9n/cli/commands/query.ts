// @ts-nocheck
import type { CliContext } from '../context.js';
import { formatQueryResult } from '../format.js';

/** Runs SQL over the landed tables and prints the rows (JSON: an array of row objects). */
export async function printQuery(ctx: CliContext, sql: string, json: boolean): Promise<void> {
  const engine = await ctx.openQueryEngine();
  try {
    const result = await engine.query(sql);
    if (json) {
      process.stdout.write(`${JSON.stringify(result.rows)}\n`);
    } else {
      process.stdout.write(`${formatQueryResult(result)}\n`);
    }
  } finally {
    await engine.close();
  }
}
