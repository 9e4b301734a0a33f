import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SourceRecord } from '../../../../connectors/sdk/types.js';
import {
  dropIdleIpcBuffers,
  idleIpcBufferSizes,
  keepIdleIpcBuffers,
  MAX_IDLE_IPC_BUFFERS,
  takeIdleIpcBuffer,
} from '../../../../engine/parquet/idle-ipc-buffers.js';
import { createParquetWriter, type ParquetColumn } from '../../../../engine/parquet/index.js';

const COLUMNS: readonly ParquetColumn[] = [
  { name: 'id', type: 'bigint' },
  { name: 'label', type: 'string' },
  { name: 'amount', type: 'double' },
];

function rows(count: number, label: (i: number) => string): SourceRecord[] {
  return Array.from({ length: count }, (_, i) => ({ id: i, label: label(i), amount: i / 4 }));
}

/**
 * Writes `groups` through one writer (small row groups, so two IPC buffers
 * circulate); returns the file, and the sizes of the kept buffers right after
 * the first write took what it needed.
 */
async function writeFile(
  groups: readonly SourceRecord[][],
  worker: boolean,
): Promise<{ file: Uint8Array; keptAfterFirstWrite: number[] }> {
  const chunks: Uint8Array[] = [];
  const writer = createParquetWriter(COLUMNS, async (chunk) => void chunks.push(chunk.slice()), {
    worker,
    rowGroupBytes: 64 * 1024,
  });
  let keptAfterFirstWrite: number[] = [];
  try {
    for (const [k, group] of groups.entries()) {
      await writer.write(group);
      if (k === 0) keptAfterFirstWrite = idleIpcBufferSizes();
    }
    await writer.finish();
  } finally {
    await writer.close();
  }
  return { file: Buffer.concat(chunks), keptAfterFirstWrite };
}

const sum = (sizes: readonly number[]): number => sizes.reduce((a, b) => a + b, 0);

describe('idle IPC buffers', () => {
  afterEach(() => {
    vi.useRealTimers();
    dropIdleIpcBuffers();
  });

  it('keeps the largest buffers, at most two, and hands out the smallest large enough', () => {
    // Act
    keepIdleIpcBuffers([new ArrayBuffer(10), new ArrayBuffer(30), new ArrayBuffer(20)], 64);

    // Assert
    expect(MAX_IDLE_IPC_BUFFERS).toBe(2);
    expect(idleIpcBufferSizes()).toEqual([30, 20]);
    expect(takeIdleIpcBuffer(31)).toBeUndefined();
    expect(takeIdleIpcBuffer(15)?.byteLength).toBe(20);
    expect(takeIdleIpcBuffer(25)?.byteLength).toBe(30);
    expect(takeIdleIpcBuffer(1)).toBeUndefined();
    expect(idleIpcBufferSizes()).toEqual([]);
  });

  it('does not keep a buffer grown past what a new one would be', () => {
    // Act
    keepIdleIpcBuffers([new ArrayBuffer(65), new ArrayBuffer(64)], 64);

    // Assert
    expect(idleIpcBufferSizes()).toEqual([64]);
  });

  it('skips a buffer that was transferred away (detached)', () => {
    // Prepare
    const buffer = new ArrayBuffer(64);
    structuredClone(buffer, { transfer: [buffer] });

    // Act
    keepIdleIpcBuffers([buffer], 64);

    // Assert
    expect(buffer.byteLength).toBe(0);
    expect(idleIpcBufferSizes()).toEqual([]);
  });

  it('lets kept buffers go after two idle seconds', () => {
    // Prepare
    vi.useFakeTimers();
    keepIdleIpcBuffers([new ArrayBuffer(1024)], 1024);

    // Act
    vi.advanceTimersByTime(1_999);
    const before = idleIpcBufferSizes();
    vi.advanceTimersByTime(1);

    // Assert
    expect(before).toEqual([1024]);
    expect(idleIpcBufferSizes()).toEqual([]);
  });

  it.each([
    ['inline', false],
    ['on the encoder thread', true],
  ])('hands a closed writer’s IPC buffers to the next writer (%s)', async (_, worker) => {
    // Prepare
    dropIdleIpcBuffers();
    await writeFile([rows(3_000, (i) => `first file row ${i}`)], worker);
    const left = idleIpcBufferSizes();

    // Act: the next file's writer gathers its first group
    const next = createParquetWriter(COLUMNS, async () => undefined, { worker, rowGroupBytes: 64 * 1024 });
    await next.write(rows(10, (i) => `next ${i}`));
    const afterTaking = idleIpcBufferSizes();
    await next.close();

    // Assert: both of the first writer's buffers were kept, and the next writer took one
    expect(left).toHaveLength(2);
    expect(afterTaking).toEqual([left[0]]);
  });

  // That a dirty buffer lays out the same IPC bytes is arrow.test.ts's; this is the whole writer's.
  it('writes the same file into buffers a closed writer left as into new ones', async () => {
    // Prepare: the expected bytes with no buffer kept, then buffers dirtied by another file
    const groups = [rows(2_000, (i) => `row ${i} ${'é'.repeat(i % 7)}`), rows(500, (i) => `tail ${i}`)];
    dropIdleIpcBuffers();
    const fresh = await writeFile(groups, false);
    dropIdleIpcBuffers();
    await writeFile([rows(4_000, (i) => `other file ${'x'.repeat(i % 50)} ${i}`)], false);
    const kept = idleIpcBufferSizes();

    // Act
    const reused = await writeFile(groups, false);

    // Assert: the first write took kept buffers, and the file is the same
    expect(kept).toHaveLength(2);
    expect(sum(reused.keptAfterFirstWrite)).toBeLessThan(sum(kept));
    expect(Buffer.from(reused.file).equals(Buffer.from(fresh.file))).toBe(true);
  });
});
