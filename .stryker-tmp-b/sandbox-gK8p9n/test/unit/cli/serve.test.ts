/**
 * `sluice serve` end to end on the local backend: create a source over HTTP,
 * trigger a sync, see its run; a due schedule starts a sync by itself.
 */
// @ts-nocheck

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../cli/commands/serve.js';
import { openContext } from '../../../cli/context.js';

describe('sluice serve', () => {
  let home: string;
  let server: RunningServer;
  let offsetMs = 0;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted on by shape
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const runsOf = async (source: string) =>
    (await api('GET', `/sources/${source}/runs`)).body.items as { status: string }[];
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 100));
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-serve-'));
    server = await startServer(await openContext({ home, backend: 'local' }), {
      port: 0,
      host: '127.0.0.1',
      clock: () => new Date(Date.now() + offsetMs),
    });
  });

  afterAll(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('creates a source, syncs it on request and lists the run', async () => {
    // Act
    const created = await api('POST', '/sources', { name: 'shop', type: 'sample', config: { rows: 300 } });
    const started = await api('POST', '/sources/shop/sync');
    await until(async () => (await runsOf('shop'))[0]?.status === 'SUCCEEDED');
    const run = await api('GET', `/runs/${started.body.runId}`);

    // Assess
    expect(created.status).toBe(201);
    expect(started.status).toBe(202);
    expect(run.body).toMatchObject({ runId: started.body.runId, status: 'SUCCEEDED' });
    expect(run.body.streams.orders.rows).toBe(300);
  });

  it('runs a source whose schedule is due, and not a paused one', async () => {
    // Prepare
    await api('POST', '/sources', {
      name: 'every',
      type: 'sample',
      config: { rows: 50 },
      schedule: 'rate(1 minute)',
    });
    await api('POST', '/sources', {
      name: 'held',
      type: 'sample',
      config: { rows: 50 },
      schedule: 'rate(1 minute)',
      paused: true,
    });

    // Act: a minute later by the scheduler's reckoning
    offsetMs = 61_000;
    const fired = server.scheduler.tick();
    await until(async () => (await runsOf('every'))[0]?.status === 'SUCCEEDED');

    // Assess
    expect(fired).toEqual(['every']);
    expect((await runsOf('every'))[0]?.status).toBe('SUCCEEDED');
    expect(await runsOf('held')).toEqual([]);
  });
});
