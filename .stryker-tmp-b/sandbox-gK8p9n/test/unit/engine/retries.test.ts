/**
 * Waits that respect the caller: an exhausted retry fails the run at once, a
 * wait longer than a run may wait is not slept, a retry wait ends when the
 * run is aborted, and a transient error within bounds is retried.
 */
// @ts-nocheck

import { afterEach, describe, expect, it } from 'vitest';
import { RetriesExhaustedError, TransientError } from '../../../connectors/sdk/errors.js';
import type { Connector, SourceRecord, Stream } from '../../../connectors/sdk/types.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

const lakes: TestLake[] = [];
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

/** A one-stream connector whose first `failures` reads throw `error()` after one page. */
function flaky(failures: number, error: () => Error): { connector: Connector<never>; reads: () => number } {
  let reads = 0;
  const stream: Stream = {
    name: 'items',
    primaryKey: ['id'],
    writeDisposition: 'append',
    read: async function* () {
      reads++;
      yield [{ id: 1 }, { id: 2 }] as SourceRecord[];
      if (reads <= failures) throw error();
      yield [{ id: 3 }] as SourceRecord[];
    },
  };
  return {
    reads: () => reads,
    connector: {
      type: 'flaky',
      description: 'fails its first reads',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: () => [stream],
    },
  };
}

async function lakeFor(connector: Connector<never>): Promise<TestLake> {
  const now = new Date().toISOString();
  const source: SourceDefinition = {
    name: 'flaky',
    type: 'flaky',
    config: {},
    createdAt: now,
    updatedAt: now,
  };
  const l = await openTestLake(source, connector, {});
  lakes.push(l);
  return l;
}

describe('retries of a run', () => {
  it('retries a transient error that asks for a short wait, landing every record once', async () => {
    // Prepare
    const source = flaky(1, () => new TransientError('503', { retryAfterMs: 10 }));
    const l = await lakeFor(source.connector);
    // Act
    const run = await l.sync();
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(source.reads()).toBe(2);
    expect(await l.query('SELECT id FROM flaky.items ORDER BY id')).toEqual([
      { id: 1 },
      { id: 2 },
      { id: 3 },
    ]);
  });

  it('fails the run at once when the connector has exhausted its retries', async () => {
    // Prepare
    const source = flaky(5, () => new RetriesExhaustedError('gave up after 5 attempts'));
    const l = await lakeFor(source.connector);
    // Act
    const failed = l.sync();
    // Assess
    await expect(failed).rejects.toThrow('gave up after 5 attempts');
    expect(source.reads()).toBe(1);
  });

  it('fails the run at once, without sleeping, when the source asks to wait longer than a run waits', async () => {
    // Prepare
    const source = flaky(5, () => new TransientError('429', { retryAfterMs: 3_600_000 }));
    const l = await lakeFor(source.connector);
    const started = Date.now();
    // Act
    const failed = l.sync({ maxRetryWaitMs: 60_000 });
    // Assess
    await expect(failed).rejects.toThrow(/asked to wait 3600000 ms before retrying, longer than a run waits/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(source.reads()).toBe(1);
  });

  it('ends a retry wait as soon as the run is aborted', async () => {
    // Prepare
    const source = flaky(5, () => new TransientError('503', { retryAfterMs: 50_000 }));
    const l = await lakeFor(source.connector);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('stop')), 300);
    // Act
    const stopped = l.sync({ signal: controller.signal, maxRetryWaitMs: 120_000 });
    // Assess
    await expect(stopped).rejects.toThrow(/interrupted/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("stops waiting for another run's lease as soon as the run is aborted", async () => {
    // Prepare
    const source = flaky(0, () => new Error('unused'));
    const l = await lakeFor(source.connector);
    await l.backend.state.acquireLease('flaky', 'someone-else', 600_000);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('stop waiting')), 300);
    // Act
    const waiting = l.sync({ signal: controller.signal, leaseWaitMs: 120_000 });
    // Assess
    await expect(waiting).rejects.toThrow('stop waiting');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(source.reads()).toBe(0);
  });
});
