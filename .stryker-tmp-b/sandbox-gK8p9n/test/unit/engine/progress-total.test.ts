/** Progress carries the total a connector reports, so the CLI can show % and ETA. */
// @ts-nocheck

import { afterEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../../connectors/sdk/types.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import type { SyncProgress } from '../../../engine/sync.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

const lakes: TestLake[] = [];
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

function counting(reportTotal: boolean): Connector<never> {
  return {
    type: 'counting',
    description: 'Ten rows, with or without a reported total.',
    configSchema: { type: 'object', properties: {} },
    check: async () => ({ ok: true }),
    streams: () => [
      {
        name: 'rows',
        primaryKey: ['id'],
        writeDisposition: 'append',
        async *read(ctx) {
          if (reportTotal) ctx.reportTotal?.(10);
          yield Array.from({ length: 10 }, (_, i) => ({ id: i }));
        },
      },
    ],
  };
}

async function progressOf(reportTotal: boolean): Promise<SyncProgress[]> {
  const now = new Date().toISOString();
  const source: SourceDefinition = {
    name: 'counted',
    type: 'counting',
    config: {},
    createdAt: now,
    updatedAt: now,
  };
  const lake = await openTestLake(source, counting(reportTotal), {});
  lakes.push(lake);
  const seen: SyncProgress[] = [];
  await lake.sync({ onProgress: (p) => seen.push(p) });
  return seen;
}

describe('progress', () => {
  it('carries the total rows a connector reports, and none when it reports none', async () => {
    // Act
    const reported = await progressOf(true);
    const unreported = await progressOf(false);

    // Assess
    expect(reported.at(-1)).toMatchObject({ stream: 'rows', rows: 10, totalRows: 10, done: true });
    expect(unreported.at(-1)).toMatchObject({ stream: 'rows', rows: 10, done: true });
    expect(unreported.every((p) => p.totalRows === undefined)).toBe(true);
  });
});
