/**
 * The quality stage's Athena SQL on Trino (Athena engine v3's engine): every
 * check type, passing and failing, `error` and `warn`, run through `runStage`
 * (the stages Lambda's entry point) under Athena's footer rule, compared with
 * an oracle computed in TypeScript from the landed Parquet files (read back
 * with a plain `SELECT *`) and with the same stage on DuckDB.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TrinoQueryEngine } from '../../adapters/trino/query-engine.js';
import { sampleConnector } from '../../connectors/sample/index.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import type { Connector, SourceRecord, Stream, StreamItem } from '../../connectors/sdk/types.js';
import type { QualityResult, QueryEngine, RunRecord, SourceDefinition } from '../../engine/ports.js';
import { QualityFailedError } from '../../engine/stages/errors.js';
import type { QualityCheck, QualityDeclarations } from '../../engine/stages/quality.js';
import { recordStageFailure, runStage, type StageDeps } from '../../engine/stages/runner.js';
import { athenaChecked } from '../support/athena-checked-engine.js';
import { openTestLake, SAMPLE_CONFIG, sampleSource, type TestLake } from '../support/lake.js';
import { trinoObjects } from '../support/trino-objects.js';

const CONFIG = { ...SAMPLE_CONFIG, rows: 400 };
const STATUSES_ALLOWED = ['pending', 'paid', 'shipped'];
const COUNTRIES_BUT_JP = ['US', 'GB', 'DE', 'FR', 'NL', 'SE', 'ES', 'IT', 'BR', 'IN', 'AU'];

/** Every check type; the comments say what the sample makes of each. */
const QUALITY: QualityDeclarations = {
  orders: [
    { type: 'not_null', column: 'customer_id' }, // passes: only tombstones lack it, and they are excluded
    { type: 'not_null', column: 'note', severity: 'warn' }, // fails: ~70% of notes are NULL
    { type: 'unique', severity: 'warn' }, // fails: orders landed twice (DUPLICATING)
    { type: 'unique', columns: ['customer_id'], severity: 'warn' }, // fails: 40 customers, 400 orders
    { type: 'accepted_values', column: 'status', values: STATUSES_ALLOWED }, // fails (error): delivered, refunded
    { type: 'range', column: 'amount', min: 0, max: 250, severity: 'warn' }, // fails: amounts up to 1000
    { type: 'range', column: 'items', min: 1, max: 9 }, // passes
    { type: 'regex', column: 'currency', pattern: '^[A-Z]{3}$' }, // passes
    { type: 'regex', column: 'status', pattern: '^(pending|paid)$', severity: 'warn' }, // fails on known rows
    { type: 'freshness', maxAgeMinutes: 60, severity: 'warn' }, // fails: the clock is set 2 h after the newest
    { type: 'volume', severity: 'warn' }, // passes: one earlier run, fewer than minRuns (5)
  ],
  customers: [
    { type: 'not_null', column: 'email' }, // passes: tombstones excluded
    { type: 'unique' }, // passes: one version per key in a run
    { type: 'accepted_values', column: 'country', values: COUNTRIES_BUT_JP, severity: 'warn' }, // JP customers fail
    { type: 'range', column: 'lifetime_value', min: 0 }, // passes
    { type: 'regex', column: 'email', pattern: '^[a-z]+\\.[a-z]+\\.[0-9]+@example\\.com$' }, // passes
    { type: 'freshness', maxAgeMinutes: 60 * 24 * 365 }, // passes
  ],
};

let lake: TestLake | undefined;
afterEach(async () => {
  await lake?.dispose();
  lake = undefined;
});

function trinoDeps(l: TestLake, schema: string, clock: () => Date): StageDeps {
  const b = l.backend;
  const objects = trinoObjects(b.objects);
  return {
    objects,
    state: b.state,
    catalog: b.catalog,
    logger: silentLogger,
    clock,
    openQueryEngine: async (): Promise<QueryEngine> =>
      athenaChecked(
        new TrinoQueryEngine({
          url: process.env.SLUICE_TRINO_URL!,
          schema,
          catalog: b.catalog,
          locationOf: (key) => objects.uri(key),
          schemaLocation: objects.uri(''),
        }),
        { catalog: b.catalog, objects: b.objects },
      ),
  };
}

function duckDeps(l: TestLake, clock: () => Date): StageDeps {
  const b = l.backend;
  return {
    objects: b.objects,
    state: b.state,
    catalog: b.catalog,
    logger: silentLogger,
    clock,
    openQueryEngine: () => b.openQueryEngine(),
  };
}

type Row = Record<string, unknown>;

/** The sample connector, but the first page of orders arrives again: planted duplicate keys in one run. */
const DUPLICATING: Connector<never> = {
  ...sampleConnector,
  streams: async (config: never): Promise<readonly Stream[]> =>
    (await sampleConnector.streams(config)).map((stream) =>
      stream.name !== 'orders'
        ? stream
        : {
            ...stream,
            read: async function* (ctx): AsyncGenerator<StreamItem> {
              let again: readonly SourceRecord[] | undefined;
              for await (const item of stream.read(ctx)) {
                yield item;
                if (again === undefined && Array.isArray(item)) {
                  again = (item as readonly SourceRecord[]).slice(0, 3);
                  yield again;
                }
              }
            },
          },
    ),
};

/** Every landed row of a stream, read back from its Parquet files with a plain `SELECT *`. */
async function landedRows(l: TestLake, stream: string): Promise<Row[]> {
  const engine = await l.backend.openQueryEngine();
  try {
    const rows: Row[] = [];
    const keys = (await l.backend.objects.list(`raw/shop/${stream}/`))
      .map((o) => o.key)
      .filter((k) => k.endsWith('.parquet'));
    for (const key of keys) {
      const uri = l.backend.objects.uri(key).replaceAll("'", "''");
      rows.push(...(await engine.query(`SELECT * FROM read_parquet('${uri}')`)).rows);
    }
    return rows;
  } finally {
    await engine.close();
  }
}

/** The outcome the reference promises, in plain TypeScript (the sample's key is `id`). */
interface Outcome {
  readonly passed: boolean;
  readonly failingRows: number;
  readonly rows: number;
  readonly sampleKeys: readonly string[];
}

const sortValue = (v: unknown): number => (v == null ? Number.POSITIVE_INFINITY : Number(v));
const byValue = (a: unknown, b: unknown) => sortValue(a) - sortValue(b);
const keyText = (v: unknown): string => JSON.stringify(v == null ? null : Number(v));

function oracle(
  check: QualityCheck,
  all: readonly Row[],
  run: RunRecord,
  stream: string,
  now: Date,
): Outcome {
  const ofRun = all.filter((r) => r._sluice_run_id === run.runId);
  const live = ofRun.filter((r) => r._sluice_deleted !== true);
  const rowCheck = (failing: (r: Row) => boolean): Outcome => {
    const bad = live.filter(failing);
    return {
      passed: bad.length === 0,
      failingRows: bad.length,
      rows: live.length,
      sampleKeys: bad
        .map((r) => r.id)
        .sort(byValue)
        .slice(0, 5)
        .map(keyText),
    };
  };
  switch (check.type) {
    case 'not_null':
      return rowCheck((r) => r[check.column] == null);
    case 'accepted_values':
      return rowCheck((r) => r[check.column] != null && !check.values.includes(r[check.column] as string));
    case 'range':
      return rowCheck((r) => {
        const v = r[check.column];
        if (v == null) return false;
        return (
          (check.min !== undefined && Number(v) < check.min) ||
          (check.max !== undefined && Number(v) > check.max)
        );
      });
    case 'regex':
      return rowCheck(
        (r) => r[check.column] != null && !new RegExp(check.pattern).test(String(r[check.column])),
      );
    case 'unique': {
      const column = check.columns?.[0] ?? 'id';
      const counts = new Map<unknown, number>();
      for (const r of ofRun) {
        const v = r[column] == null ? null : Number(r[column]);
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const dupes = [...counts].filter(([, n]) => n > 1);
      const failingRows = dupes.reduce((sum, [, n]) => sum + n, 0);
      return {
        passed: failingRows === 0,
        failingRows,
        rows: ofRun.length,
        sampleKeys: dupes
          .map(([v]) => v)
          .sort(byValue)
          .slice(0, 5)
          .map(keyText),
      };
    }
    case 'freshness': {
      const newest = Math.max(...all.map((r) => new Date(r.updated_at as string | Date).getTime()));
      const stale = !((now.getTime() - newest) / 60_000 <= check.maxAgeMinutes);
      return { passed: !stale, failingRows: stale ? 1 : 0, rows: all.length, sampleKeys: [] };
    }
    case 'volume': {
      // One earlier run is less history than minRuns (5): no anomaly; the rows are the run record's.
      const rows = run.streams[stream]!.rows;
      return { passed: true, failingRows: 0, rows, sampleKeys: [] };
    }
  }
}

const outcomeOf = (r: QualityResult): Outcome => ({
  passed: r.passed,
  failingRows: r.failingRows,
  rows: r.rows,
  sampleKeys: [...r.sampleKeys].sort(),
});

/** One attempt of the quality stage; a failing `error` check hands its results back through the error. */
async function qualityStage(
  deps: StageDeps,
  source: SourceDefinition,
  runId: string,
): Promise<{ results: readonly QualityResult[]; error?: unknown }> {
  try {
    const attempt = await runStage(deps, {
      source,
      streams: await sampleConnector.streams(CONFIG),
      runId,
      stage: 'quality',
    });
    return { results: attempt.quality ?? [] };
  } catch (error) {
    if (error instanceof QualityFailedError) return { results: error.cause as QualityResult[], error };
    throw error;
  }
}

describe('the quality stage’s Athena SQL on Trino', () => {
  it('gives every check the outcome the oracle computes from the landed files, as DuckDB does, and blocks on a failing error check', async () => {
    // Prepare
    const source: SourceDefinition = { ...sampleSource(), config: CONFIG, quality: QUALITY };
    lake = await openTestLake(source, undefined, CONFIG);
    await lake.sync();
    // The second run: updates, deletes (tombstones) and, planted, three orders landed twice.
    const run = await lake.sync({ connector: DUPLICATING });
    const landed = {
      orders: await landedRows(lake, 'orders'),
      customers: await landedRows(lake, 'customers'),
    };
    const newestOrder = Math.max(...landed.orders.map((r) => new Date(r.updated_at as string).getTime()));
    const now = new Date(newestOrder + 120 * 60_000);
    const clock = () => now;
    const schema = `t_${randomBytes(4).toString('hex')}`;

    // Act
    const duck = await qualityStage(duckDeps(lake, clock), source, run.runId);
    const trino = await qualityStage(trinoDeps(lake, schema, clock), source, run.runId);
    const record = await recordStageFailure(trinoDeps(lake, schema, clock), {
      source: 'shop',
      runId: run.runId,
      error: (trino.error as Error).message,
      qualityFailed: trino.error instanceof QualityFailedError,
    });

    // Assess
    const expected = Object.entries(QUALITY).flatMap(([stream, checks]) =>
      checks.map((check) => oracle(check, landed[stream as keyof typeof landed], run, stream, now)),
    );
    // The declaration covers passing and failing checks of both severities, failing on known rows.
    expect(expected.filter((o) => o.passed).length).toBeGreaterThanOrEqual(5);
    expect(expected.filter((o) => !o.passed && o.sampleKeys.length > 0).length).toBeGreaterThanOrEqual(5);
    expect(expected.every((o) => o.rows > 0)).toBe(true);
    expect(trino.results.map((r) => `${r.stream} ${r.check} ${r.severity}`)).toEqual(
      duck.results.map((r) => `${r.stream} ${r.check} ${r.severity}`),
    );
    expect(trino.results).toHaveLength(expected.length);
    expect(trino.results.map(outcomeOf)).toEqual(
      expected.map((o) => ({ ...o, sampleKeys: [...o.sampleKeys].sort() })),
    );
    expect(duck.results.map(outcomeOf)).toEqual(trino.results.map(outcomeOf));
    // The blocking check: accepted_values(status) (error) failed, so the run is QUALITY_FAILED.
    expect(duck.error).toBeInstanceOf(QualityFailedError);
    expect(trino.error).toBeInstanceOf(QualityFailedError);
    const severities = Object.values(QUALITY).flatMap((checks) => checks.map((c) => c.severity ?? 'error'));
    const blocking = trino.results.filter((_, i) => severities[i] === 'error' && !expected[i]!.passed);
    expect(blocking.map((r) => `${r.stream} ${r.check}`)).toContain('orders accepted_values(status)');
    expect((trino.error as QualityFailedError).failures).toEqual(blocking);
    expect(record.status).toBe('QUALITY_FAILED');
    expect(record.error).toContain('accepted_values(status) failed');
    expect(record.quality?.map(outcomeOf)).toEqual(trino.results.map(outcomeOf));
  });
});
