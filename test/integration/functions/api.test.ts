/**
 * The API Lambda with API Gateway v2 events against the emulator: sources in
 * DynamoDB, secrets in Secrets Manager, schedules in EventBridge Scheduler,
 * syncs started on Step Functions. Bad input of every kind is a 4xx naming
 * the field, nothing is half-created, and no request answers 5xx.
 */
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DeleteSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { createStateTable } from '../../../adapters/aws/dynamodb-state-store.js';
import { openAwsBackend } from '../../../adapters/aws/index.js';
import { EventBridgeScheduler } from '../../../adapters/aws/scheduler.js';
import { estimateRunCost } from '../../../engine/cost.js';
import { createBucket, uniqueName } from '../aws/support.js';

const secretsClient = new SecretsManagerClient(clientConfig(AwsService.secretsManager));
const schedulerClient = new SchedulerClient(clientConfig(AwsService.scheduler));
const sfn = new SFNClient(clientConfig(AwsService.sfn));

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted on by shape
  readonly body: any;
  readonly raw: string;
}

const PASSWORD = 'hunter2-never-shown';

describe('the API handler', () => {
  let handler: Handler;
  let names: { bucket: string; table: string; glueDatabase: string; group: string; secretsPrefix: string };
  let scheduler: EventBridgeScheduler;
  const statuses: number[] = [];
  const bodies: string[] = [];
  let requests = 0;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const [rawPath, queryText] = path.split('?');
    const query = Object.fromEntries(new URLSearchParams(queryText ?? ''));
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString: queryText ?? '',
      headers: { 'content-type': 'application/json', ...headers },
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      requestContext: {
        http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
        requestId: `req-${++requests}`,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const context = {
      awsRequestId: `lambda-${requests}`,
      functionName: 'api',
      getRemainingTimeInMillis: () => 29_000,
    } as unknown as Context;
    const result = await handler(event, context);
    const raw = result.body ?? '';
    statuses.push(result.statusCode ?? 0);
    bodies.push(raw);
    return { status: result.statusCode ?? 0, body: raw ? JSON.parse(raw) : undefined, raw };
  };

  const secretNames = async (): Promise<string[]> => {
    const listed = await secretsClient.send(
      new ListSecretsCommand({ MaxResults: 100, IncludePlannedDeletion: false }),
    );
    return (listed.SecretList ?? [])
      .map((s) => s.Name ?? '')
      .filter((n) => n.startsWith(names.secretsPrefix));
  };

  beforeAll(async () => {
    names = {
      bucket: uniqueName('sluice-api'),
      table: uniqueName('sluice-api'),
      glueDatabase: uniqueName('sluice_api', '_'),
      group: uniqueName('sluice-api'),
      secretsPrefix: `${uniqueName('sluice-api')}/`,
    };
    await createBucket(names.bucket);
    await createStateTable({ tableName: names.table });
    await schedulerClient.send(new CreateScheduleGroupCommand({ Name: names.group }));
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: uniqueName('sluice-sync'),
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
        roleArn: 'arn:aws:iam::123456789012:role/sluice-sync',
      }),
    );
    Object.assign(process.env, {
      SLUICE_BUCKET: names.bucket,
      SLUICE_TABLE: names.table,
      SLUICE_GLUE_DATABASE: names.glueDatabase,
      SLUICE_SECRETS_PREFIX: names.secretsPrefix,
      SLUICE_STATE_MACHINE_ARN: machine.stateMachineArn,
      SLUICE_SCHEDULER_GROUP: names.group,
      SLUICE_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/sluice-scheduler',
      POWERTOOLS_METRICS_NAMESPACE: 'SluiceTest',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    scheduler = new EventBridgeScheduler({
      groupName: names.group,
      stateMachineArn: machine.stateMachineArn!,
      roleArn: 'arn:aws:iam::123456789012:role/sluice-scheduler',
    });
    handler = (await import('../../../functions/api/index.js')).handler as unknown as Handler;
  });

  afterAll(() => {
    // Whatever each test did, nothing answered 5xx and no secret value left the API.
    expect(bodies.filter((_, i) => statuses[i]! >= 500)).toEqual([]);
    for (const body of bodies) expect(body).not.toContain(PASSWORD);
  });

  it('creates a source with its schedule, and shows secrets as set, never their value', async () => {
    // Act
    const created = await call('POST', '/sources', {
      name: 'pg',
      type: 'postgres',
      config: { host: 'db.internal', database: 'shop', user: 'reader', password: PASSWORD },
      schedule: 'cron(0 6 * * ? *)',
      timezone: 'Europe/Berlin',
    });
    const fetched = await call('GET', '/sources/pg');

    // Assess
    expect(created.status).toBe(201);
    expect(fetched.body).toMatchObject({
      name: 'pg',
      type: 'postgres',
      config: { host: 'db.internal', user: 'reader' },
      secrets: { password: 'set', 'ssl.key': 'unset' },
      schedule: 'cron(0 6 * * ? *)',
    });
    expect(fetched.body.config.password).toBeUndefined();
    const schedule = await scheduler.get('pg');
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
    });
    expect(JSON.parse(schedule!.Target!.Input!)).toEqual({ source: 'pg' });
    // One write, one secret of its own: `<source>/<field>@<revision>`.
    expect(await secretNames()).toEqual([
      expect.stringMatching(new RegExp(`^${names.secretsPrefix}pg/password@[0-9a-f]{8}$`)),
    ]);
  });

  it('answers malformed JSON, unknown fields and wrong types with 400 naming the field, creating nothing', async () => {
    // Prepare
    const before = (await call('GET', '/sources?limit=100')).body.items.length;
    const secretsBefore = await secretNames();

    // Act
    const malformed = await call('POST', '/sources', '{"name": "x", ');
    const unknown = await call('POST', '/sources', { name: 'x1', type: 'sample', colour: 'blue' });
    const wrongType = await call('POST', '/sources', {
      name: 'x2',
      type: 'sample',
      config: { rows: 'many' },
    });
    const badName = await call('POST', '/sources', { name: 'Bad Name', type: 'sample' });
    const badSchedule = await call('POST', '/sources', { name: 'x3', type: 'sample', schedule: 'every day' });
    const badZone = await call('POST', '/sources', {
      name: 'x4',
      type: 'postgres',
      config: { host: 'h', database: 'd', user: 'u', password: PASSWORD },
      schedule: 'rate(1 hour)',
      timezone: 'Mars/Olympus',
    });
    const array = await call('POST', '/sources', '[1, 2]');

    // Assess
    expect(malformed).toMatchObject({
      status: 400,
      body: { error: { code: 'ValidationError', field: 'body' } },
    });
    expect(unknown).toMatchObject({ status: 400, body: { error: { field: 'colour' } } });
    expect(wrongType).toMatchObject({ status: 400, body: { error: { field: 'config.rows' } } });
    expect(badName.body.error.field).toBe('name');
    expect(badSchedule.body.error.field).toBe('schedule');
    expect(badZone.body.error.field).toBe('timezone');
    expect(array.body.error.field).toBe('body');
    for (const reply of [malformed, unknown, wrongType]) {
      expect(Object.keys(reply.body.error).sort()).toEqual(['code', 'field', 'message', 'requestId']);
    }
    expect((await call('GET', '/sources?limit=100')).body.items).toHaveLength(before);
    expect(await secretNames()).toEqual(secretsBefore);
    expect(await scheduler.get('x4')).toBeUndefined();
  });

  it('rejects a duplicate create with 409, and returns the same source for a retried client token', async () => {
    // Prepare
    const body = { name: 'dup', type: 'sample', config: { rows: 10 } };
    const first = await call('POST', '/sources', body, { 'Idempotency-Key': 'token-1' });

    // Act
    const retried = await call('POST', '/sources', body, { 'Idempotency-Key': 'token-1' });
    const duplicate = await call('POST', '/sources', body, { 'Idempotency-Key': 'token-2' });
    const noToken = await call('POST', '/sources', body);

    // Assess
    expect(first.status).toBe(201);
    expect(retried).toMatchObject({ status: 200, body: { name: 'dup', createdAt: first.body.createdAt } });
    expect(duplicate).toMatchObject({ status: 409, body: { error: { code: 'ConflictError' } } });
    expect(noToken.status).toBe(409);
  });

  it('keeps the winner’s secret when two creates of one name race, and answers a racing retry with 200', async () => {
    // Prepare
    const state = openAwsBackend({
      bucket: names.bucket,
      table: names.table,
      glueDatabase: names.glueDatabase,
    });
    const pg = (name: string, password: string) => ({
      name,
      type: 'postgres',
      config: { host: 'h', database: 'd', user: 'u', password },
    });
    const passwordOf = async (name: string) => {
      const source = await state.state.getSource(name);
      if (!source) throw new Error(`source ${name} was not stored`);
      return state.secrets.get((source.config.password as { $secret: string }).$secret);
    };

    // Act
    const raced = await Promise.all([
      call('POST', '/sources', pg('racy', 'first-password'), { 'Idempotency-Key': 'one' }),
      call('POST', '/sources', pg('racy', 'second-password'), { 'Idempotency-Key': 'two' }),
    ]);
    const retried = await Promise.all([
      call('POST', '/sources', pg('retried', 'the-password'), { 'Idempotency-Key': 'same' }),
      call('POST', '/sources', pg('retried', 'the-password'), { 'Idempotency-Key': 'same' }),
    ]);

    // Assess
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await passwordOf('racy')).toBe(raced[0]!.status === 201 ? 'first-password' : 'second-password');
    expect((await secretNames()).filter((n) => n.includes('/racy/'))).toHaveLength(1);
    expect(retried.map((r) => r.status).sort()).toEqual([200, 201]);
    expect(await passwordOf('retried')).toBe('the-password');
  });

  it('refuses to delete a source mid-run, then deletes it with its schedule and secrets', async () => {
    // Prepare
    await call('POST', '/sources', {
      name: 'busy',
      type: 'postgres',
      config: { host: 'h', database: 'd', user: 'u', password: PASSWORD },
      schedule: 'rate(1 hour)',
    });
    const state = openAwsBackend({
      bucket: names.bucket,
      table: names.table,
      glueDatabase: names.glueDatabase,
    }).state;
    await state.acquireLease('busy', 'run-in-progress', 60_000);

    // Act
    const midRun = await call('DELETE', '/sources/busy');
    const stillThere = await call('GET', '/sources/busy');
    await state.releaseLease('busy', 'run-in-progress');
    const deleted = await call('DELETE', '/sources/busy');

    // Assess
    expect(midRun).toMatchObject({ status: 409, body: { error: { code: 'LeaseHeldError' } } });
    expect(midRun.body.error.message).toContain('run-in-progress');
    expect(stillThere.body.secrets).toEqual({ password: 'set', 'ssl.key': 'unset' });
    expect(deleted.status).toBe(200);
    expect((await call('GET', '/sources/busy')).status).toBe(404);
    expect(await scheduler.get('busy')).toBeUndefined();
    expect((await secretNames()).filter((n) => n.includes('/busy/'))).toEqual([]);
  });

  it('answers 4xx, not 5xx, when a stored secret has gone missing', async () => {
    // Prepare
    await call('POST', '/sources', {
      name: 'lost',
      type: 'postgres',
      config: { host: 'h', database: 'd', user: 'u', password: PASSWORD },
    });
    const [stored] = (await secretNames()).filter((n) =>
      n.startsWith(`${names.secretsPrefix}lost/password@`),
    );
    await secretsClient.send(new DeleteSecretCommand({ SecretId: stored, ForceDeleteWithoutRecovery: true }));

    // Act
    const reset = await call('POST', '/sources/lost/reset', {});

    // Assess: named by its field, without the secret's ARN (account and region)
    expect(reset.status).toBe(404);
    expect(reset.body.error.message).toContain('config field "password"');
    expect(reset.body.error.message).not.toContain('arn:');
  });

  it('pauses a schedule, then removes it, with PATCH', async () => {
    // Prepare
    await call('POST', '/sources', { name: 'nightly', type: 'sample', schedule: 'cron(0 2 * * ? *)' });

    // Act
    const paused = await call('PATCH', '/sources/nightly', { paused: true });
    const pausedSchedule = await scheduler.get('nightly');
    const unscheduled = await call('PATCH', '/sources/nightly', { schedule: null });
    const renamed = await call('PATCH', '/sources/nightly', { name: 'other' });

    // Assess
    expect(paused).toMatchObject({ status: 200, body: { paused: true } });
    expect(pausedSchedule?.State).toBe('DISABLED');
    expect(unscheduled.status).toBe(200);
    expect(unscheduled.body.schedule).toBeUndefined();
    expect(await scheduler.get('nightly')).toBeUndefined();
    expect(renamed).toMatchObject({ status: 400, body: { error: { field: 'name' } } });
  });

  // One execution only: moto 5.2.1 fails every StartExecution after the first of a process
  // (see /work/shared/EMULATORS.md); the run id in the name makes each execution's name unique.
  it('starts a sync as a Step Functions execution named after the source and run', async () => {
    // Prepare
    await call('POST', '/sources', { name: 'to_sync', type: 'sample' });

    // Act
    const badBody = await call('POST', '/sources/to_sync/sync', { stream: 'orders' });
    const unknown = await call('POST', '/sources/nope/sync');
    const started = await call('POST', '/sources/to_sync/sync');
    const execution = await sfn.send(
      new DescribeExecutionCommand({ executionArn: started.body.executionArn }),
    );

    // Assess
    expect(badBody).toMatchObject({ status: 400, body: { error: { field: 'stream' } } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NotFoundError' } } });
    expect(started.status).toBe(202);
    expect(started.body.runId).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/);
    expect(execution.name).toBe(`to_sync-${started.body.runId}`);
    expect(JSON.parse(execution.input!)).toEqual({ source: 'to_sync', runId: started.body.runId });
  });

  it('pages through sources with limit and nextToken', async () => {
    // Prepare
    for (const name of ['page_a', 'page_b', 'page_c'])
      await call('POST', '/sources', { name, type: 'sample' });
    const all = (await call('GET', '/sources?limit=100')).body.items.map((s: { name: string }) => s.name);

    // Act
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await call('GET', `/sources?limit=2${token ? `&nextToken=${token}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((s: { name: string }) => s.name));
      token = page.body.nextToken;
    } while (token);
    const badLimit = await call('GET', '/sources?limit=1000');
    const badToken = await call('GET', '/sources?nextToken=forged');

    // Assess
    expect(seen).toEqual(all);
    expect(badLimit.body.error.field).toBe('limit');
    expect(badToken.body.error.field).toBe('nextToken');
  });

  it('pages runs newest first with a cursor that neither repeats nor skips when runs start meanwhile', async () => {
    // Prepare: five runs, two of them started in the same millisecond
    await call('POST', '/sources', { name: 'with_runs', type: 'sample' });
    const state = openAwsBackend({
      bucket: names.bucket,
      table: names.table,
      glueDatabase: names.glueDatabase,
    }).state;
    const run = (runId: string, startedAt: string) =>
      state.putRun({ runId, source: 'with_runs', status: 'SUCCEEDED', startedAt, streams: {} });
    await run('r1', '2026-01-01T00:00:01.000Z');
    await run('r2', '2026-01-01T00:00:02.000Z');
    await run('r3a', '2026-01-01T00:00:03.000Z');
    await run('r3b', '2026-01-01T00:00:03.000Z');
    await run('r4', '2026-01-01T00:00:04.000Z');

    // Act: the first page, then a new run starts, then the rest
    const first = await call('GET', '/sources/with_runs/runs?limit=2');
    await run('r5', '2026-01-01T00:00:05.000Z');
    const seen = first.body.items.map((r: { runId: string }) => r.runId);
    let token: string | undefined = first.body.nextToken;
    while (token) {
      const page = await call('GET', `/sources/with_runs/runs?limit=2&nextToken=${token}`);
      seen.push(...page.body.items.map((r: { runId: string }) => r.runId));
      token = page.body.nextToken;
    }
    const crossed = await call('GET', `/sources?nextToken=${first.body.nextToken}`);

    // Assess
    expect(seen).toEqual(['r4', 'r3b', 'r3a', 'r2', 'r1']);
    expect(crossed).toMatchObject({ status: 400, body: { error: { field: 'nextToken' } } });
  });

  it('gets one run by its id alone, and 404 for an id no source has', async () => {
    // Prepare
    await call('POST', '/sources', { name: 'by_id', type: 'sample' });
    const state = openAwsBackend({
      bucket: names.bucket,
      table: names.table,
      glueDatabase: names.glueDatabase,
    }).state;
    await state.putRun({
      runId: 'run-by-id-1',
      source: 'by_id',
      status: 'FAILED',
      startedAt: '2026-01-02T00:00:00.000Z',
      streams: { orders: { rows: 3, files: 1, bytes: 10 } } as never,
      error: 'boom',
    });

    // Act
    const found = await call('GET', '/runs/run-by-id-1');
    const missing = await call('GET', '/runs/no-such-run');

    // Assess
    expect(found).toMatchObject({
      status: 200,
      body: { runId: 'run-by-id-1', source: 'by_id', error: 'boom' },
    });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'NotFoundError' } } });
  });

  it('gets one run of a source with per-stream counts and its cost, and 404 for another source’s run', async () => {
    // Prepare
    await call('POST', '/sources', { name: 'costed', type: 'sample' });
    await call('POST', '/sources', { name: 'other', type: 'sample' });
    const state = openAwsBackend({
      bucket: names.bucket,
      table: names.table,
      glueDatabase: names.glueDatabase,
    }).state;
    const cost = estimateRunCost({ lambdaMs: 4000, memoryMb: 1024, requests: 4, stateTransitions: 9 });
    const stats = {
      rows: 7,
      bytes: 700,
      files: 2,
      durationMs: 120,
      skipped: 0,
      schemaChanges: [],
      cursorFrom: null,
      cursorTo: 7,
      incremental: true,
    };
    await state.putRun({
      runId: '20261127T100000000Z-c0ffee',
      source: 'costed',
      status: 'SUCCEEDED',
      startedAt: '2026-11-27T10:00:00.000Z',
      endedAt: '2026-11-27T10:00:04.000Z',
      streams: { orders: stats },
      cost,
    });

    // Act
    const found = await call('GET', '/sources/costed/runs/20261127T100000000Z-c0ffee');
    const elsewhere = await call('GET', '/sources/other/runs/20261127T100000000Z-c0ffee');
    const badName = await call('GET', '/sources/Not-A-Name/runs/20261127T100000000Z-c0ffee');

    // Assess
    expect(found).toMatchObject({
      status: 200,
      body: { source: 'costed', streams: { orders: stats }, cost },
    });
    expect(elsewhere).toMatchObject({ status: 404, body: { error: { code: 'NotFoundError' } } });
    expect(badName.status).toBe(400);
  });

  it('lists connectors, checks a connection and serves its OpenAPI document', async () => {
    const connectors = await call('GET', '/connectors');
    const check = await call('POST', '/connectors/sample/check', { config: { rows: 5 } });
    const badCheck = await call('POST', '/connectors/sample/check', { config: { rows: -1 } });
    const openapi = await call('GET', '/openapi.json');
    const noRoute = await call('GET', '/nowhere');
    const badMethod = await call('PUT', '/sources');

    expect(connectors.body.items.map((c: { type: string }) => c.type)).toEqual([
      'sample',
      'rest',
      'postgres',
      's3-files',
      'push',
    ]);
    expect(check).toMatchObject({ status: 200, body: { ok: true } });
    expect(badCheck).toMatchObject({ status: 400, body: { error: { field: 'config.rows' } } });
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(noRoute.status).toBe(404);
    expect(badMethod.status).toBe(405);
  });
});
