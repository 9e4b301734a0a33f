import { afterEach, describe, expect, it } from 'vitest';
import { AthenaQueryError } from '../../../../adapters/aws/athena-query-engine.js';
import { renderLineage } from '../../../../cli/commands/lineage.js';
import { sampleConnector } from '../../../../connectors/sample/index.js';
import { silentLogger } from '../../../../connectors/sdk/logger.js';
import type { QueryEngine, RunRecord } from '../../../../engine/ports.js';
import { STAGES } from '../../../../engine/stages/declarations.js';
import { ModelError } from '../../../../engine/stages/errors.js';
import { traceLineage } from '../../../../engine/stages/lineage.js';
import { type ModelFile, orderModels, renderModel, runModels } from '../../../../engine/stages/models.js';
import { isRetryable, runStages } from '../../../../engine/stages/runner.js';
import { openTestLake, SAMPLE_CONFIG, sampleSource, type TestLake } from '../../../support/lake.js';

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
  lake = undefined;
});

const BY_STATUS: ModelFile = {
  path: 'models/z_by_status.sql',
  sql: "SELECT status, count(*) AS orders FROM ref('shop__orders__current') GROUP BY status",
};
const TOP: ModelFile = {
  path: 'models/a_top_status.sql',
  sql: "SELECT status FROM ref('z_by_status') ORDER BY orders DESC, status LIMIT 1;",
};

async function stagesWith(models: readonly ModelFile[]): Promise<RunRecord> {
  lake = await openTestLake();
  await lake.sync();
  return stagesAgain(models);
}

/** Runs the stages again for the lake's latest run; `puts` collects the keys the stages write. */
async function stagesAgain(models: readonly ModelFile[], puts: string[] = []): Promise<RunRecord> {
  const b = lake!.backend;
  const objects = new Proxy(b.objects, {
    get: (target, property) => {
      const value = Reflect.get(target, property) as unknown;
      if (property === 'put') {
        return (key: string, body: Uint8Array) => {
          puts.push(key);
          return target.put(key, body);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return runStages(
    {
      objects,
      state: b.state,
      catalog: b.catalog,
      logger: silentLogger,
      openQueryEngine: () => b.openQueryEngine(),
    },
    { source: sampleSource(), streams: await sampleConnector.streams(SAMPLE_CONFIG), stages: STAGES, models },
  );
}

describe('SQL models', () => {
  it('builds models in dependency order as tables', async () => {
    // Act
    const run = await stagesWith([TOP, BY_STATUS]);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.stages?.find((s) => s.name === 'models')?.detail).toEqual([
      'z_by_status (models/z_by_status.sql)',
      'a_top_status (models/a_top_status.sql)',
    ]);
    const direct = await lake!.query(
      'SELECT status, count(*) AS orders FROM shop__orders__current GROUP BY status ORDER BY orders DESC, status',
    );
    const model = await lake!.query('SELECT * FROM z_by_status ORDER BY orders DESC, status');
    const top = await lake!.query('SELECT * FROM a_top_status');
    expect(model).toEqual(direct);
    expect(top).toEqual([{ status: direct[0]!.status }]);
  });

  it('traces a model back through current to the source runs that landed its rows', async () => {
    // Prepare
    const first = await stagesWith([TOP, BY_STATUS]);
    const b = lake!.backend;
    const second = await lake!.sync();
    await runStages(
      {
        objects: b.objects,
        state: b.state,
        catalog: b.catalog,
        logger: silentLogger,
        openQueryEngine: () => b.openQueryEngine(),
      },
      {
        source: sampleSource(),
        streams: await sampleConnector.streams(SAMPLE_CONFIG),
        models: [TOP, BY_STATUS],
      },
    );

    // Act
    const lineage = await traceLineage(b.objects, 'a_top_status');

    // Assess
    const landed = await lake!.query('SELECT DISTINCT _sluice_run_id AS r FROM shop.orders ORDER BY r');
    expect(landed.map((r) => r.r)).toEqual([first.runId, second.runId]);
    expect(lineage.sourceRuns).toEqual([first.runId, second.runId]);
    expect(lineage.inputs.map((n) => n.table)).toEqual(['z_by_status']);
    expect(lineage.inputs[0]!.inputs.map((n) => n.table)).toEqual(['shop__orders__current']);
    const current = lineage.inputs[0]!.inputs[0]!;
    expect(current.inputs.map((n) => n.table)).toEqual(['shop__orders']);
    const files = current.records.flatMap((r) => r.files ?? []);
    expect(files).toEqual((await b.objects.list('raw/shop/orders/')).map((o) => o.key));
    const text = renderLineage(lineage);
    expect(text).toContain('a_top_status (model models/a_top_status.sql');
    expect(text).toContain('   └─ shop__orders__current (merge: 2 merges');
    expect(text).toContain(`source runs: ${first.runId}, ${second.runId}`);
  });

  it('fails the stage naming the file when a model does not run', async () => {
    // Act
    const run = await stagesWith([
      BY_STATUS,
      { path: 'models/broken.sql', sql: "SELECT no_such_column FROM ref('shop__orders__current')" },
    ]);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(
      /^stage models failed after 1 attempt: model models\/broken\.sql: .*no_such_column/,
    );
  });

  it('never writes over the live model file when the stages run again for the same run', async () => {
    // Prepare
    const first = await stagesWith([BY_STATUS]);
    const puts: string[] = [];

    // Act
    const second = await stagesAgain([BY_STATUS], puts);

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    expect(second.runId).toBe(first.runId);
    const direct = await lake!.query(
      'SELECT status, count(*) AS orders FROM shop__orders__current GROUP BY status ORDER BY status',
    );
    expect(await lake!.query('SELECT * FROM z_by_status ORDER BY status')).toEqual(direct);
    const files = (await lake!.backend.objects.list('models/z_by_status/')).map((o) => o.key);
    expect(files).toEqual([
      `models/z_by_status/${first.runId}/data.parquet`,
      'models/z_by_status/_current.json',
    ]);
    expect(puts).not.toContain(`models/z_by_status/${first.runId}/data.parquet`);
  });

  it('fails only the queries that read a model whose file is unreadable', async () => {
    // Prepare
    const run = await stagesWith([BY_STATUS]);
    await lake!.backend.objects.put(`models/z_by_status/${run.runId}/data.parquet`, new Uint8Array());

    // Act
    const raw = await lake!.query('SELECT count(*) AS n FROM shop__orders');
    const model = lake!.query('SELECT * FROM z_by_status');

    // Assess
    expect(Number(raw[0]!.n)).toBeGreaterThan(0);
    await expect(model).rejects.toThrow(
      /model z_by_status cannot be read \(models\/z_by_status\/_current\.json\)/,
    );
  });

  it('leaves a throttled or failed Athena statement to the retry, and fails a model whose SQL Athena refuses', async () => {
    // Prepare
    const failingWith = (error: unknown) => ({
      objects: lake!.backend.objects,
      engine: async () =>
        ({
          dialect: 'athena',
          query: async () => {
            throw error;
          },
          close: async () => undefined,
        }) as QueryEngine,
    });
    lake = await openTestLake();
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'TooManyRequestsException',
      $fault: 'client',
    });
    const system = new AthenaQueryError({ queryExecutionId: 'q1', state: 'FAILED', errorCategory: 1 });
    const user = new AthenaQueryError({
      queryExecutionId: 'q2',
      state: 'FAILED',
      reason: 'COLUMN_NOT_FOUND',
      errorCategory: 2,
    });

    // Act
    const outcomes = await Promise.all(
      [throttled, system, user].map((error) =>
        runModels(failingWith(error), [BY_STATUS], 'r1').catch((caught: unknown) => caught),
      ),
    );

    // Assess
    expect(outcomes.map(isRetryable)).toEqual([true, true, false]);
    expect(outcomes[0]).toMatchObject({ message: 'model models/z_by_status.sql: Rate exceeded' });
    expect(outcomes[2]).toBeInstanceOf(ModelError);
  });

  it('refuses a cycle of refs naming the files', () => {
    expect(() =>
      orderModels([
        { path: 'models/a.sql', sql: "SELECT * FROM ref('b')" },
        { path: 'models/b.sql', sql: "SELECT * FROM ref('a')" },
      ]),
    ).toThrow(
      new ModelError('models/a.sql', 'refs form a cycle: models/a.sql → models/b.sql → models/a.sql'),
    );
  });

  it('renders an Athena CTAS into the next table, then swaps it in', () => {
    const [model] = orderModels([BY_STATUS]);
    expect(renderModel(model!, 'athena', { uri: (k) => `s3://lake/${k}`, version: 'r1' })).toEqual([
      'DROP TABLE IF EXISTS `z_by_status__sluice_next`',
      `CREATE TABLE "z_by_status__sluice_next" WITH (table_type = 'ICEBERG', is_external = false, location = 's3://lake/models/z_by_status/r1/') AS SELECT status, count(*) AS orders FROM "shop__orders__current" GROUP BY status`,
      'DROP TABLE IF EXISTS `z_by_status`',
      'ALTER TABLE `z_by_status__sluice_next` RENAME TO `z_by_status`',
    ]);
  });
});
