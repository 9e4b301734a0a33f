/**
 * glibc's mmap threshold, the one allocator setting every process that writes
 * Parquet gets: a deployed function through its environment
 * (infra/parquet-function-environment.ts), the CLI's landing commands by
 * restarting themselves with it (cli/allocator-restart.ts). ADRs 0013 and 0018.
 */

/** glibc reads its `M_MMAP_THRESHOLD` from this variable when the process starts (mallopt(3)). */
export const MMAP_THRESHOLD_VARIABLE = 'MALLOC_MMAP_THRESHOLD_';

/**
 * Setting it ends glibc's adjustment of its mmap and trim thresholds, which
 * otherwise keeps twice the largest block freed resident at each heap's top,
 * where the writer's per-group buffers come from
 * (docs/adr/0013-glibc-mmap-threshold-in-parquet-functions.md).
 */
export const MMAP_THRESHOLD_BYTES = 1024 * 1024;
