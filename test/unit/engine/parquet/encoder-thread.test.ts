/**
 * The encoder thread's own V8 heap: it holds messages and footer metadata,
 * not rows, so its young generation is kept small (measured in bench/).
 */
import { describe, expect, it } from 'vitest';
import { bytesHandedToThread, encoderResourceLimits } from '../../../../engine/parquet/encoder-thread.js';
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

  it('counts the Arrow bytes handed to it toward the collection hints, and none of a writer encoding inline', async () => {
    // Prepare
    const columns = [{ name: 'text', type: 'string' as const }];
    const rows = Array.from({ length: 1000 }, (_, i) => ({ text: `row ${i}` }));
    const onThread = createParquetWriter(columns, async () => undefined, { worker: true });
    const inline = createParquetWriter(columns, async () => undefined, { worker: false });

    // Act
    const start = bytesHandedToThread();
    await onThread.writeRowGroup(rows);
    await onThread.finish();
    const afterThread = bytesHandedToThread();
    await inline.writeRowGroup(rows);
    await inline.finish();

    // Assess: at least the group's text went over; nothing more inline.
    expect(await onThread.encodedOn()).toBe('thread');
    expect(await inline.encodedOn()).toBe('inline');
    expect(afterThread - start).toBeGreaterThan(1000 * 'row 999'.length);
    expect(bytesHandedToThread()).toBe(afterThread);
  });
});
