/**
 * The local event sink of `sluice serve` after a crash: a put that died
 * after its commit point is rolled forward, and the next put's records
 * still land (its sequence numbers continue past the rolled-forward mark).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventSink } from '../../../../adapters/local/event-sink.js';
import { type CliContext, openContext } from '../../../../cli/context.js';
import { hashValue } from '../../../../engine/masking.js';
import type { PushEnvelope } from '../../../../engine/push-events.js';
import { createSource } from '../../../../engine/sources.js';

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

  it('lands a masked field hashed under the source salt when the push source declares pii', async () => {
    // Prepare
    const source = await createSource(
      {
        name: 'signups_app',
        type: 'push',
        config: { streams: [{ name: 'signups' }] },
        pii: { signups: { email: 'hash' } },
      },
      ctx,
    );
    const clear = 'bob.pii-check@example.com';

    // Act
    await new LocalEventSink(ctx).put([
      {
        v: 1,
        source: 'signups_app',
        stream: 'signups',
        record: { id: 7, email: clear },
        receivedAt: '2026-11-27T10:00:00Z',
      },
    ]);

    // Assess
    const salt = await ctx.secrets.get(source.piiSalt!.$secret);
    const engine = await ctx.openQueryEngine();
    try {
      const result = await engine.query('SELECT id, email FROM signups_app.signups');
      expect(result.rows.map((r) => [Number(r.id), r.email])).toEqual([[7, hashValue(clear, salt)]]);
    } finally {
      await engine.close();
    }
    const files = (await readdir(home, { withFileTypes: true, recursive: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    expect(files.some((f) => f.endsWith('.parquet'))).toBe(true);
    for (const file of files) expect((await readFile(file)).includes(clear), file).toBe(false);
  });
});
