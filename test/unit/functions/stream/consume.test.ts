/**
 * The consumer's logic (functions/stream/consume.ts) on the local backend:
 * Kinesis events built as Lambda delivers them, landed through the engine.
 * What the event source mapping does with the answer is modelled in
 * test/support/kinesis-esm.ts and exercised in
 * test/integration/functions/stream-consumer.test.ts.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliContext, openContext } from '../../../../cli/context.js';
import { silentLogger } from '../../../../connectors/sdk/logger.js';
import { hashValue } from '../../../../engine/masking.js';
import { encodeEnvelope, envelopesOf } from '../../../../engine/push-events.js';
import { createSource } from '../../../../engine/sources.js';
import { consumeBatch } from '../../../../functions/stream/consume.js';
import { PoisonHeadError } from '../../../../functions/stream/errors.js';
import { toEvent } from '../../../support/kinesis-esm.js';

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/ingest';

/** Every file under a directory, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('consumeBatch', () => {
  let home: string;
  let ctx: CliContext;

  /** A Kinesis event of one shard: each item is an envelope's bytes, or raw bytes (a poison record). */
  const event = (shard: string, items: readonly { seq: string; data: Uint8Array }[]) =>
    toEvent(
      shard,
      ARN,
      items.map(({ seq, data }) => ({ SequenceNumber: seq, Data: data, PartitionKey: 'k' })),
    );

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-consume-'));
    ctx = await openContext({ home, backend: 'local' });
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
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
    const clear = 'alice.pii-check@example.com';
    const [envelope] = envelopesOf(
      'signups_app',
      'signups',
      JSON.stringify({ id: 1, email: clear }),
      new Date(),
    );
    const batch = event('shardId-000000000000', [{ seq: '100', data: encodeEnvelope(envelope!) }]);

    // Act
    const result = await consumeBatch({ backend: ctx, logger: silentLogger }, batch);

    // Assess
    expect(result.landings.map((l) => l.landed)).toEqual([1]);
    const salt = await ctx.secrets.get(source.piiSalt!.$secret);
    const engine = await ctx.openQueryEngine();
    try {
      const rows = (await engine.query('SELECT id, email FROM signups_app.signups')).rows;
      expect(rows.map((r) => [Number(r.id), r.email])).toEqual([[1, hashValue(clear, salt)]]);
    } finally {
      await engine.close();
    }
    const files = await filesUnder(home);
    expect(files.filter((f) => f.endsWith('.parquet')).length).toBeGreaterThan(0);
    for (const file of files) expect((await readFile(file)).includes(clear), file).toBe(false);
  });

  it('throws, landing nothing, when the first record of a batch of several cannot land', async () => {
    // Prepare
    await createSource({ name: 'clicks_app', type: 'push', config: { streams: [{ name: 'clicks' }] } }, ctx);
    const good = envelopesOf('clicks_app', 'clicks', JSON.stringify([{ id: 1 }, { id: 2 }]), new Date());
    const batch = event('shardId-000000000001', [
      { seq: '200', data: new TextEncoder().encode('not json') },
      ...good.map((e, i) => ({ seq: String(201 + i), data: encodeEnvelope(e) })),
    ]);

    // Act
    const attempt = consumeBatch({ backend: ctx, logger: silentLogger }, batch);

    // Assess: a function error, so Lambda halves the batch instead of retrying it whole from the poison record.
    await expect(attempt).rejects.toBeInstanceOf(PoisonHeadError);
    await expect(attempt).rejects.toThrow('the first record (200) of a batch of 3');
    expect(await ctx.state.listRuns('clicks_app')).toEqual([]);
  });

  it('reports the first failed record and lands the records before it when a later record cannot land', async () => {
    // Prepare
    await createSource({ name: 'views_app', type: 'push', config: { streams: [{ name: 'views' }] } }, ctx);
    const good = envelopesOf('views_app', 'views', JSON.stringify([{ id: 1 }, { id: 2 }]), new Date());
    const batch = event('shardId-000000000002', [
      { seq: '300', data: encodeEnvelope(good[0]!) },
      { seq: '301', data: new TextEncoder().encode('not json') },
      { seq: '302', data: encodeEnvelope(good[1]!) },
    ]);

    // Act
    const result = await consumeBatch({ backend: ctx, logger: silentLogger }, batch);

    // Assess
    expect(result.response.batchItemFailures).toEqual([{ itemIdentifier: '301' }]);
    expect(result.landings.map((l) => [l.source, l.landed])).toEqual([['views_app', 1]]);
  });
});
