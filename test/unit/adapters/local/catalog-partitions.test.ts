/**
 * Registered partitions in the local catalog (push tables): registration is
 * idempotent and keeps the first location, a switch moves a partition only
 * from where the caller says it is, and dropping the table drops them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalCatalog } from '../../../../adapters/local/catalog.js';
import { ConflictError, ValidationError } from '../../../../engine/errors.js';
import type { TableDefinition } from '../../../../engine/ports.js';

const TABLE: TableDefinition = {
  source: 'hooks',
  stream: 'clicks',
  location: 'raw/hooks/clicks/',
  primaryKey: [],
  writeDisposition: 'append',
  schemaVersions: [],
  partitioning: 'registered',
};
const v = (n: number) => `raw/hooks/clicks/dt=2026-11-20/v0000${n}/`;

describe('LocalCatalog partitions', () => {
  let dir: string;
  let catalog: LocalCatalog;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-partitions-'));
    catalog = new LocalCatalog(dir);
    await catalog.putTable(TABLE);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('registers a partition once and answers the first location on every later call', async () => {
    // Act
    const first = await catalog.ensurePartition('hooks', 'clicks', 'dt=2026-11-20', v(0));
    const again = await catalog.ensurePartition('hooks', 'clicks', 'dt=2026-11-20', v(5));

    // Assess
    expect([first, again]).toEqual([v(0), v(0)]);
    expect(await catalog.listPartitions('hooks', 'clicks')).toEqual([
      { partition: 'dt=2026-11-20', location: v(0) },
    ]);
    expect((await catalog.getTable('hooks', 'clicks'))?.partitioning).toBe('registered');
  });

  it('switches a partition from its location, again as a no-op, and refuses from anywhere else', async () => {
    // Prepare
    await catalog.ensurePartition('hooks', 'clicks', 'dt=2026-11-20', v(0));

    // Act
    await catalog.switchPartition('hooks', 'clicks', 'dt=2026-11-20', v(0), v(1));
    await catalog.switchPartition('hooks', 'clicks', 'dt=2026-11-20', v(0), v(1));
    const stale = catalog.switchPartition('hooks', 'clicks', 'dt=2026-11-20', v(0), v(2));

    // Assess
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    expect(await catalog.listPartitions('hooks', 'clicks')).toEqual([
      { partition: 'dt=2026-11-20', location: v(1) },
    ]);
  });

  it('refuses a partition of a missing table, a bad partition name and a location outside the lake', async () => {
    // Act + Assess
    await expect(catalog.ensurePartition('hooks', 'other', 'dt=2026-11-20', v(0))).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(catalog.ensurePartition('hooks', 'clicks', '2026-11-20', v(0))).rejects.toThrow(
      /partition "2026-11-20" is not dt=yyyy-mm-dd/,
    );
    await expect(catalog.ensurePartition('hooks', 'clicks', 'dt=2026-11-20', '../x/')).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('drops the partitions with the table', async () => {
    // Prepare
    await catalog.ensurePartition('hooks', 'clicks', 'dt=2026-11-20', v(0));

    // Act
    await catalog.deleteTable('hooks', 'clicks');
    await catalog.putTable(TABLE);

    // Assess
    expect(await catalog.listPartitions('hooks', 'clicks')).toEqual([]);
  });
});
