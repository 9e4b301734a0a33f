/**
 * The local event sink of `sluice serve` after a crash: a put that died
 * after its commit point is rolled forward, and the next put's records
 * still land (its sequence numbers continue past the rolled-forward mark).
 */
// @ts-nocheck

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventSink } from '../../../../adapters/local/event-sink.js';
import { type CliContext, openContext } from '../../../../cli/context.js';
import type { PushEnvelope } from '../../../../engine/push-events.js';

describe('LocalEventSink', () => {
  let home: string;
  let ctx: CliContext;
  const envelope = (id: number): PushEnvelope => ({
    v: 1,
    source: 'hooks',
    stream: 'clicks',
    record: { id },
    receivedAt: '2026-11-27T10:00:00Z',
  });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-sink-'));
    ctx = await openContext({ home, backend: 'local' });
    await ctx.state.putSource({
      name: 'hooks',
      type: 'push',
      config: { streams: [{ name: 'clicks' }] },
    } as never);
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lands the next put after a put crashed past its commit point', async () => {
    // Prepare
    const crashing = new LocalEventSink({
      ...ctx,
      options: {
        onPhase: (phase) => {
          if (phase === 'manifest-written') throw new Error('crash after the commit point');
        },
      },
    });
    await expect(crashing.put([envelope(1), envelope(2)])).rejects.toThrow(/crash/);

    // Act
    await new LocalEventSink(ctx).put([envelope(3)]);

    // Assess
    const engine = await ctx.openQueryEngine();
    try {
      const result = await engine.query('SELECT id FROM hooks.clicks ORDER BY id');
      expect(result.rows.map((r) => Number(r.id))).toEqual([1, 2, 3]);
    } finally {
      await engine.close();
    }
  });
});
