// @ts-nocheck
import { afterEach, describe, expect, it } from 'vitest';
import { sampleConnector } from '../../../connectors/sample/index.js';
import type { Connector } from '../../../connectors/sdk/types.js';
import { catalogTableName, validateTableForCatalog } from '../../../engine/catalog-rules.js';
import { ValidationError } from '../../../engine/errors.js';
import type { Column, TableDefinition } from '../../../engine/ports.js';
import { createRegistry, parseSourceInput } from '../../../engine/sources.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

function table(columns: Column[], source = 'shop', stream = 'orders'): TableDefinition {
  return {
    source,
    stream,
    location: `raw/${source}/${stream}/`,
    primaryKey: [],
    writeDisposition: 'append',
    schemaVersions: [{ version: 1, columns, changes: [], runId: 'r', createdAt: '2026-01-01T00:00:00Z' }],
  };
}

describe('validateTableForCatalog', () => {
  it('accepts the names and types the engine produces', () => {
    expect(() =>
      validateTableForCatalog(
        table([
          { name: 'id', type: 'bigint' },
          { name: 'amount', type: 'decimal(38,10)' },
          { name: 'amount__string', type: 'string', variantOf: 'amount' },
          { name: '_1st', type: 'int' },
          { name: '_sluice_deleted', type: 'boolean' },
        ]),
      ),
    ).not.toThrow();
  });

  it('names every problem Glue or Athena would refuse', () => {
    // Act
    const validate = () =>
      validateTableForCatalog(
        table(
          [
            { name: 'dt', type: 'string' },
            { name: 'Id', type: 'int' },
            { name: 'id', type: 'int' },
            { name: 'x'.repeat(256), type: 'int' },
            { name: 'price ($)', type: 'double' },
            { name: 'price', type: 'decimal(39,2)' as Column['type'] },
          ],
          'shop',
          's'.repeat(250),
        ),
      );
    // Assess
    expect(validate).toThrow(ValidationError);
    expect(validate).toThrow(
      new RegExp(
        [
          'table name "shop__s+" is 256 characters; Glue allows 255',
          'column "dt" would be hidden by the partition key',
          'columns "Id" and "id" are one column to Glue',
          'must be 1–255 characters',
          'column name "price \\(\\$\\)" may hold only letters, digits and _',
          'column "price" has type "decimal\\(39,2\\)", which is not a lake type',
        ].join('.*'),
      ),
    );
  });
});

describe('source names', () => {
  const registry = createRegistry([sampleConnector as Connector<never>]);
  const parse = (name: string) => () => parseSourceInput({ name, type: 'sample', config: {} }, registry);

  it('cannot make two source/stream pairs share a Glue table name', () => {
    expect(catalogTableName('a__b', 'c')).toBe(catalogTableName('a', 'b__c'));
    expect(parse('a__b')).toThrow(/no "__"/);
    expect(parse('a_')).toThrow(ValidationError);
    expect(parse('a_b')).not.toThrow();
    expect(parse('shop2')).not.toThrow();
    expect(parse('x'.repeat(64))).toThrow(ValidationError);
  });
});

describe('a table Glue would refuse', () => {
  let lake: TestLake | undefined;
  afterEach(async () => {
    await lake?.dispose();
  });

  it('fails the run before its commit point: nothing lands, the cursor stays', async () => {
    // Prepare: a declared type no catalog knows
    const connector: Connector<never> = {
      type: 'bad',
      description: 'test source',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: () => [
        {
          name: 'payments',
          primaryKey: ['id'],
          writeDisposition: 'append',
          incremental: { cursorField: 'id', initialValue: 0 },
          columns: { amount: 'decimal(40,2)' as Column['type'] },
          async *read() {
            yield [{ id: 1, amount: '1.00' }];
          },
        },
      ],
    };
    const now = new Date().toISOString();
    lake = await openTestLake(
      { name: 'bad', type: 'bad', config: {}, createdAt: now, updatedAt: now },
      connector,
      {},
    );
    // Act
    const run = lake.sync();
    // Assess
    await expect(run).rejects.toThrow(
      /column "amount" is declared "decimal\(40,2\)", which is not a lake type/,
    );
    expect(await lake.backend.objects.list('raw/')).toEqual([]);
    expect(await lake.backend.objects.list('_manifests/')).toEqual([]);
    expect((await lake.backend.state.getCursor('bad', 'payments')).version).toBe(0);
  });
});
