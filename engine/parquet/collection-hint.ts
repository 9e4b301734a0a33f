/**
 * A hint to V8 on the converting thread that a major collection is due,
 * given while groups are encoded on the encoder thread (ADR 0014).
 *
 * On the thread, the main isolate's old space (the source's promoted records,
 * encoded groups waiting to be freed) grew much further between major
 * collections than when encoding inline, and set the 10M-row run's peak on
 * two cores. V8 starts a major collection when external memory has grown by
 * its soft limit since the last one (64 MiB in Node 20's and 22's V8).
 * JavaScript cannot call AdjustAmountOfExternalAllocatedMemory, but an
 * ArrayBuffer is external memory: one just over that limit, dropped at once,
 * starts concurrent marking.
 *
 * Its pages are never touched when glibc's calloc maps them (the default:
 * a block this large gets a fresh zero-filled mapping), so the hint costs
 * address space, not resident memory. With MALLOC_PERTURB_ set, or another
 * allocator preloaded, the memory may be written and cost 65 MiB until the
 * next young collection. V8 versions that count external memory in the global
 * limit instead may ignore the hint; it then costs only the allocation.
 */

/** Just over V8's external-memory soft limit (`kExternalAllocationSoftLimit`): its check is strictly greater. */
export const HINT_BYTES = 65 * 1024 * 1024;

/** Arrow bytes (before encoding) handed to the thread between hints: ~16 groups at the sync's 16 MiB default. */
export const BYTES_PER_HINT = 256 * 1024 * 1024;

/** Counts the bytes handed to the encoder thread and hints once per `every`. */
export class CollectionHints {
  private handed = 0;
  private counted = 0;

  public constructor(
    private readonly every = BYTES_PER_HINT,
    private readonly hint: () => void = hintMajorCollection,
  ) {}

  /** Every byte recorded (diagnostics and tests). */
  public get total(): number {
    return this.counted;
  }

  /** Records `bytes` handed over; hints when they reach another `every`. */
  public handedOver(bytes: number): void {
    this.counted += bytes;
    this.handed += bytes;
    if (this.handed < this.every) return;
    this.handed %= this.every;
    this.hint();
  }
}

/** Set after an allocation failed: V8 collects (blocking) before it throws, so failing again would cost. */
let unavailable = false;

/**
 * Allocates and drops an untouched ArrayBuffer just over V8's soft limit. Returns
 * its size, 0 once the address space has refused one (no hint from then on).
 */
export function hintMajorCollection(): number {
  if (unavailable) return 0;
  try {
    return new ArrayBuffer(HINT_BYTES).byteLength;
  } catch {
    unavailable = true;
    return 0;
  }
}
