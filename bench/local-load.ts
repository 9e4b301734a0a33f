/**
 * One timed full load through the engine into a fresh local lake, in this
 * process: what the PostgreSQL and REST workloads measure (wall, CPU-s of
 * this process, peak RSS). The lake is removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { openLocalBackend } from '../adapters/local/index.js';
import { silentLogger } from '../connectors/sdk/index.js';
import type { Connector } from '../connectors/sdk/types.js';
import { MMAP_THRESHOLD_VARIABLE } from '../engine/parquet/mmap-threshold.js';
import { runSync } from '../engine/sync.js';
import { peakRssMb } from './peak-rss.js';

export interface EngineLoad {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly rows: number;
  readonly bytes: number;
  readonly files: number;
  readonly maxRssMb: number;
  /** Slices the run took (1 unless `sliceSeconds` cut it). */
  readonly slices: number;
  /** glibc's mmap threshold the process ran with (after any restart, cli/allocator-restart.ts); null: glibc's own. */
  readonly mmapThreshold: string | null;
}

export interface EngineLoadOptions {
  /** Source name and connector type of the run (also the lake directory's prefix). */
  readonly source: string;
  readonly type: string;
  readonly connector: Connector<never>;
  readonly config: Record<string, unknown>;
  /** The stream whose rows must all land: anything else fails the measurement. */
  readonly stream: string;
  readonly rows: number;
  readonly rowGroupRows?: number;
  readonly rowGroupBytes?: number;
  /** Run in slices of this many seconds (as a Lambda would); unset: one slice. */
  readonly sliceSeconds?: number;
}

export async function timedEngineLoad(load: EngineLoadOptions): Promise<EngineLoad> {
  const { source, type, connector, config, stream, rows, ...settings } = load;
  const home = await mkdtemp(join(os.tmpdir(), `sluice-bench-${source}-`));
  try {
    const backend = await openLocalBackend(home);
    const now = new Date().toISOString();
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const run = await runSync(
      { objects: backend.objects, state: backend.state, catalog: backend.catalog, logger: silentLogger },
      {
        source: { name: source, type, config, createdAt: now, updatedAt: now },
        connector,
        config,
        ...settings,
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const stats = run.streams[stream];
    if (run.status !== 'SUCCEEDED' || stats?.rows !== rows) {
      throw new Error(
        `${type} engine run ${run.status} with ${stats?.rows} of ${rows} rows: ${run.error ?? ''}`,
      );
    }
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rows,
      bytes: stats.bytes,
      files: stats.files,
      maxRssMb: peakRssMb(),
      slices: run.slices ?? 1,
      mmapThreshold: process.env[MMAP_THRESHOLD_VARIABLE] ?? null,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
