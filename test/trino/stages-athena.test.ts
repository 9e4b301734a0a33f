/**
 * On Trino (Athena engine v3's engine):
 * - the footer-type rule: a file whose Parquet type the declared Glue type
 *   cannot read in Athena fails the stages, though Trino alone reads it;
 * - the per-stage entry point (`runStage`, what the stages Lambda calls for
 *   each Task state) with its Athena SQL, driven stage by stage as the state
 *   machine drives it, with a crash after the MERGE retried.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TrinoQueryEngine } from '../../adapters/trino/query-engine.js';
import { sampleConnector } from '../../connectors/sample/index.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import type { QueryEngine, RunRecord } from '../../engine/ports.js';
import { STAGES } from '../../engine/stages/declarations.js';
import { QualityFailedError } from '../../engine/stages/errors.js';
import {
  isRetryable,
  recordStageFailure,
  runStage,
  runStages,
  type StageDeps,
  type StagePhase,
} from '../../engine/stages/runner.js';
import { athenaChecked } from '../support/athena-checked-engine.js';
import { expectedCurrent } from '../support/current-oracle.js';
import { openTestLake, SAMPLE_CONFIG, sampleSource, type TestLake } from '../support/lake.js';
import { trinoObjects } from '../support/trino-objects.js';

const CONFIG = { ...SAMPLE_CONFIG, rows: 400 };
const FAST = STAGES.map((s) => ({ ...s, retry: { ...s.retry, intervalMs: 1, maxDelayMs: 5 } }));

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

function deps(l: TestLake, schema: string, footerRule: boolean): StageDeps {
  const b = l.backend;
  return {
    objects: trinoObjects(b.objects),
    state: b.state,
    catalog: b.catalog,
    logger: silentLogger,
    openQueryEngine: async (): Promise<QueryEngine> => {
      const engine = trinoEngine(l, schema);
      return footerRule ? athenaChecked(engine, { catalog: b.catalog, objects: b.objects }) : engine;
    },
  };
}

/** Redeclares a column of a table in the catalog, as a careless schema change would (files untouched). */
async function redeclare(l: TestLake, stream: string, column: string, type: string): Promise<string> {
  const table = (await l.backend.catalog.getTable('shop', stream))!;
  const latest = table.schemaVersions.at(-1)!;
  const before = latest.columns.find((c) => c.name === column)!.type;
  await l.backend.catalog.putTable({
    ...table,
    schemaVersions: [
      ...table.schemaVersions.slice(0, -1),
      {
        ...latest,
        columns: latest.columns.map((c) => (c.name === column ? { ...c, type: type as typeof c.type } : c)),
      },
    ],
  });
  return before;
}

describe('the stages on Trino under Athena’s footer rule', () => {
  it('fails the stages on a file Athena cannot read, which Trino alone reads', async () => {
    // Prepare: orders.amount landed as DOUBLE, then declared `string` (Trino 476 reads DOUBLE as varchar)
    lake = await openTestLake(sampleSource(), undefined, CONFIG);
    await lake.sync();
    const landed = await redeclare(lake, 'orders', 'amount', 'string');
    const source = sampleSource();
    const streams = await sampleConnector.streams(CONFIG);
    const options = {
      source,
      streams,
      stages: FAST.map((s) => ({ ...s, retry: { ...s.retry, maxAttempts: 1 } })),
    };

    // Act
    // The checked run first: it stops before the MERGE, so the unchecked one still has the files to merge.
    const checked = await runStages(deps(lake, `t_${randomBytes(4).toString('hex')}`, true), options);
    const trinoOnly = await runStages(deps(lake, `t_${randomBytes(4).toString('hex')}`, false), options);

    // Assess
    expect(landed).toBe('double');
    expect(trinoOnly.status).toBe('SUCCEEDED');
    expect(checked.status).toBe('FAILED');
    expect(checked.error).toMatch(
      /^stage (quality|merge) failed after 1 attempt: Athena cannot read .*raw\/shop\/orders\/dt=[^:]+\.parquet: column amount is declared string, but the file has DOUBLE/s,
    );
  });
});

describe('runStage (the stages Lambda’s entry point) on Trino', () => {
  it('builds current stage by stage, a crash after MERGE retried, equal to the newest version per key', async () => {
    // Prepare
    lake = await openTestLake(sampleSource(), undefined, CONFIG);
    const schema = `t_${randomBytes(4).toString('hex')}`;
    const streams = await sampleConnector.streams(CONFIG);
    let crashed = false;
    const asStepFunctions = async (
      runId: string,
      onPhase?: (phase: StagePhase) => void,
    ): Promise<RunRecord> => {
      for (const stage of STAGES) {
        for (let attempt = 1; ; attempt++) {
          try {
            await runStage(deps(lake!, schema, true), {
              source: sampleSource(),
              streams,
              runId,
              stage: stage.name,
              attempt,
              ...(onPhase ? { onPhase } : {}),
            });
            break;
          } catch (error) {
            if (isRetryable(error) && attempt < stage.retry.maxAttempts) continue;
            return recordStageFailure(deps(lake!, schema, true), {
              source: 'shop',
              runId,
              error: (error as Error).message,
              qualityFailed: error instanceof QualityFailedError,
            });
          }
        }
      }
      return (await lake!.backend.state.getRun('shop', runId))!;
    };
    const first = await asStepFunctions((await lake.sync()).runId);
    const secondRun = await lake.sync();

    // Act
    const second = await asStepFunctions(secondRun.runId, (phase) => {
      if (phase === 'merge-applied' && !crashed) {
        crashed = true;
        throw new Error('injected crash after MERGE');
      }
    });

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    expect(second.stages?.find((s) => s.name === 'merge')?.attempts).toBe(2);
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
        const pick = (r: Record<string, unknown>) => ({
          id: r.id,
          updated_at: r.updated_at,
          status: r.status ?? null,
          run: r._sluice_run_id,
        });
        const { rows } = await trino.query(`SELECT * FROM shop__${stream}__current ORDER BY id`);
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.map(pick)).toEqual(
          [...oracle.values()].sort((a, b) => Number(a.id) - Number(b.id)).map(pick),
        );
      }
    } finally {
      await duck.close();
    }
  });
});
