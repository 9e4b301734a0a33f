// @ts-nocheck
import { afterEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../../connectors/sdk/types.js';
import type { SourceDefinition, TableDefinition } from '../../../engine/ports.js';
import {
  AthenaReadError,
  checkFiles,
  declaredColumnsOf,
  readAsAthena,
  tableFiles,
} from '../../support/athena-read-check.js';
import {
  EVOLVED_CHANGES,
  EVOLVED_ROWS,
  EVOLVING_PAGES,
  evolvingConnector,
  pick,
} from '../../support/evolving.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

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

  it('makes the local query engine refuse such a column as Athena does, while other columns stay readable', async () => {
    // Prepare
    const evolved = await evolvedLake();
    lake = evolved.lake;
    const latest = evolved.table.schemaVersions.at(-1)!;
    await lake.backend.catalog.putTable({
      ...evolved.table,
      schemaVersions: [
        ...evolved.table.schemaVersions,
        {
          ...latest,
          version: latest.version + 1,
          columns: latest.columns.map((c) => (c.name === 'amount' ? { ...c, type: 'string' as const } : c)),
        },
      ],
    });
    // Act
    const amount = lake.query('SELECT amount FROM api.items');
    // Assess
    await expect(amount).rejects.toThrow(
      /HIVE_BAD_DATA: column amount of api.items is declared string, but .*\.parquet has INT(32|64)/,
    );
    expect(await lake.query('SELECT count(*) AS n, count(label) AS labels FROM api.items')).toEqual([
      { n: 5, labels: 5 },
    ]);
  });
});

describe('names across runs (local tier)', () => {
  it('lands fields under Glue-safe, collision-free columns that stay the same run after run', async () => {
    // Prepare: fields as APIs send them
    const page = (n: number) => [
      { ID: n, id: `legacy-${n}`, createdAt: '2026-03-01T00:00:00Z', dt: 'mine', 'Order Total': n * 10 },
    ];
    let run = 0;
    const connector: Connector<never> = {
      type: 'messy',
      description: 'test source',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: () => {
        return [
          {
            name: 'people',
            primaryKey: ['ID'],
            writeDisposition: 'merge',
            async *read() {
              yield page(++run);
            },
          },
        ];
      },
    };
    lake = await openTestLake({ ...source, name: 'crm', type: 'messy' }, connector, {});
    // Act
    const first = await lake.sync();
    const second = await lake.sync();
    const table = (await lake.backend.catalog.getTable('crm', 'people'))!;
    const rows = await readAsAthena(
      await tableFiles(lake.backend.objects, table.location),
      declaredColumnsOf(table),
    );
    // Assess
    expect(first.streams.people!.schemaChanges).toContain('field "ID" lands in column id_2 ("id" is taken)');
    expect(second.streams.people!.schemaChanges).toEqual([]);
    expect(table.primaryKey).toEqual(['id_2']);
    expect(table.schemaVersions.at(-1)!.names).toEqual({
      ID: 'id_2',
      dt: 'dt_2',
      createdAt: 'created_at',
      'Order Total': 'order_total',
    });
    expect(rows.map((r) => [r.id_2, r.id, r.dt_2, r.created_at, r.order_total]).sort()).toEqual([
      [1, 'legacy-1', 'mine', '2026-03-01T00:00:00Z', 10],
      [2, 'legacy-2', 'mine', '2026-03-01T00:00:00Z', 20],
    ]);
  });
});
