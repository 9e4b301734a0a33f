import { afterEach, describe, expect, it } from 'vitest';
import type { Connector, SourceRecord } from '../../../connectors/sdk/types.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

/** A source whose records change shape between runs, as real APIs do. */
function evolvingConnector(pages: SourceRecord[][]): Connector<never> {
  let run = 0;
  return {
    type: 'evolving',
    description: 'test source',
    configSchema: { type: 'object', properties: {} },
    check: async () => ({ ok: true }),
    streams: () => [
      {
        name: 'items',
        primaryKey: ['id'],
        writeDisposition: 'append',
        async *read() {
          yield pages[run++] ?? [];
        },
      },
    ],
  };
}

const source: SourceDefinition = {
  name: 'api',
  type: 'evolving',
  config: {},
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
});

describe('schema evolution across runs', () => {
  it('keeps every row queryable when a stream adds columns and widens types', async () => {
    // Prepare
    const connector = evolvingConnector([
      [
        { id: 1, amount: 5, label: 'a', legacy: true },
        { id: 2, amount: 7, label: 'b', legacy: false },
      ],
      [{ id: 3, amount: 3_000_000_000, label: 'c', country: 'SE' }],
      [{ id: 4, amount: 2.5, label: 'd', country: 'NO', seen_at: new Date('2026-03-01T12:00:00Z') }],
      [{ id: 5, amount: 'unknown', label: 'e' }],
    ]);
    lake = await openTestLake(source, connector, {});
    // Act
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await lake.sync());
    const rows = await lake.query(
      'SELECT id, amount, label, legacy, country, seen_at FROM api.items ORDER BY id',
    );
    const table = await lake.backend.catalog.getTable('api', 'items');
    // Assess
    expect(rows).toEqual([
      { id: 1, amount: '5', label: 'a', legacy: true, country: null, seen_at: null },
      { id: 2, amount: '7', label: 'b', legacy: false, country: null, seen_at: null },
      { id: 3, amount: '3000000000', label: 'c', legacy: null, country: 'SE', seen_at: null },
      { id: 4, amount: '2.5', label: 'd', legacy: null, country: 'NO', seen_at: '2026-03-01T12:00:00.000Z' },
      { id: 5, amount: 'unknown', label: 'e', legacy: null, country: null, seen_at: null },
    ]);
    expect(runs.map((r) => r.streams.items!.schemaChanges)).toEqual([
      ['created table with 5 columns'],
      ['widened amount: int → bigint', 'added column country (string)'],
      ['widened amount: bigint → double', 'added column seen_at (timestamp)'],
      ['widened amount: double → string'],
    ]);
    expect(table!.schemaVersions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(table!.schemaVersions.at(-1)!.columns.find((c) => c.name === 'amount')!.type).toBe('string');
  });

  it('reads the widened numeric column as numbers when no string ever arrives', async () => {
    const connector = evolvingConnector([[{ id: 1, amount: 5 }], [{ id: 2, amount: 0.25 }]]);
    lake = await openTestLake(source, connector, {});
    await lake.sync();
    await lake.sync();
    expect(await lake.query('SELECT id, amount FROM api.items ORDER BY id')).toEqual([
      { id: 1, amount: 5 },
      { id: 2, amount: 0.25 },
    ]);
  });
});
