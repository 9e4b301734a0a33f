/** deletePrefix: everything under a prefix goes, partial writes included, except the keys kept. */
// @ts-nocheck

import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../../adapters/local/object-store.js';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

describe('LocalObjectStore.deletePrefix', () => {
  it('deletes objects and temp files under the prefix, keeps the kept keys and everything outside', async () => {
    // Prepare
    const root = await mkdtemp(join(tmpdir(), 'sluice-objects-'));
    roots.push(root);
    const store = new LocalObjectStore(root);
    const bytes = new TextEncoder().encode('x');
    await store.put('_staging/shop/r1/orders/00000.parquet', bytes);
    await store.put('_staging/shop/r1/orders/00001.parquet', bytes);
    await store.put('_staging/shop/r2/events/00000.parquet', bytes);
    await store.put('_staging/other/r3/a/00000.parquet', bytes);
    await writeFile(join(root, '_staging/shop/r1/orders/.00002.parquet.1.abc.tmp'), 'partial');
    // Act
    const deleted = await store.deletePrefix(
      '_staging/shop/',
      new Set(['_staging/shop/r1/orders/00001.parquet']),
    );
    // Assess
    expect(deleted.sort()).toEqual([
      '_staging/shop/r1/orders/00000.parquet',
      '_staging/shop/r2/events/00000.parquet',
    ]);
    expect((await store.list('_staging/')).map((o) => o.key)).toEqual([
      '_staging/other/r3/a/00000.parquet',
      '_staging/shop/r1/orders/00001.parquet',
    ]);
    expect(await readdir(join(root, '_staging/shop/r1/orders'))).toEqual(['00001.parquet']);
  });
});
