// @ts-nocheck
import { describe, expect, it, vi } from 'vitest';

// A runtime where no worker thread can start (e.g. a bundle shipped without the worker file).
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  const { EventEmitter } = await import('node:events');
  class BrokenWorker extends EventEmitter {
    public constructor() {
      super();
      setImmediate(() => {
        this.emit('error', new Error('Cannot find module worker.js'));
        this.emit('exit', 1);
      });
    }
    public ref(): void {}
    public unref(): void {}
    public postMessage(): void {}
    public async terminate(): Promise<number> {
      return 1;
    }
  }
  return { ...original, Worker: BrokenWorker };
});

const { createParquetWriter } = await import('../../../../engine/parquet/index.js');

describe('createParquetWriter without a worker thread', () => {
  it('encodes inline when the worker thread cannot start', async () => {
    // Prepare
    const chunks: Uint8Array[] = [];
    const writer = createParquetWriter([{ name: 'id', type: 'int' }], async (chunk) => {
      chunks.push(chunk.slice());
    });

    // Act
    await writer.writeRowGroup([{ id: 1 }, { id: 2 }]);
    await writer.writeRowGroup([{ id: 3 }]);
    await writer.finish();
    const where = await writer.encodedOn();
    await writer.close();

    // Assess
    expect(where).toBe('inline');
    const file = Buffer.concat(chunks);
    expect(file.subarray(0, 4).toString()).toBe('PAR1');
    expect(file.subarray(-4).toString()).toBe('PAR1');
    expect(writer).toMatchObject({ rows: 3, rowGroups: 2, bytesWritten: file.length });
  });
});
