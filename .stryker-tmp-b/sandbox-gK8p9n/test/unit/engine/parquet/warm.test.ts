/**
 * The encoder thread between writers: by default it ends after 2 s idle (a
 * CLI process exits promptly and returns the WASM memory); after
 * `keepEncoderWarm()` (a Lambda container) the same thread serves the next
 * writer however long the pause.
 */
// @ts-nocheck

import { describe, expect, it } from 'vitest';
import { encoderThreadId } from '../../../../engine/parquet/encoder-thread.js';
import { createParquetWriter, keepEncoderWarm, warmEncoder } from '../../../../engine/parquet/index.js';

async function writeOneFile(): Promise<number> {
  let bytes = 0;
  const writer = createParquetWriter([{ name: 'id', type: 'int' }], async (chunk) => {
    bytes += chunk.byteLength;
  });
  await writer.writeRowGroup([{ id: 1 }, { id: 2 }]);
  await writer.finish();
  return bytes;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the encoder thread between writers', () => {
  it('ends after being idle by default, so the next writer starts a new one', async () => {
    // Act
    await writeOneFile();
    const first = encoderThreadId();
    await pause(2_600);
    const afterIdle = encoderThreadId();
    await writeOneFile();

    // Assess
    expect(first).toBeTypeOf('number');
    expect(afterIdle).toBeUndefined();
    expect(encoderThreadId()).not.toBe(first);
  });

  it('stays warm across an idle pause once kept warm', async () => {
    // Prepare
    keepEncoderWarm();
    await warmEncoder();
    const warmed = encoderThreadId();

    // Act
    expect(await writeOneFile()).toBeGreaterThan(0);
    await pause(2_600);
    await writeOneFile();

    // Assess
    expect(warmed).toBeTypeOf('number');
    expect(encoderThreadId()).toBe(warmed);
  });
});
