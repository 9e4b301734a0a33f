// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { translate } from '../../../../adapters/trino/translate.js';
import { athenaMaintenanceSql, manifestTimeMs } from '../../../../engine/stages/maintenance.js';

describe('athenaMaintenanceSql', () => {
  it('renders OPTIMIZE BIN_PACK and VACUUM that the Trino layer translates', () => {
    // Act
    const [optimize, vacuum] = athenaMaintenanceSql('shop__orders__current');
    const trino = [...translate(optimize, { schema: 'lake' }), ...translate(vacuum, { schema: 'lake' })];

    // Assess
    expect(optimize).toBe('OPTIMIZE "shop__orders__current" REWRITE DATA USING BIN_PACK');
    expect(vacuum).toBe('VACUUM "shop__orders__current"');
    expect(trino.join('\n')).toContain('EXECUTE optimize');
    expect(trino.join('\n')).toContain('EXECUTE expire_snapshots');
  });
});

describe('manifestTimeMs', () => {
  it('reads the run timestamp a manifest id starts with, and nothing from other names', () => {
    expect(manifestTimeMs('20261127T131729613Z-470d10-s00001')).toBe(Date.UTC(2026, 10, 27, 13, 17, 29, 613));
    expect(manifestTimeMs('data.parquet')).toBeUndefined();
  });
});
