import { afterEach, describe, expect, it } from 'vitest';
import type { Connector, SourceRecord } from '../../../connectors/sdk/types.js';
import type { SourceDefinition, TableDefinition } from '../../../engine/ports.js';
import {
  AthenaReadError,
  checkFiles,
  declaredColumnsOf,
  readAsAthena,
  tableFiles,
} from '../../support/athena-read-check.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

/** A source whose records change shape between runs, as real APIs do. */
export function evolvingConnector(pages: SourceRecord[][]): Connector<never> {
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

/** int → bigint → double → string, added and vanished columns, timestamps, booleans → string. */
export const EVOLVING_PAGES: SourceRecord[][] = [
  [
    { id: 1, amount: 5, label: 'a', legacy: true, flag: true, seen_at: new Date('2026-03-01T12:00:00Z') },
    { id: 2, amount: 7, label: 'b', legacy: false, flag: false },
  ],
  [{ id: 3, amount: 3_000_000_000, label: 'c', country: 'SE' }],
  [{ id: 4, amount: 2.5, label: 'd', country: 'NO', seen_at: '2026-03-02T08:30:00Z' }],
  [{ id: 5, amount: 'unknown', label: 'e', flag: 'maybe', seen_at: 'not a time' }],
];

export const EVOLVED_CHANGES = [
  ['created table with 7 columns'],
  ['widened amount: int → bigint', 'added column country (string)'],
  ['added variant column amount__double (double) for values of amount that are not bigint'],
  [
    'added variant column amount__string (string) for values of amount that are not bigint',
    'added variant column flag__string (string) for values of flag that are not boolean',
    'added variant column seen_at__string (string) for values of seen_at that are not timestamp',
  ],
];

export const EVOLVED_ROWS = [
  {
    id: 1,
    amount: 5,
    amount__double: null,
    amount__string: null,
    legacy: true,
    flag: true,
    flag__string: null,
    seen_at: '2026-03-01T12:00:00.000Z',
    seen_at__string: null,
    country: null,
  },
  {
    id: 2,
    amount: 7,
    amount__double: null,
    amount__string: null,
    legacy: false,
    flag: false,
    flag__string: null,
    seen_at: null,
    seen_at__string: null,
    country: null,
  },
  {
    id: 3,
    amount: 3_000_000_000,
    amount__double: null,
    amount__string: null,
    legacy: null,
    flag: null,
    flag__string: null,
    seen_at: null,
    seen_at__string: null,
    country: 'SE',
  },
  {
    id: 4,
    amount: null,
    amount__double: 2.5,
    amount__string: null,
    legacy: null,
    flag: null,
    flag__string: null,
    seen_at: '2026-03-02T08:30:00.000Z',
    seen_at__string: null,
    country: 'NO',
  },
  {
    id: 5,
    amount: null,
    amount__double: null,
    amount__string: 'unknown',
    legacy: null,
    flag: null,
    flag__string: 'maybe',
    seen_at: null,
    seen_at__string: 'not a time',
    country: null,
  },
];

const PICK = Object.keys(EVOLVED_ROWS[0]!);
export const pick = (rows: Record<string, unknown>[]): Record<string, unknown>[] =>
  rows
    .map((row) => Object.fromEntries(PICK.map((k) => [k, row[k] ?? null])))
    .sort((a, b) => Number(a.id) - Number(b.id));

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

async function evolvedLake(): Promise<{ lake: TestLake; table: TableDefinition; changes: string[][] }> {
  const opened = await openTestLake(source, evolvingConnector(EVOLVING_PAGES), {});
  const changes: string[][] = [];
  for (let i = 0; i < EVOLVING_PAGES.length; i++)
    changes.push([...(await opened.sync()).streams.items!.schemaChanges]);
  const table = await opened.backend.catalog.getTable('api', 'items');
  return { lake: opened, table: table!, changes };
}

describe('schema evolution across runs (local tier, read as Athena reads)', () => {
  it('keeps every file readable through the declared types while a column goes int → bigint → double → string', async () => {
    // Prepare
    const evolved = await evolvedLake();
    lake = evolved.lake;
    // Act
    const files = await tableFiles(lake.backend.objects, evolved.table.location);
    const rows = await readAsAthena(files, declaredColumnsOf(evolved.table));
    // Assess
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(pick(rows)).toEqual(EVOLVED_ROWS);
    expect(evolved.changes).toEqual(EVOLVED_CHANGES);
    expect(evolved.table.schemaVersions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    const declared = Object.fromEntries(declaredColumnsOf(evolved.table).map((c) => [c.name, c.type]));
    expect(declared).toMatchObject({
      amount: 'bigint',
      amount__double: 'double',
      amount__string: 'string',
      flag: 'boolean',
      seen_at: 'timestamp',
    });
  });

  it('gives the same rows through the local query engine', async () => {
    const evolved = await evolvedLake();
    lake = evolved.lake;
    expect(pick(await lake.query('SELECT * FROM api.items'))).toEqual(EVOLVED_ROWS);
  });

  it('catches a column redeclared over older files of another physical type', async () => {
    // Prepare: what the former policy did — declare amount `string` over INT32/INT64/DOUBLE files
    const evolved = await evolvedLake();
    lake = evolved.lake;
    const latest = evolved.table.schemaVersions.at(-1)!;
    const redeclared = {
      ...evolved.table,
      schemaVersions: [
        {
          ...latest,
          columns: latest.columns.map((c) => (c.name === 'amount' ? { ...c, type: 'string' as const } : c)),
        },
      ],
    };
    const files = await tableFiles(lake.backend.objects, evolved.table.location);
    // Act
    const violations = checkFiles(files, declaredColumnsOf(redeclared));
    const read = readAsAthena(files, declaredColumnsOf(redeclared));
    // Assess
    expect(violations.map((v) => [v.column, v.declared, v.fileType])).toEqual(
      expect.arrayContaining([
        ['amount', 'string', 'INT32'],
        ['amount', 'string', 'INT64'],
      ]),
    );
    expect(violations.every((v) => v.file.startsWith('raw/api/items/dt='))).toBe(true);
    await expect(read).rejects.toThrow(AthenaReadError);
    await expect(read).rejects.toThrow(/column amount is declared string, but the file has INT32/);
  });
});
