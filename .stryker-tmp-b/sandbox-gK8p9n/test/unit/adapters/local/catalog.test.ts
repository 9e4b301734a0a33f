// @ts-nocheck
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalCatalog } from '../../../../adapters/local/catalog.js';
import { ValidationError } from '../../../../engine/errors.js';
import type { TableDefinition } from '../../../../engine/ports.js';

function table(source: string, stream: string, versions = 1): TableDefinition {
  return {
    source,
    stream,
    location: `raw/${source}/${stream}/`,
    primaryKey: ['id'],
    writeDisposition: 'merge',
    schemaVersions: Array.from({ length: versions }, (_, index) => ({
      version: index + 1,
      columns: [
        { name: 'id', type: 'int' as const },
        ...(index > 0 ? [{ name: 'note', type: 'string' as const }] : []),
      ],
      changes: index > 0 ? ['added column note'] : [],
      runId: `run-${index + 1}`,
      createdAt: '2026-01-01T00:00:00.000Z',
    })),
  };
}

describe('LocalCatalog', () => {
  let dir: string;
  let catalog: LocalCatalog;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-catalog-'));
    catalog = new LocalCatalog(dir);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a table and returns it with its schema versions', async () => {
    // Act
    await catalog.putTable(table('shop', 'orders'));
    await catalog.putTable(table('shop', 'orders', 2));

    // Assess
    const stored = await catalog.getTable('shop', 'orders');
    expect(stored).toEqual(table('shop', 'orders', 2));
    expect(stored?.schemaVersions.at(-1)?.columns.map((c) => c.name)).toEqual(['id', 'note']);
    expect(await catalog.getTable('shop', 'missing')).toBeUndefined();
  });

  it('does not rewrite a table whose content is unchanged', async () => {
    // Prepare
    await catalog.putTable(table('shop', 'orders'));
    const path = join(dir, 'shop', 'orders.json');
    const before = (await stat(path)).ino;

    // Act
    await catalog.putTable(table('shop', 'orders'));

    // Assess: an atomic rewrite would have renamed a new inode into place.
    expect((await stat(path)).ino).toBe(before);
  });

  it('lists tables sorted, for one source or all', async () => {
    // Prepare
    await catalog.putTable(table('shop', 'orders'));
    await catalog.putTable(table('shop', 'customers'));
    await catalog.putTable(table('crm', 'contacts'));
    await catalog.addFiles('shop', 'orders', 'run-1', ['raw/shop/orders/dt=2026-01-01/run-1-00000.parquet']);

    // Act
    const all = await catalog.listTables();
    const shop = await catalog.listTables('shop');

    // Assess
    expect(all.map((t) => `${t.source}.${t.stream}`)).toEqual([
      'crm.contacts',
      'shop.customers',
      'shop.orders',
    ]);
    expect(shop.map((t) => t.stream)).toEqual(['customers', 'orders']);
    expect(await catalog.listTables('nothing')).toEqual([]);
  });

  it('records committed files idempotently per run', async () => {
    // Prepare
    const keys = [
      'raw/shop/orders/dt=2026-01-01/r1-00001.parquet',
      'raw/shop/orders/dt=2026-01-01/r1-00000.parquet',
    ];

    // Act
    await catalog.addFiles('shop', 'orders', 'r1', keys);
    await catalog.addFiles('shop', 'orders', 'r1', keys); // a retried commit
    await catalog.addFiles('shop', 'orders', 'r1', [
      keys[0]!,
      'raw/shop/orders/dt=2026-01-01/r1-00002.parquet',
    ]);
    await catalog.addFiles('shop', 'orders', 'r2', ['raw/shop/orders/dt=2026-01-02/r2-00000.parquet']);

    // Assess
    expect(await catalog.listFiles('shop', 'orders')).toEqual([
      {
        runId: 'r1',
        keys: [
          'raw/shop/orders/dt=2026-01-01/r1-00000.parquet',
          'raw/shop/orders/dt=2026-01-01/r1-00001.parquet',
          'raw/shop/orders/dt=2026-01-01/r1-00002.parquet',
        ],
      },
      { runId: 'r2', keys: ['raw/shop/orders/dt=2026-01-02/r2-00000.parquet'] },
    ]);
  });

  it('deletes a table with its recorded files', async () => {
    // Prepare
    await catalog.putTable(table('shop', 'orders'));
    await catalog.addFiles('shop', 'orders', 'r1', ['raw/shop/orders/dt=2026-01-01/r1-00000.parquet']);

    // Act
    await catalog.deleteTable('shop', 'orders');
    await catalog.deleteTable('shop', 'orders');

    // Assess
    expect(await catalog.getTable('shop', 'orders')).toBeUndefined();
    expect(await catalog.listFiles('shop', 'orders')).toEqual([]);
    expect(await catalog.listTables()).toEqual([]);
  });

  it('rejects names that are not snake_case and locations outside the lake', async () => {
    // Act & Assess
    await expect(catalog.putTable(table('../x', 'orders'))).rejects.toBeInstanceOf(ValidationError);
    await expect(catalog.getTable('shop', 'Orders')).rejects.toMatchObject({ field: 'stream' });
    await expect(
      catalog.putTable({ ...table('shop', 'orders'), location: '../../etc/' }),
    ).rejects.toMatchObject({
      field: 'location',
    });
  });
});
