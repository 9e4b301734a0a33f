// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { ByteChannel } from '../../../engine/channel.js';

describe('ByteChannel', () => {
  it('delivers chunks in order and ends', async () => {
    const channel = new ByteChannel(1);
    const received: number[] = [];
    const consumer = (async () => {
      for await (const chunk of channel) received.push(chunk[0]!);
    })();
    for (let i = 0; i < 10; i++) await channel.push(new Uint8Array([i]));
    channel.end();
    await consumer;
    expect(received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('holds the producer back when the consumer is slow', async () => {
    const channel = new ByteChannel(2);
    let pushed = 0;
    const producer = (async () => {
      for (let i = 0; i < 10; i++) {
        await channel.push(new Uint8Array([i]));
        pushed++;
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    expect(pushed).toBeLessThanOrEqual(3);
    channel.fail(new Error('stop'));
    await expect(producer).rejects.toThrow('stop');
  });
});
