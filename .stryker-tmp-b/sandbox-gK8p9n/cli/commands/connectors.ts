/** `sluice connectors`: connector types and their config schemas. */
// @ts-nocheck

import type { CliContext } from '../context.js';
import { renderTable } from '../format.js';
import { printResult } from '../output.js';

export function listConnectors(ctx: Pick<CliContext, 'registry'>, json: boolean): void {
  const list = ctx.registry.list().map((c) => ({
    type: c.type,
    description: c.description,
    configSchema: c.configSchema,
  }));
  printResult(json, list, (l) =>
    renderTable(
      ['type', 'description', 'config fields (* required, secret marked 🔒)'],
      l.map((c) => [
        c.type,
        c.description,
        Object.entries(c.configSchema.properties)
          .map(([k, p]) => `${k}${c.configSchema.required?.includes(k) ? '*' : ''}${p.secret ? '🔒' : ''}`)
          .join(', '),
      ]),
    ),
  );
}
