/**
 * Athena cannot run SQL on an emulator: moto answers StartQueryExecution and
 * serves results registered in advance (POST /moto-api/static/athena/query-results,
 * one per query, in order). These tests check what the engine controls:
 * request building, polling with backoff through QUEUED/RUNNING (moto's
 * state manager holds a query in each state for a number of polls), result
 * paging and typed conversion, and failure reporting.
 *
 * moto's GetQueryResults ignores MaxResults and never pages, and its queries
 * never FAIL; a fault proxy between the client and moto pages the canned
 * results as Athena does and turns a query FAILED with a reason.
 *
 * Canned results and the state manager are global to the moto process, so
 * this file uses its own region (canned results are per account and region)
 * and is the only one that changes Athena's state transitions.
 */
// @ts-nocheck

import {
  AthenaClient,
  CreateWorkGroupCommand,
  GetQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AthenaQueryEngine,
  AthenaQueryError,
  convertValue,
} from '../../../adapters/aws/athena-query-engine.js';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import {
  createBucket,
  type FaultProxy,
  motoApi,
  onMoto,
  type ProxiedRequest,
  startFaultProxy,
  uniqueName,
} from './support.js';

const REGION = 'eu-west-1';

interface CannedColumn {
  readonly name: string;
  readonly type: string;
}

/** Registers one query's results the way Athena returns a SELECT's: the header row first. */
async function cannedResult(columns: readonly CannedColumn[], rows: readonly (readonly (string | null)[])[]) {
  const header = { Data: columns.map((c) => ({ VarCharValue: c.name })) };
  const data = rows.map((row) => ({ Data: row.map((v) => (v === null ? {} : { VarCharValue: v })) }));
  await motoApi('static/athena/query-results', {
    region: REGION,
    results: [
      {
        rows: [header, ...data],
        column_info: columns.map((c) => ({
          CatalogName: 'hive',
          SchemaName: '',
          TableName: '',
          Name: c.name,
          Label: c.name,
          Type: c.type,
          Precision: 0,
          Scale: 0,
          Nullable: 'UNKNOWN',
          CaseSensitive: false,
        })),
      },
    ],
  });
}

/**
 * Slows every Athena query down: moto moves a query one state further
 * (QUEUED → RUNNING → SUCCEEDED) on every `polls`-th status poll, so it
 * answers SUCCEEDED on poll 2 × `polls`.
 */
async function holdQueries(polls: number): Promise<void> {
  await motoApi('state-manager/set-transition', {
    model_name: 'athena::execution',
    transition: { progression: 'manual', times: polls },
  });
}

async function releaseQueries(): Promise<void> {
  await motoApi('state-manager/unset-transition', { model_name: 'athena::execution' });
}

function json(request: ProxiedRequest): Record<string, unknown> {
  return JSON.parse(request.body || '{}') as Record<string, unknown>;
}

/** Pages moto's all-at-once GetQueryResults answer by MaxResults/NextToken, as Athena does. */
function pageResults(proxy: FaultProxy): void {
  proxy.add({
    when: (r) => r.target === 'AmazonAthena.GetQueryResults',
    rewrite: (body, request) => {
      const { MaxResults, NextToken } = json(request) as { MaxResults?: number; NextToken?: string };
      const answer = JSON.parse(body) as { ResultSet: { Rows: unknown[] }; NextToken?: string };
      const start = NextToken ? Number(NextToken) : 0;
      const size = MaxResults ?? 1000;
      const all = answer.ResultSet.Rows;
      answer.ResultSet.Rows = all.slice(start, start + size);
      if (start + size < all.length) answer.NextToken = String(start + size);
      return JSON.stringify(answer);
    },
  });
}

describe.runIf(onMoto)('AthenaQueryEngine (moto canned results)', () => {
  const database = uniqueName('sluice_athena', '_');
  let proxy: FaultProxy;
  let proxied: AthenaClient;
  const direct = new AthenaClient({ ...clientConfig(AwsService.athena), region: REGION });

  beforeAll(async () => {
    proxy = await startFaultProxy();
    pageResults(proxy);
    proxied = new AthenaClient({ ...clientConfig(AwsService.athena), region: REGION, endpoint: proxy.url });
  });

  afterEach(async () => {
    await releaseQueries();
  });

  afterAll(async () => {
    await proxy.close();
  });

  it('starts the query in the workgroup and database, polls until it succeeds, and pages typed rows', async () => {
    // Prepare
    await direct.send(new CreateWorkGroupCommand({ Name: 'sluice_wg', Configuration: {} }));
    await cannedResult(
      [
        { name: 'id', type: 'integer' },
        { name: 'big', type: 'bigint' },
        { name: 'amount', type: 'double' },
        { name: 'paid', type: 'boolean' },
        { name: 'customer', type: 'varchar' },
        { name: 'day', type: 'date' },
        { name: 'updated_at', type: 'timestamp' },
        { name: 'payload', type: 'json' },
        { name: 'price', type: 'decimal' },
      ],
      [
        [
          '1',
          '9007199254740993',
          '12.5',
          'true',
          'ada',
          '2026-03-01',
          '2026-03-01 10:00:00.123456',
          '{"a":[1]}',
          '10.10',
        ],
        ['2', '42', 'NaN', 'false', '', '2026-03-02', '2026-03-02 00:00:00.000', 'null', '0.00'],
        ['3', null, null, null, null, null, null, null, null],
        ['4', '-7', '-Infinity', 'true', 'x,y', '2026-03-04', '2026-03-04 23:59:59.999', '"s"', '1'],
        ['5', '0', '1e3', 'false', 'z', '2026-03-05', '2026-03-05 12:00:00', '3', '2.5'],
      ],
    );
    await holdQueries(2);
    const engine = new AthenaQueryEngine({
      database,
      workgroup: 'sluice_wg',
      outputLocation: 's3://sluice-athena-results/queries/',
      client: proxied,
      pollIntervalMs: 20,
      maxPollIntervalMs: 80,
      pageSize: 2,
    });
    const seen = proxy.requests.length;

    // Act
    const result = await engine.query('SELECT * FROM shop__orders');

    // Assess: the request
    const calls = proxy.requests.slice(seen);
    const start = calls.find((r) => r.target === 'AmazonAthena.StartQueryExecution')!;
    expect(json(start)).toMatchObject({
      QueryString: 'SELECT * FROM shop__orders',
      QueryExecutionContext: { Database: database, Catalog: 'AwsDataCatalog' },
      WorkGroup: 'sluice_wg',
      ResultConfiguration: { OutputLocation: 's3://sluice-athena-results/queries/' },
    });
    // Assess: polled QUEUED, RUNNING, RUNNING, SUCCEEDED
    expect(calls.filter((r) => r.target === 'AmazonAthena.GetQueryExecution')).toHaveLength(4);
    // Assess: three pages of two rows (header + 5 rows), the header dropped
    expect(calls.filter((r) => r.target === 'AmazonAthena.GetQueryResults')).toHaveLength(3);
    expect(result.columns).toEqual([
      'id',
      'big',
      'amount',
      'paid',
      'customer',
      'day',
      'updated_at',
      'payload',
      'price',
    ]);
    expect(result.rows).toHaveLength(5);
    expect(result.rows[0]).toEqual({
      id: 1,
      big: '9007199254740993',
      amount: 12.5,
      paid: true,
      customer: 'ada',
      day: '2026-03-01',
      updated_at: '2026-03-01T10:00:00.123Z',
      payload: '{"a":[1]}',
      price: '10.10',
    });
    expect(result.rows[1]).toMatchObject({
      big: 42,
      amount: Number.NaN,
      paid: false,
      customer: '',
      payload: 'null',
    });
    expect(result.rows[2]).toEqual({
      id: 3,
      big: null,
      amount: null,
      paid: null,
      customer: null,
      day: null,
      updated_at: null,
      payload: null,
      price: null,
    });
    expect(result.rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('waits longer between polls as a query stays queued (capped backoff)', async () => {
    // Prepare
    await cannedResult([{ name: 'n', type: 'integer' }], [['1']]);
    await holdQueries(3);
    const engine = new AthenaQueryEngine({
      database,
      client: proxied,
      pollIntervalMs: 20,
      maxPollIntervalMs: 80,
    });
    const seen = proxy.requests.length;
    const polledAt: number[] = [];
    proxy.add({
      when: (r) => {
        if (r.target === 'AmazonAthena.GetQueryExecution') polledAt.push(Date.now());
        return false;
      },
    });

    // Act
    const result = await engine.query('SELECT 1 AS n');

    // Assess: SUCCEEDED on the 6th poll, after waits of 20, 40, 80, 80 and 80 ms
    expect(result.rows).toEqual([{ n: 1 }]);
    expect(
      proxy.requests.slice(seen).filter((r) => r.target === 'AmazonAthena.GetQueryExecution'),
    ).toHaveLength(6);
    const gaps = polledAt.slice(1).map((t, i) => t - polledAt[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[2]).toBeGreaterThanOrEqual(70);
    expect(Math.max(...gaps)).toBeLessThan(500);
  });

  it("fails with Athena's StateChangeReason when the query FAILS", async () => {
    // Prepare
    proxy.add({
      when: (r) => r.target === 'AmazonAthena.GetQueryExecution',
      times: 1,
      rewrite: (body) => {
        const answer = JSON.parse(body) as { QueryExecution: { Status: Record<string, unknown> } };
        answer.QueryExecution.Status = {
          ...answer.QueryExecution.Status,
          State: 'FAILED',
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false },
        };
        return JSON.stringify(answer);
      },
    });
    const engine = new AthenaQueryEngine({ database, client: proxied, pollIntervalMs: 10 });

    // Act
    const query = engine.query('SELECT nope FROM shop__orders');

    // Assess
    await expect(query).rejects.toBeInstanceOf(AthenaQueryError);
    await expect(query).rejects.toMatchObject({
      state: 'FAILED',
      reason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
      errorCategory: 2,
      statusCode: 400,
      message: expect.stringContaining("Column 'nope' cannot be resolved"),
    });
  });

  it('fails when the query is cancelled while it runs', async () => {
    // Prepare
    await holdQueries(1000);
    const engine = new AthenaQueryEngine({
      database,
      client: direct,
      pollIntervalMs: 10,
      maxPollIntervalMs: 20,
    });
    const id = await engine.startQuery('SELECT 1');

    // Act
    const waiting = engine.waitForQuery(id);
    await new Promise((r) => setTimeout(r, 50));
    await direct.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));

    // Assess
    await expect(waiting).rejects.toMatchObject({
      name: 'AthenaQueryError',
      state: 'CANCELLED',
      queryExecutionId: id,
    });
  });

  it('stops a query that runs past its timeout', async () => {
    // Prepare
    await holdQueries(1000);
    const engine = new AthenaQueryEngine({ database, client: direct, pollIntervalMs: 10, timeoutMs: 200 });

    // Act
    const query = engine.query('SELECT 1');

    // Assess
    const error = (await query.catch((e: unknown) => e)) as AthenaQueryError;
    expect(error).toBeInstanceOf(AthenaQueryError);
    expect(error.state).toBe('TIMED_OUT');
    const { QueryExecution } = await direct.send(
      new GetQueryExecutionCommand({ QueryExecutionId: error.queryExecutionId }),
    );
    expect(QueryExecution?.Status?.State).toBe('CANCELLED');
  });

  it('stops running queries on close and refuses new ones', async () => {
    // Prepare
    await holdQueries(1000);
    const engine = new AthenaQueryEngine({ database, client: direct, pollIntervalMs: 10 });
    const id = await engine.startQuery('SELECT 1');

    // Act
    await engine.close();

    // Assess
    const { QueryExecution } = await direct.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    expect(QueryExecution?.Status?.State).toBe('CANCELLED');
    await expect(engine.query('SELECT 1')).rejects.toThrow(/closed/);
  });

  it('drops the header row only for DML: a DDL answer starts with data', async () => {
    // Prepare: a first row equal to the labels, which for DDL is data
    await cannedResult([{ name: 'tab_name', type: 'string' }], [['shop__orders'], ['shop__customers']]);
    const engine = new AthenaQueryEngine({ database, client: direct, pollIntervalMs: 10 });

    // Act
    const result = await engine.query('SHOW TABLES');

    // Assess
    expect(result.rows.map((r) => r.tab_name)).toEqual(['tab_name', 'shop__orders', 'shop__customers']);
  });
});

// Registered only where Athena runs SQL (LocalStack Pro, AWS), so CI on moto reports no skipped test.
if (!onMoto)
  describe('AthenaQueryEngine (an emulator that runs SQL, e.g. LocalStack)', () => {
    it('runs a query and converts its values', async () => {
      const bucket = uniqueName('sluice-athena');
      await createBucket(bucket);
      const engine = new AthenaQueryEngine({
        database: 'default',
        outputLocation: `s3://${bucket}/results/`,
        pollIntervalMs: 100,
      });
      const result = await engine.query("SELECT 1 AS n, 'a' AS s, true AS b");
      expect(result.rows).toEqual([{ n: 1, s: 'a', b: true }]);
      await engine.close();
    });
  });

describe('convertValue', () => {
  it.each([
    ['42', 'integer', 42],
    ['-3', 'smallint', -3],
    ['7', 'tinyint', 7],
    ['9007199254740991', 'bigint', 9007199254740991],
    ['9223372036854775807', 'bigint', '9223372036854775807'],
    ['1.5', 'double', 1.5],
    ['Infinity', 'real', Number.POSITIVE_INFINITY],
    ['true', 'boolean', true],
    ['12.3400', 'decimal(10,4)', '12.3400'],
    ['abc', 'varchar(10)', 'abc'],
    ['2026-01-02', 'date', '2026-01-02'],
    ['2026-01-02 03:04:05.678', 'timestamp', '2026-01-02T03:04:05.678Z'],
    ['2026-01-02 03:04:05.678901', 'timestamp', '2026-01-02T03:04:05.678Z'],
    ['2026-01-02 03:04:05.678 UTC', 'timestamp with time zone', '2026-01-02T03:04:05.678Z'],
    ['2026-01-02 03:04:05.678 +02:00', 'timestamp with time zone', '2026-01-02T01:04:05.678Z'],
    [
      '2026-01-02 03:04:05.678 Europe/Paris',
      'timestamp with time zone',
      '2026-01-02 03:04:05.678 Europe/Paris',
    ],
    ['{"k":1}', 'json', '{"k":1}'],
    ['[1, 2]', 'array(integer)', '[1, 2]'],
    [undefined, 'integer', null],
  ])('converts %j of type %s', (value, type, expected) => {
    expect(convertValue(value, type)).toEqual(expected);
  });
});
