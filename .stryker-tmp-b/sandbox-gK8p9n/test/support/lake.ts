/** Test helpers: a throwaway local lake with the sample source registered. */
// @ts-nocheck

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalBackend, openLocalBackend } from '../../adapters/local/index.js';
import { sampleConnector } from '../../connectors/sample/index.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import type { Connector } from '../../connectors/sdk/types.js';
import type { RunRecord, SourceDefinition } from '../../engine/ports.js';
import { runSync, type SyncDeps, type SyncOptions } from '../../engine/sync.js';
import { sampleVersionsSql, versionsOf } from './sample-oracle.js';

export interface TestLake {
  readonly home: string;
  readonly backend: LocalBackend;
  /** One sync; `deps` replaces ports (e.g. an object store that fails on purpose). */
  sync(overrides?: Partial<SyncOptions>, deps?: Partial<SyncDeps>): Promise<RunRecord>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
}

export const SAMPLE_CONFIG = { rows: 3000, seed: 11, pageSize: 250 };

export function sampleSource(name = 'shop'): SourceDefinition {
  const now = new Date().toISOString();
  return { name, type: 'sample', config: SAMPLE_CONFIG, createdAt: now, updatedAt: now };
}

/** Small row groups and 1-byte target files: every row group becomes its own file. */
export const MANY_FILES = { rowGroupRows: 500, targetFileBytes: 1 } as const;

export async function openTestLake(
  source: SourceDefinition = sampleSource(),
  connector: Connector<never> = sampleConnector as Connector<never>,
  config: unknown = SAMPLE_CONFIG,
): Promise<TestLake> {
  const home = await mkdtemp(join(tmpdir(), 'sluice-test-'));
  const backend = await openLocalBackend(home);
  await backend.state.putSource(source);
  return {
    home,
    backend,
    sync: (overrides = {}, deps = {}) =>
      runSync(
        {
          objects: backend.objects,
          state: backend.state,
          catalog: backend.catalog,
          logger: silentLogger,
          ...deps,
        },
        { source, connector, config, ...MANY_FILES, ...overrides },
      ),
    query: async (sql) => {
      const engine = await backend.openQueryEngine();
      try {
        return [...(await engine.query(sql)).rows];
      } finally {
        await engine.close();
      }
    },
    dispose: () => rm(home, { recursive: true, force: true }),
  };
}

/** Every landed sample row as `stream|id|cursor|deleted`, sorted: compares lakes regardless of run ids. */
export async function landedSampleRows(lake: TestLake, source = 'shop'): Promise<string[]> {
  const rows = await lake.query(`
    SELECT 'customers' AS s, CAST(id AS VARCHAR) AS k, CAST(updated_at AS VARCHAR) AS c, coalesce(_sluice_deleted, false) AS d FROM ${source}.customers
    UNION ALL SELECT 'orders', CAST(id AS VARCHAR), CAST(updated_at AS VARCHAR), coalesce(_sluice_deleted, false) FROM ${source}.orders
    UNION ALL SELECT 'events', id, CAST(occurred_at AS VARCHAR), false FROM ${source}.events`);
  return rows.map((r) => `${r.s}|${r.k}|${r.c}|${r.d}`).sort();
}

/** Every landed sample record as an oracle version (`stream|id|cursorMs|deleted|digest`), sorted, duplicates kept. */
export async function landedSampleVersions(lake: TestLake, source = 'shop'): Promise<string[]> {
  return versionsOf(await lake.query(sampleVersionsSql((stream) => `${source}.${stream}`)));
}
