import { describe, expect, it } from 'vitest';
import {
  canFreeChunks,
  freeDisposableChunk,
  markChunkDisposable,
} from '../../../engine/disposable-chunks.js';

/** WASM memory, which no transfer can detach. `WebAssembly` is not in this project's ES lib types. */
function wasmMemoryBuffer(): ArrayBuffer {
  const wasm = (
    globalThis as unknown as {
      WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
    }
  ).WebAssembly;
  return new wasm.Memory({ initial: 1 }).buffer;
}

// Node ≥ 21 frees at once, Node 20 never: CI runs this file on both (npm test, test:node22).
describe('freeDisposableChunk', () => {
  it(`${canFreeChunks() ? 'frees' : 'leaves to the collector, on a Node without ArrayBuffer.prototype.transfer,'} a disposable chunk`, () => {
    // Prepare
    const chunk = new Uint8Array(1 << 20).fill(7);
    markChunkDisposable(chunk);

    // Act
    freeDisposableChunk(chunk);

    // Assess
    expect(chunk.byteLength).toBe(canFreeChunks() ? 0 : 1 << 20);
    expect(chunk.buffer.byteLength).toBe(canFreeChunks() ? 0 : 1 << 20);
  });

  it('leaves alone a chunk that was not marked', () => {
    // Prepare
    const chunk = new Uint8Array([1, 2, 3]);

    // Act
    freeDisposableChunk(chunk);

    // Assess
    expect([...chunk]).toEqual([1, 2, 3]);
  });

  it('leaves a buffer it cannot detach to the collector', () => {
    // Prepare
    const chunk = new Uint8Array(wasmMemoryBuffer(), 0, 16).fill(9);
    markChunkDisposable(chunk);

    // Act
    freeDisposableChunk(chunk);

    // Assess
    expect([...chunk]).toEqual(new Array(16).fill(9));
  });
});
