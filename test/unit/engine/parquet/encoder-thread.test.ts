/**
 * The encoder thread's own V8 heap: it holds messages and footer metadata,
 * not rows, so its young generation is kept small (measured in bench/).
 */
import { describe, expect, it } from 'vitest';
import { encoderResourceLimits } from '../../../../engine/parquet/encoder-thread.js';
import { createParquetWriter } from '../../../../engine/parquet/index.js';

describe('the encoder thread', () => {
  it('runs with a young generation of at most 16 MB while a writer uses it', async () => {
    // Prepare
    const writer = createParquetWriter([{ name: 'id', type: 'int' }], async () => undefined, {
      worker: true,
    });

    // Act
    await writer.writeRowGroup([{ id: 1 }]);
    const limits = encoderResourceLimits();
    await writer.finish();

    // Assess
    expect(await writer.encodedOn()).toBe('thread');
    expect(limits?.maxYoungGenerationSizeMb).toBeLessThanOrEqual(16);
  });
});
