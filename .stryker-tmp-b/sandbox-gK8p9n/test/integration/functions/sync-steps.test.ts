/**
 * The sync Lambda's steps as the state machine calls them, against the
 * emulator: the catch path records the run FAILED with the error and
 * releases the lease; a trigger while another run holds the lease fails with
 * the error name the state machine catches (`LeaseHeldError`); events with a
 * missing action, run id or checkpoint are refused by name.
 */
// @ts-nocheck

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsTestLake, openAwsTestLake } from '../aws/lake.js';

type Handler = (event: unknown, context: Context) => Promise<Record<string, unknown>>;
const context = {
  awsRequestId: 'req',
  functionName: 'sync',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

describe('the sync handler steps', () => {
  let lake: AwsTestLake;
  let handler: Handler;

  beforeAll(async () => {
    lake = await openAwsTestLake();
    Object.assign(process.env, {
      SLUICE_BUCKET: lake.names.bucket,
      SLUICE_TABLE: lake.names.table,
      SLUICE_GLUE_DATABASE: lake.names.glueDatabase,
      SLUICE_LAKE_PREFIX: lake.names.prefix,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });
    handler = (await import('../../../functions/sync/index.js')).handler as unknown as Handler;
  });

  afterAll(async () => {
    await lake?.backend.state.releaseLease('shop', 'other-run');
  });

  it('records a failed run with the caught error and releases its lease', async () => {
    // Prepare: a run that began (RUNNING, holding the lease) and then failed in a slice
    const runId = 'run-that-fails';
    await lake.backend.state.acquireLease('shop', runId, 300_000);
    await lake.backend.state.putRun({
      runId,
      source: 'shop',
      status: 'RUNNING',
      startedAt: new Date().toISOString(),
      streams: {},
    });
    const caught = {
      Error: 'TransientError',
      Cause: JSON.stringify({
        errorType: 'TransientError',
        errorMessage: 'upstream answered 503 five times',
      }),
    };

    // Act
    const result = await handler({ action: 'fail', source: 'shop', runId, error: caught }, context);

    // Assess
    expect(result).toEqual({ runId, status: 'FAILED' });
    const run = await lake.backend.state.getRun('shop', runId);
    expect(run).toMatchObject({ status: 'FAILED', error: 'upstream answered 503 five times' });
    expect(run?.endedAt).toBeDefined();
    await expect(lake.backend.state.acquireLease('shop', 'next-run', 1000)).resolves.toMatchObject({
      owner: 'next-run',
    });
    await lake.backend.state.releaseLease('shop', 'next-run');
  });

  it('leaves a run that already ended as it was', async () => {
    // Prepare
    await lake.backend.state.putRun({
      runId: 'done-run',
      source: 'shop',
      status: 'SUCCEEDED',
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      streams: {},
    });

    // Act
    await handler(
      { action: 'fail', source: 'shop', runId: 'done-run', error: { Error: 'States.Timeout' } },
      context,
    );

    // Assess
    expect((await lake.backend.state.getRun('shop', 'done-run'))?.status).toBe('SUCCEEDED');
  });

  it('fails begin with LeaseHeldError while another run holds the source', async () => {
    // Prepare
    await lake.backend.state.acquireLease('shop', 'other-run', 300_000);

    // Act
    const begin = handler({ action: 'begin', source: 'shop', runId: 'second-trigger' }, context);

    // Assess
    await expect(begin).rejects.toMatchObject({ name: 'LeaseHeldError' });
    await lake.backend.state.releaseLease('shop', 'other-run');
  });

  it('rejects an event without an action, a run id or a checkpoint', async () => {
    await expect(handler({ source: 'shop', runId: 'x' }, context)).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(handler({ action: 'begin', source: 'shop' }, context)).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(
      handler({ action: 'slice', source: 'shop', runId: 'x', checkpoint: 'c' }, context),
    ).rejects.toMatchObject({ name: 'ValidationError', field: 'checkpoint' });
    await expect(
      handler(
        {
          action: 'finish',
          source: 'shop',
          runId: 'x',
          checkpoint: { source: 'other', runId: 'x', slice: 1, done: true },
        },
        context,
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', field: 'checkpoint.source' });
  });
});
