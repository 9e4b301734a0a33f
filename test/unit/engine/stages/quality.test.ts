import { afterEach, describe, expect, it } from 'vitest';
import { sampleConnector } from '../../../../connectors/sample/index.js';
import { silentLogger } from '../../../../connectors/sdk/logger.js';
import { ValidationError } from '../../../../engine/errors.js';
import type { RunRecord, SourceDefinition } from '../../../../engine/ports.js';
import { STAGES } from '../../../../engine/stages/declarations.js';
import {
  parseQuality,
  type QualityDeclarations,
  type QualityDeps,
  robustZ,
  runQuality,
} from '../../../../engine/stages/quality.js';
import { runStages } from '../../../../engine/stages/runner.js';
import { openTestLake, SAMPLE_CONFIG, sampleSource, type TestLake } from '../../../support/lake.js';

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
  lake = undefined;
});

async function syncAndCheck(
  quality: QualityDeclarations,
): Promise<{ run: RunRecord; source: SourceDefinition }> {
  const source: SourceDefinition = { ...sampleSource(), quality };
  lake = await openTestLake(source);
  await lake.sync();
  const b = lake.backend;
  const run = await runStages(
    {
      objects: b.objects,
      state: b.state,
      catalog: b.catalog,
      logger: silentLogger,
      openQueryEngine: () => b.openQueryEngine(),
    },
    { source, streams: await sampleConnector.streams(SAMPLE_CONFIG), stages: STAGES },
  );
  return { run, source };
}

describe('quality stage', () => {
  it('blocks promotion and names the check, the failing rows and sample keys when an error check fails', async () => {
    // Act
    const { run } = await syncAndCheck({
      orders: [
        { type: 'not_null', column: 'customer_id' },
        { type: 'accepted_values', column: 'status', values: ['pending', 'paid', 'shipped', 'delivered'] },
      ],
    });

    // Assess
    const refunded = await lake!.query(
      `SELECT id FROM shop.orders WHERE status = 'refunded' AND _sluice_run_id = '${run.runId}' ORDER BY id`,
    );
    expect(refunded.length).toBeGreaterThan(0);
    expect(run.status).toBe('QUALITY_FAILED');
    expect(run.error).toContain('accepted_values(status) failed');
    const failed = run.quality?.find((q) => q.check === 'accepted_values(status)');
    expect(failed).toMatchObject({ passed: false, severity: 'error', failingRows: refunded.length });
    expect(failed?.sampleKeys).toEqual(refunded.slice(0, 5).map((r) => String(r.id)));
    expect(run.quality?.find((q) => q.check === 'not_null(customer_id)')?.passed).toBe(true);
    expect(run.stages?.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['catalog', 'SUCCEEDED', 1],
      ['quality', 'FAILED', 1],
      ['merge', 'SKIPPED', 0],
      ['models', 'SKIPPED', 0],
    ]);
    await expect(lake!.query('SELECT count(*) FROM shop__orders__current')).rejects.toThrow(/does not exist/);
    expect((await lake!.backend.state.getRun('shop', run.runId))?.status).toBe('QUALITY_FAILED');
  });

  it('records a failing warn check and still promotes', async () => {
    // Act
    const { run } = await syncAndCheck({
      orders: [{ type: 'range', column: 'amount', max: 10, severity: 'warn' }, { type: 'unique' }],
    });

    // Assess
    const over = await lake!.query(`SELECT count(*) AS n FROM shop.orders WHERE amount > 10`);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.quality?.find((q) => q.check === 'range(amount)')).toMatchObject({
      passed: false,
      failingRows: Number(over[0]!.n),
    });
    expect(run.quality?.find((q) => q.check === 'unique(id)')?.passed).toBe(true);
    const current = await lake!.query('SELECT count(*) AS n FROM shop__orders__current');
    expect(Number(current[0]!.n)).toBeGreaterThan(0);
  });

  it('fails a regex check on values that do not match', async () => {
    // Act
    const { run } = await syncAndCheck({
      customers: [{ type: 'regex', column: 'email', pattern: '^[a-z]+\\.[a-z]+\\.1\\d*@' }],
    });

    // Assess
    const all = await lake!.query(`SELECT count(*) AS n FROM shop.customers WHERE email NOT LIKE '%.%.1%@%'`);
    expect(run.status).toBe('QUALITY_FAILED');
    expect(run.quality?.[0]?.failingRows).toBe(Number(all[0]!.n));
  });

  it('scores volume by the robust z-score against recent runs', () => {
    expect(robustZ(100, [100, 102, 98, 101, 99])).toBeCloseTo(0);
    expect(Math.abs(robustZ(1000, [100, 102, 98, 101, 99]))).toBeGreaterThan(3.5);
    expect(Math.abs(robustZ(100, [100, 100, 100]))).toBe(0);
  });

  it('fails volume when a run lands 0 rows after a steady history', async () => {
    // Prepare
    const runOf = (runId: string, rows: number): RunRecord =>
      ({
        source: 'shop',
        runId,
        status: 'SUCCEEDED',
        startedAt: runId,
        streams: { orders: { rows, files: rows > 0 ? 1 : 0 } },
      }) as unknown as RunRecord;
    const history = [1000, 1010, 990, 1005, 995, 1000].map((n, i) => runOf(`2026-11-2${i}`, n));
    const empty = runOf('2026-11-27', 0);
    const deps = {
      catalog: {
        getTable: async () => ({ source: 'shop', stream: 'orders', primaryKey: ['id'], schemaVersions: [] }),
      },
      state: { listRuns: async () => [empty, ...history] },
      engine: async () => ({ dialect: 'duckdb', query: async () => ({ columns: [], rows: [] }) }),
    } as unknown as QualityDeps;
    const source = { ...sampleSource(), quality: { orders: [{ type: 'volume' as const }] } };

    // Act
    const [volume] = await runQuality(deps, source, empty, []);

    // Assess
    expect(volume).toMatchObject({ check: 'volume', passed: false, failingRows: 0, rows: 0 });
    expect(volume?.message).toMatch(/^volume failed: 0 rows is -\d+\.\d robust z-scores/);
  });

  it('rejects a malformed declaration naming the field', () => {
    expect(() => parseQuality({ orders: [{ type: 'not_null' }] })).toThrow(ValidationError);
    expect(() => parseQuality({ orders: [{ type: 'not_null' }] })).toThrow(
      '"quality.orders[0].column" is required',
    );
    expect(() => parseQuality({ orders: [{ type: 'nope' }] })).toThrow(/quality\.orders\[0\]\.type/);
  });
});
