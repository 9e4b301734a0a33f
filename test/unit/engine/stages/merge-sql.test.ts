import { describe, expect, it } from 'vitest';
import type { MergePlan } from '../../../../engine/stages/merge-plan.js';
import { renderMerge } from '../../../../engine/stages/merge-sql.js';

const PLAN: MergePlan = {
  source: 'shop',
  stream: 'orders',
  rawTable: 'shop__orders',
  table: 'shop__orders__current',
  key: ['id'],
  cursor: undefined,
  mode: 'merge',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'amount', type: 'bigint' },
    { name: '_sluice_run_id', type: 'string' },
  ],
  tombstones: false,
  files: [
    {
      key: 'raw/shop/orders/dt=2026-11-27/r2-00000.parquet',
      manifest: 'r2-s00001',
      dt: '2026-11-27',
      runId: 'r2',
    },
  ],
  from: 'r1-s00001',
  to: 'r2-s00001',
} as MergePlan;

const uri = (key: string) => `s3://lake/${key}`;

describe('renderMerge for Athena', () => {
  it('promotes an int column of the current table when the plan has it as bigint', () => {
    // Act
    const statements = renderMerge(PLAN, 'athena', {
      uri,
      existingColumns: ['id', 'amount', '_sluice_run_id'],
      existingColumnTypes: ['integer', 'integer', 'varchar'],
    });

    // Assess
    expect(statements.filter((s) => s.startsWith('ALTER TABLE'))).toEqual([
      'ALTER TABLE `shop__orders__current` CHANGE COLUMN `amount` `amount` bigint',
    ]);
    expect(statements.at(-1)).toMatch(/^MERGE INTO/);
  });

  it('changes no column when the current table has the plan types already', () => {
    // Act
    const statements = renderMerge(PLAN, 'athena', {
      uri,
      existingColumns: ['id', 'amount', '_sluice_run_id'],
      existingColumnTypes: ['integer', 'bigint', 'varchar'],
    });

    // Assess
    expect(statements.filter((s) => s.startsWith('ALTER TABLE'))).toEqual([]);
  });
});
