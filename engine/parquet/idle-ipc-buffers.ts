/**
 * IPC buffers of closed writers, kept for the next writer to take. A file
 * rollover closes one writer and opens the next at once: without these the
 * new writer allocates fresh buffers (a group's Arrow size each, two
 * circulating) while the closed writer's wait for a garbage collection, and
 * the process peaks 20–30 MB higher at every rollover (bench/README.md,
 * "2026-11-28: on Lambda's Node"). At most two are kept, what one open
 * writer holds anyway, and only for a short idle time.
 */

/** Buffers kept at most: a writer circulates two (one gathering, one in the encoder). */
export const MAX_IDLE_IPC_BUFFERS = 2;
/** How long kept buffers wait for a writer before they are let go. */
const IDLE_MS = 2_000;

const idle: ArrayBuffer[] = [];
let timer: NodeJS.Timeout | undefined;

/**
 * Keeps the largest of `buffers` of at most `maxBytes` (and of those already
 * kept), up to MAX_IDLE_IPC_BUFFERS. A buffer grown past `maxBytes` by one
 * large group dies with its writer, as before: it must not live on from file
 * to file.
 */
export function keepIdleIpcBuffers(buffers: readonly ArrayBuffer[], maxBytes: number): void {
  // A buffer transferred to the encoder thread and never returned is detached: nothing to keep.
  const usable = buffers.filter((b) => b.byteLength > 0 && b.byteLength <= maxBytes);
  if (usable.length === 0) return;
  idle.push(...usable);
  idle.sort((a, b) => b.byteLength - a.byteLength);
  idle.length = Math.min(idle.length, MAX_IDLE_IPC_BUFFERS);
  clearTimeout(timer);
  timer = setTimeout(dropIdleIpcBuffers, IDLE_MS);
  // Never the reason a process stays alive.
  timer.unref();
}

/** The smallest kept buffer of at least `bytes`, now the caller's; undefined when none is that large. */
export function takeIdleIpcBuffer(bytes: number): ArrayBuffer | undefined {
  // `idle` is sorted largest first.
  const at = idle.findLastIndex((b) => b.byteLength >= bytes);
  if (at < 0) return undefined;
  return idle.splice(at, 1)[0];
}

/** Sizes of the buffers kept now, largest first (for tests and diagnostics). */
export function idleIpcBufferSizes(): number[] {
  return idle.map((b) => b.byteLength);
}

/** Lets every kept buffer go. */
export function dropIdleIpcBuffers(): void {
  clearTimeout(timer);
  timer = undefined;
  idle.length = 0;
}
