/**
 * Chunks whose memory their consumer may free once it has written them.
 *
 * The Parquet writer marks each chunk it emits (an encoded row group, the
 * footer): the only live view of its ArrayBuffer, which the writer never
 * reads again once pushed. The local object store frees a marked chunk as
 * soon as it has written it; otherwise each one (1–5 MB) waits for a major
 * collection on the main thread, since it is promoted before it is written
 * (ADR 0013, amended): ~12 MB of a 10M-row local sync's peak on Node 22
 * (medians 306.5 → 294.5 MB, bench/README.md). The S3 store frees nothing:
 * its multipart upload may keep a chunk until its part is sent.
 */

/** ArrayBuffers of chunks marked disposable. */
const disposable = new WeakSet<ArrayBufferLike>();

type TransferableBuffer = ArrayBuffer & { transfer?: (length?: number) => ArrayBuffer };

/**
 * Whether this runtime can free a chunk at once: `ArrayBuffer.prototype.transfer`
 * (Node ≥ 21). Node 20 has none, and its chunks are left to the collector; a
 * `structuredClone` transfer in its place was measured and not kept
 * (bench/README.md, "2026-11-28 afternoon").
 */
export function canFreeChunks(): boolean {
  return typeof (ArrayBuffer.prototype as TransferableBuffer).transfer === 'function';
}

/** Marks `chunk` disposable: the caller promises it is its buffer's only live view and never reads it again. */
export function markChunkDisposable(chunk: Uint8Array): void {
  disposable.add(chunk.buffer);
}

/** Frees a disposable chunk's memory once written (it then reads as empty); any other chunk is left alone. */
export function freeDisposableChunk(chunk: Uint8Array): void {
  const buffer = chunk.buffer as TransferableBuffer;
  if (!disposable.delete(buffer) || typeof buffer.transfer !== 'function') return;
  try {
    buffer.transfer(0);
  } catch {
    // Not detachable (WASM memory): the collector frees it, as before.
  }
}
