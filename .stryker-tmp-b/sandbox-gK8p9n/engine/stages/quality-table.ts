/**
 * The quality table (the issue's `_quality`): every quality stage's results landed as a raw table
 * `<source>__sluice_quality` (stream `sluice_quality`, reserved), through the commit
 * protocol (catalog entry, staged Parquet moved into raw/, files added to the
 * catalog, committed manifest), so `sluice query` and Athena read it like any
 * other table. One file per run at a fixed key: a re-run of the stage for the
 * same run replaces that run's results instead of adding a second copy.
 */
// @ts-nocheck

import type { SourceRecord } from '../../connectors/sdk/types.js';
import { publishManifest, type RunManifest } from '../commit.js';
import { partitionOf, tableLocation } from '../layout.js';
import type { Catalog, Column, ObjectStore, QualityResult, SchemaVersion, StateStore } from '../ports.js';
import { METADATA_COLUMNS } from '../schema.js';
import { StreamFiles } from '../stream-files.js';

/** The stream name of the quality table; a connector stream of this name would share it. */
export const QUALITY_STREAM = 'sluice_quality';

/** The slice number of the quality manifest (run slices count from 1, so 0 never collides). */
const QUALITY_SLICE = 0;

export const QUALITY_COLUMNS: readonly Column[] = [
  { name: 'run_id', type: 'string' },
  { name: 'stream', type: 'string' },
  { name: 'check_name', type: 'string' },
  { name: 'severity', type: 'string' },
  { name: 'passed', type: 'boolean' },
  { name: 'failing_rows', type: 'bigint' },
  { name: 'checked_rows', type: 'bigint' },
  { name: 'sample_keys', type: 'string' },
  { name: 'message', type: 'string' },
  { name: 'checked_at', type: 'timestamp' },
];

export interface QualityTableDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly clock: () => Date;
}

/** Lands one run's quality results into `<source>__sluice_quality`; nothing when there are none. */
export async function landQualityResults(
  deps: QualityTableDeps,
  source: string,
  run: { readonly runId: string; readonly startedAt: string },
  results: readonly QualityResult[],
): Promise<void> {
  if (results.length === 0) return;
  const now = deps.clock();
  const existing = await deps.catalog.getTable(source, QUALITY_STREAM);
  const columns = [...QUALITY_COLUMNS, ...METADATA_COLUMNS];
  const versions: SchemaVersion[] = existing
    ? [...existing.schemaVersions]
    : [
        {
          version: 1,
          columns,
          changes: [`created table with ${QUALITY_COLUMNS.length} columns`],
          runId: run.runId,
          createdAt: now.toISOString(),
        },
      ];
  const rows: SourceRecord[] = results.map((r) => ({
    run_id: run.runId,
    stream: r.stream,
    check_name: r.check,
    severity: r.severity,
    passed: r.passed,
    failing_rows: r.failingRows,
    checked_rows: r.rows,
    sample_keys: JSON.stringify(r.sampleKeys),
    message: r.message,
    checked_at: now,
  }));
  const files = new StreamFiles({
    objects: deps.objects,
    source,
    stream: QUALITY_STREAM,
    runId: run.runId,
    partition: partitionOf(new Date(run.startedAt)),
    targetFileBytes: Number.MAX_SAFE_INTEGER,
    compression: 'snappy',
  });
  try {
    await files.writeRowGroup(columns, rows, {
      _sluice_run_id: run.runId,
      _sluice_extracted_at: now,
      _sluice_source: source,
    });
    await files.finish();
  } catch (error) {
    await files.discard().catch(() => undefined);
    throw error;
  }
  const manifest: RunManifest = {
    format: 2,
    runId: run.runId,
    source,
    createdAt: now.toISOString(),
    slice: QUALITY_SLICE,
    streams: [
      {
        name: QUALITY_STREAM,
        files: files.files,
        table: {
          source,
          stream: QUALITY_STREAM,
          location: tableLocation(source, QUALITY_STREAM),
          primaryKey: [],
          writeDisposition: 'append',
          schemaVersions: versions,
        },
      },
    ],
  };
  await publishManifest(deps, manifest);
}
