/**
 * What a Parquet-writing function's environment holds besides its handler's
 * own variables, by memory size. SluiceFunction sets it; the benchmark's
 * `--function-env` runs its children with it, so what is measured is what
 * is deployed.
 */
// The module alone, not the writer (and parquet-wasm) behind engine/parquet/index.ts.
import { ENCODER_PLACE_VARIABLE } from '../engine/parquet/encoder-place.js';
import { MMAP_THRESHOLD_BYTES, MMAP_THRESHOLD_VARIABLE } from '../engine/parquet/mmap-threshold.js';

/** The memory at which a function has one full vCPU (Lambda gives CPU in proportion to memory). */
export const ONE_VCPU_MB = 1769;

export function parquetFunctionEnvironment(memorySize: number): Record<string, string> {
  return {
    [MMAP_THRESHOLD_VARIABLE]: String(MMAP_THRESHOLD_BYTES),
    // Up to one vCPU an encoder thread buys no parallelism and costs a second isolate's memory. The
    // function sees more cores than its CPU share, so os.availableParallelism would pick the thread.
    ...(memorySize <= ONE_VCPU_MB ? { [ENCODER_PLACE_VARIABLE]: 'inline' } : {}),
  };
}
