/**
 * A raw column widened in place (int → bigint, engine/schema.ts
 * `widensInPlace`) reaching an Iceberg `current` table created while it was
 * int: the merge promotes the current column first (Athena's `CHANGE
 * COLUMN`, Trino's `SET DATA TYPE`), or the MERGE fails with
 * NUMERIC_VALUE_OUT_OF_RANGE on every run.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { TrinoQueryEngine } from '../../adapters/trino/query-engine.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import type { QueryEngine, RunRecord, SourceDefinition } from '../../engine/ports.js';
import { STAGES } from '../../engine/stages/declarations.js';
import { runStages } from '../../engine/stages/runner.js';
import { athenaChecked } from '../support/athena-checked-engine.js';
import { EVOLVING_PAGES, evolvingConnector } from '../support/evolving.js';
import { openTestLake, type TestLake } from '../support/lake.js';
import { trinoObjects } from '../support/trino-objects.js';

const ONCE = STAGES.map((s) => ({ ...s, retry: { ...s.retry, maxAttempts: 1 } }));

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
  lake = undefined;
});

it('promotes the current column to bigint when the raw column widened from int', async () => {
  // Prepare
  const now = new Date().toISOString();
  const source: SourceDefinition = {
    name: 'ev',
    type: 'evolving',
    config: {},
    createdAt: now,
    updatedAt: now,
  };
  const connector = evolvingConnector(EVOLVING_PAGES.slice(0, 2));
  lake = await openTestLake(source, connector, {});
  const b = lake.backend;
  const objects = trinoObjects(b.objects);
  const trino = new TrinoQueryEngine({
    url: process.env.SLUICE_TRINO_URL!,
    schema: `widen_${randomBytes(4).toString('hex')}`,
    catalog: b.catalog,
    locationOf: (key) => objects.uri(key),
    schemaLocation: objects.uri(''),
  });
  const stages = async (): Promise<RunRecord> =>
    runStages(
      {
        objects,
        state: b.state,
        catalog: b.catalog,
        logger: silentLogger,
        openQueryEngine: async (): Promise<QueryEngine> =>
          athenaChecked(trino, { catalog: b.catalog, objects: b.objects, checked: new Set() }),
      },
      { source, streams: await connector.streams({} as never), stages: ONCE },
    );
  await lake.sync();
  const first = await stages();

  // Act
  await lake.sync();
  const second = await stages();

  // Assess
  expect(first.status).toBe('SUCCEEDED');
  expect(second.error).toBeUndefined();
  expect(second.status).toBe('SUCCEEDED');
  const current = await trino.query('SELECT "id", "amount" FROM "ev__items__current" ORDER BY "id"');
  expect(current.columnTypes).toEqual(['integer', 'bigint']);
  expect(current.rows).toEqual([
    { id: 1, amount: 5 },
    { id: 2, amount: 7 },
    { id: 3, amount: 3_000_000_000 },
  ]);
});
