/**
 * Where groups are encoded: the thread on two cores or more, inline on one,
 * unless SLUICE_PARQUET_ENCODER says otherwise; and a writer made without a
 * `worker` option encodes where that says.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ENCODER_PLACE_VARIABLE, encoderPlace } from '../../../../engine/parquet/encoder-place.js';
import { encoderThreadId } from '../../../../engine/parquet/encoder-thread.js';
import { createParquetWriter, ParquetError, warmEncoder } from '../../../../engine/parquet/index.js';

describe('encoderPlace', () => {
  it('picks the thread on two cores or more and inline on one when the variable is unset, empty or auto', () => {
    for (const env of [{}, { [ENCODER_PLACE_VARIABLE]: '' }, { [ENCODER_PLACE_VARIABLE]: 'auto' }]) {
      expect([encoderPlace(env, 1), encoderPlace(env, 2), encoderPlace(env, 6)]).toEqual([
        'inline',
        'thread',
        'thread',
      ]);
    }
  });

  it('takes thread or inline from the variable whatever the cores', () => {
    expect(encoderPlace({ [ENCODER_PLACE_VARIABLE]: 'thread' }, 1)).toBe('thread');
    expect(encoderPlace({ [ENCODER_PLACE_VARIABLE]: 'inline' }, 8)).toBe('inline');
  });

  it('rejects any other value, naming the variable and the value', () => {
    expect(() => encoderPlace({ [ENCODER_PLACE_VARIABLE]: 'Inline' }, 2)).toThrow(ParquetError);
    expect(() => encoderPlace({ [ENCODER_PLACE_VARIABLE]: 'worker' }, 2)).toThrow(
      'SLUICE_PARQUET_ENCODER must be thread, inline or auto, not "worker"',
    );
  });
});

describe('a writer without a worker option', () => {
  const before = process.env[ENCODER_PLACE_VARIABLE];
  afterEach(() => {
    if (before === undefined) delete process.env[ENCODER_PLACE_VARIABLE];
    else process.env[ENCODER_PLACE_VARIABLE] = before;
  });

  async function placeOfDefaultWriter(): Promise<string> {
    const writer = createParquetWriter([{ name: 'id', type: 'int' }], async () => undefined);
    await writer.writeRowGroup([{ id: 1 }]);
    await writer.finish();
    const where = await writer.encodedOn();
    await writer.close();
    return where;
  }

  it('warms parquet-wasm without starting a thread when encoding inline, and rejects a bad value', async () => {
    // Runs first in this file: no writer has started a thread yet.
    process.env[ENCODER_PLACE_VARIABLE] = 'inline';
    await warmEncoder();
    const threadAfterInline = encoderThreadId();
    process.env[ENCODER_PLACE_VARIABLE] = 'both';

    expect(threadAfterInline).toBeUndefined();
    await expect(warmEncoder()).rejects.toThrow(/SLUICE_PARQUET_ENCODER must be thread, inline or auto/);
  });

  it('encodes where SLUICE_PARQUET_ENCODER says', async () => {
    process.env[ENCODER_PLACE_VARIABLE] = 'inline';
    const inline = await placeOfDefaultWriter();
    process.env[ENCODER_PLACE_VARIABLE] = 'thread';
    const thread = await placeOfDefaultWriter();

    expect([inline, thread]).toEqual(['inline', 'thread']);
  });

  it('fails on creation when SLUICE_PARQUET_ENCODER holds something else', () => {
    process.env[ENCODER_PLACE_VARIABLE] = 'fast';

    expect(() => createParquetWriter([{ name: 'id', type: 'int' }], async () => undefined)).toThrow(
      /SLUICE_PARQUET_ENCODER must be thread, inline or auto/,
    );
  });
});
