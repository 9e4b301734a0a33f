/**
 * The stages' Athena SQL on a real Trino (Athena engine v3's engine): raw
 * tables as Hive external tables over the lake with the Glue schema and
 * partition projection, `current` as Iceberg tables written by MERGE. Every
 * file a query reads is first held to Athena's footer rule
 * (test/support/athena-checked-engine.ts): Trino alone reads type changes
 * Athena rejects.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TrinoQueryEngine } from '../../adapters/trino/query-engine.js';
import { sampleConnector } from '../../connectors/sample/index.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import type { QueryEngine, RunRecord } from '../../engine/ports.js';
import { STAGES, type StageDeclaration } from '../../engine/stages/declarations.js';
import { runStages, type StagePhase } from '../../engine/stages/runner.js';
import { athenaChecked } from '../support/athena-checked-engine.js';
import { expectedCurrent } from '../support/current-oracle.js';
import { openTestLake, SAMPLE_CONFIG, sampleSource, type TestLake } from '../support/lake.js';
import { trinoObjects } from '../support/trino-objects.js';

const FAST: readonly StageDeclaration[] = STAGES.map((s) => ({
  ...s,
  retry: { ...s.retry, intervalMs: 1, maxDelayMs: 5 },
}));
const ONCE = FAST.map((s) => ({ ...s, retry: { ...s.retry, maxAttempts: 1 } }));

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
  lake = undefined;
});

function trinoEngine(l: TestLake, schema: string): TrinoQueryEngine {
  const objects = trinoObjects(l.backend.objects);
  return new TrinoQueryEngine({
    url: process.env.SLUICE_TRINO_URL!,
    schema,
    catalog: l.backend.catalog,
    locationOf: (key) => objects.uri(key),
    schemaLocation: objects.uri(''),
  });
}

/** Keys of the files the footer rule checked, across every engine of a test. */
const checked = new Set<string>();

async function stages(
  l: TestLake,
  schema: string,
  list: readonly StageDeclaration[],
  onPhase?: (phase: StagePhase) => void,
): Promise<RunRecord> {
  const b = l.backend;
  return runStages(
    {
      objects: trinoObjects(b.objects),
      state: b.state,
      catalog: b.catalog,
      logger: silentLogger,
      openQueryEngine: async (): Promise<QueryEngine> =>
        athenaChecked(trinoEngine(l, schema), { catalog: b.catalog, objects: b.objects, checked }),
    },
    {
      source: sampleSource(),
      streams: await sampleConnector.streams(SAMPLE_CONFIG),
      stages: list,
      models: [BY_STATUS],
      ...(onPhase ? { onPhase } : {}),
    },
  );
}

const BY_STATUS = {
  path: 'models/orders_by_status.sql',
  sql: "SELECT status, count(*) AS orders FROM ref('shop__orders__current') GROUP BY status",
};

const pick = (r: Record<string, unknown>) => ({
  id: r.id,
  updated_at: r.updated_at,
  status: r.status ?? null,
  amount: r.amount ?? null,
  tier: r.tier ?? null,
  run: r._sluice_run_id,
});

describe('merge into current on Trino (Athena SQL)', () => {
  it('holds the newest version per key after two syncs, a crash after MERGE and a stage retried twice', async () => {
    // Prepare
    lake = await openTestLake(sampleSource(), undefined, { ...SAMPLE_CONFIG, rows: 600 });
    const schema = `t_${randomBytes(4).toString('hex')}`;
    await lake.sync();
    let crashed = false;
    const crash = await stages(lake, schema, ONCE, (phase) => {
      if (phase === 'merge-applied' && !crashed) {
        crashed = true;
        throw new Error('injected crash after MERGE');
      }
    });
    const first = await stages(lake, schema, FAST);
    await lake.sync();
    let failures = 0;

    // Act
    const second = await stages(lake, schema, FAST, (phase) => {
      if (phase === 'watermark-advanced' && failures < 2) {
        failures++;
        throw new Error('injected transient failure');
      }
    });

    // Assess
    expect(crash.status).toBe('FAILED');
    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    expect(second.stages?.find((s) => s.name === 'merge')?.attempts).toBe(3);
    const trino = trinoEngine(lake, schema);
    const duck = await lake.backend.openQueryEngine();
    try {
      for (const stream of ['orders', 'customers']) {
        const oracle = await expectedCurrent(lake.backend.objects, duck, {
          source: 'shop',
          stream,
          key: 'id',
          cursor: 'updated_at',
        });
        const expected = [...oracle.values()].sort((a, b) => Number(a.id) - Number(b.id)).map(pick);
        const { rows } = await trino.query(`SELECT * FROM shop__${stream}__current ORDER BY id`);
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.map(pick)).toEqual(expected);
      }
      const byStatus = await trino.query('SELECT status, orders FROM orders_by_status ORDER BY status');
      const direct = await trino.query(
        'SELECT status, count(*) AS orders FROM shop__orders__current GROUP BY status ORDER BY status',
      );
      expect(byStatus.rows.length).toBeGreaterThan(0);
      expect(byStatus.rows).toEqual(direct.rows);
      const tombstones = await trino.query('SELECT count(*) AS n FROM shop__orders WHERE _sluice_deleted');
      expect(Number(tombstones.rows[0]!.n)).toBeGreaterThan(0);
      // The footer rule saw every raw file the merge read.
      for (const stream of ['orders', 'customers']) {
        for (const object of await lake.backend.objects.list(`raw/shop/${stream}/`)) {
          if (object.key.endsWith('.parquet')) expect(checked).toContain(object.key);
        }
      }
    } finally {
      await duck.close();
    }
  });
});
