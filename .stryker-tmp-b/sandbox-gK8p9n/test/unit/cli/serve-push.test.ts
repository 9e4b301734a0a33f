/**
 * `sluice serve` takes pushed events: `POST /sources/{name}/events` lands
 * them in the process through engine/push.ts (no Kinesis), queryable once
 * the 202 is back; a restarted server keeps the local sequence going.
 */
// @ts-nocheck

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../cli/commands/serve.js';
import { openContext } from '../../../cli/context.js';

describe('sluice serve push', () => {
  let home: string;
  let server: RunningServer;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted on by shape
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const start = async () => {
    server = await startServer(await openContext({ home, backend: 'local' }), { port: 0, host: '127.0.0.1' });
  };
  const ids = async (): Promise<number[]> => {
    const ctx = await openContext({ home, backend: 'local' });
    const engine = await ctx.openQueryEngine();
    try {
      const result = await engine.query('SELECT id FROM hooks.clicks ORDER BY id');
      return result.rows.map((r) => Number(r.id));
    } finally {
      await engine.close();
    }
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-serve-push-'));
    await start();
  });

  afterAll(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('lands pushed records locally and keeps counting after a restart', async () => {
    // Prepare
    const created = await api('POST', '/sources', {
      name: 'hooks',
      type: 'push',
      config: { streams: [{ name: 'clicks' }] },
    });

    // Act
    const one = await api('POST', '/sources/hooks/events', { id: 1, page: 'a' });
    const many = await api('POST', '/sources/hooks/events', [
      { id: 2, page: 'b' },
      { id: 2, page: 'b' },
    ]);
    const before = await ids();
    await server.close();
    await start();
    const after = await api('POST', '/sources/hooks/events?stream=clicks', [{ id: 3 }, { id: 4 }]);
    const runs = await api('GET', '/sources/hooks/runs');

    // Assess
    expect(created.status).toBe(201);
    expect([one.status, many.status, after.status]).toEqual([202, 202, 202]);
    expect(many.body).toEqual({ source: 'hooks', stream: 'clicks', accepted: 2 });
    expect(before).toEqual([1, 2, 2]);
    expect(await ids()).toEqual([1, 2, 2, 3, 4]);
    expect(runs.body.items).toHaveLength(3);
  });

  it('answers 400 naming the stream when it is not declared, and lands nothing', async () => {
    // Act
    const wrong = await api('POST', '/sources/hooks/events?stream=views', { id: 9 });

    // Assess
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain('"views"');
    expect(await ids()).toEqual([1, 2, 2, 3, 4]);
  });
});
