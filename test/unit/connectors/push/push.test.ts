import { describe, expect, it } from 'vitest';
import { pushConnector, pushStreams } from '../../../../connectors/push/index.js';
import { validateConfig } from '../../../../connectors/sdk/config.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import { ValidationError } from '../../../../engine/errors.js';
import { compareSequence, pushRunId, shardLeaseName, shardMarkStream } from '../../../../engine/push.js';
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopesOf,
  PushLimits,
  partitionKeyFor,
} from '../../../../engine/push-events.js';

describe('the push connector', () => {
  it('declares the configured streams with their columns, and reads nothing', async () => {
    // Act
    const streams = pushStreams({
      streams: [{ name: 'clicks' }, { name: 'orders', columns: { id: 'bigint' } }],
    });
    const read = [];
    for await (const item of streams[0]!.read({ signal: new AbortController().signal } as never))
      read.push(item);

    // Assess
    expect(streams.map((s) => [s.name, s.writeDisposition, s.columns])).toEqual([
      ['clicks', 'append', undefined],
      ['orders', 'append', { id: 'bigint' }],
    ]);
    expect(read).toEqual([]);
  });

  it('refuses a bad or repeated stream name and an unknown config field, naming it', async () => {
    expect(() => pushStreams({ streams: [{ name: 'Bad-Name' }] })).toThrow(
      '"streams[0].name" must be a snake_case name; got "Bad-Name"',
    );
    expect(() => pushStreams({ streams: [{ name: 'a' }, { name: 'a' }] })).toThrow('declared twice');
    expect(() => pushStreams({ streams: [] })).toThrow('at least one stream');
    expect(() => validateConfig(pushConnector.configSchema, { streams: [{ name: 'a' }], nope: 1 })).toThrow(
      'nope',
    );
    expect(await pushConnector.check({ streams: [{ name: 'a__b' }] })).toMatchObject({ ok: false });
  });
});

describe('declared push columns', () => {
  it('refuses an unknown column type when the config is validated, naming the column', () => {
    // Prepare
    const config = {
      streams: [{ name: 'clicks' }, { name: 'orders', columns: { id: 'bigint', amount: 'float' } }],
    };

    // Act
    const validate = () => pushConnector.validate?.(config as never);

    // Assess
    expect(validate).toThrow(ConfigError);
    expect(validate).toThrow('"streams[1].columns.amount" must be boolean, int, bigint, double,');
  });

  it('declares a column type in its canonical spelling when it is written otherwise', () => {
    // Act
    const [stream] = pushStreams({
      streams: [{ name: 'orders', columns: { amount: 'DOUBLE', total: 'Decimal(12, 2)' } as never }],
    });

    // Assess
    expect(stream!.columns).toEqual({ amount: 'double', total: 'decimal(12,2)' });
  });
});

describe('push envelopes', () => {
  const at = new Date('2026-11-27T10:00:00Z');

  it('wraps a record or an array, and decodes what it encoded', () => {
    // Act
    const one = envelopesOf('app', 'clicks', '{"id":1}', at);
    const many = envelopesOf('app', 'clicks', '[{"id":1},{"id":2}]', at);

    // Assess
    expect(one).toEqual([
      { v: 1, source: 'app', stream: 'clicks', record: { id: 1 }, receivedAt: at.toISOString() },
    ]);
    expect(many).toHaveLength(2);
    expect(decodeEnvelope(encodeEnvelope(many[1]!))).toEqual(many[1]);
  });

  it('carries a 64-bit id from the body through the stream digit for digit', () => {
    // Prepare: JSON.parse reads 9007199254740993 as 9007199254740992.
    const body = '{"order_id": 9007199254740993, "nested": {"ids": [1234567890123456789]}}';

    // Act
    const [envelope] = envelopesOf('app', 'orders', body, at);
    const text = new TextDecoder().decode(encodeEnvelope(envelope!));
    const decoded = decodeEnvelope(encodeEnvelope(envelope!));

    // Assess
    expect(text).toContain('"order_id":9007199254740993,');
    expect(decoded.record).toEqual({ order_id: 9007199254740993n, nested: { ids: [1234567890123456789n] } });
  });

  it('refuses what cannot land, naming the place', () => {
    expect(() => envelopesOf('app', 's', '', at)).toThrow('needs a JSON object');
    expect(() => envelopesOf('app', 's', '[1]', at)).toThrow('body[0] must be a JSON object');
    expect(() => envelopesOf('app', 's', '[]', at)).toThrow('no records');
    expect(() => decodeEnvelope(new TextEncoder().encode('{"v":2}'))).toThrow('version 1');
    expect(() => decodeEnvelope(new TextEncoder().encode('nope'))).toThrow('not JSON');
  });

  it('refuses a push whose envelopes exceed one PutRecords although its body is under 5 MiB', () => {
    // Prepare: 500 records, each ~10 KiB, so the body is just under 5 MiB and the envelopes are over it.
    const pad = 'x'.repeat(Math.floor((PushLimits.maxRequestBytes - 2 - 500 * 20) / 500));
    const body = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i, p: pad })));

    // Act
    const push = () => envelopesOf('shop_events', 'orders', body, at);

    // Assess
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(PushLimits.maxRequestBytes);
    expect(push).toThrow(ValidationError);
    expect(push).toThrow(
      /bytes on the stream \(each in its envelope, with its partition key\); a push takes at most 5242880/,
    );
    expect(() => push()).toThrow(expect.objectContaining({ field: 'body' }));
  });

  it('counts the partition keys the records are put under against the PutRecords limit', () => {
    // Prepare: envelopes of ~10,400 bytes: 500 of them fit with a 3-byte key, not with a 256-byte one.
    const [empty] = envelopesOf('app', 's', '{"p":""}', at);
    const pad = 'x'.repeat(10_400 - encodeEnvelope(empty!).byteLength);
    const body = JSON.stringify(Array.from({ length: 500 }, () => ({ p: pad })));
    const longKey = () => 'k'.repeat(256);

    // Act
    const shortKeys = envelopesOf('app', 's', body, at);
    const longKeys = () => envelopesOf('app', 's', body, at, longKey);

    // Assess
    expect(shortKeys).toHaveLength(500);
    expect(longKeys).toThrow(/bytes on the stream/);
  });

  it('spreads partition keys only when asked', () => {
    const [e] = envelopesOf('app', 's', '{}', at);
    expect(partitionKeyFor(1)(e!, 0)).toBe('app');
    const spread = partitionKeyFor(4);
    expect(new Set([0, 1, 2, 3].map((i) => spread(e!, i)))).toEqual(
      new Set(['app/0', 'app/1', 'app/2', 'app/3']),
    );
  });
});

describe('shard names and sequence numbers', () => {
  it('orders sequence numbers as numbers, not text', () => {
    expect(compareSequence('9', '10')).toBe(-1);
    expect(compareSequence('49590338271490256608559692538361571095921575989136588898', '4959')).toBe(1);
    expect(compareSequence('123', '123')).toBe(0);
  });

  it('names shard state apart per stream, never like a real source or stream', () => {
    const a = 'arn:aws:kinesis:us-east-1:1:stream/a/shardId-000000000001';
    const b = 'arn:aws:kinesis:us-east-1:1:stream/b/shardId-000000000001';
    expect(shardMarkStream(a)).not.toBe(shardMarkStream(b));
    expect(shardMarkStream(a)).toMatch(/^mark__s[0-9a-f]{8}_shardid_000000000001$/);
    expect(shardLeaseName('app', a)).toMatch(/^app__s[0-9a-f]{8}_shardid_000000000001$/);
    expect(pushRunId(new Date(0), a, '1', '2')).toBe(pushRunId(new Date(0), a, '1', '2'));
    expect(pushRunId(new Date(0), a, '1', '2')).not.toBe(pushRunId(new Date(0), a, '1', '3'));
  });
});
