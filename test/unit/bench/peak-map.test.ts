/**
 * bench/peak-map.mjs, the preload behind ADR 0013's maps of a child at its
 * peak: it must see a large block of touched memory as a mapping of its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PEAK_MAP = fileURLToPath(new URL('../../../bench/peak-map.mjs', import.meta.url));

interface PeakMap {
  readonly hwmMb: number;
  readonly peakMb: number;
  readonly map: {
    readonly rssMb: number;
    readonly kinds: Record<string, number>;
    readonly largest: string[];
  };
}

describe.runIf(process.platform === 'linux')('bench/peak-map.mjs', () => {
  it('reports a 96 MB block held at the peak as one resident anonymous mapping of that size', () => {
    // Act: a child touches 96 MB (above glibc's mmap threshold: a mapping of its own) and holds it a while.
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        PEAK_MAP,
        '-e',
        'const b = Buffer.alloc(96 * 1024 * 1024, 1); setTimeout(() => { globalThis.kept = b.length; }, 300);',
      ],
      { encoding: 'utf8' },
    );

    // Assess: one `peak-map` line; the block is among the largest mappings, whole and resident.
    expect(child.status).toBe(0);
    const line = child.stderr.split('\n').find((l) => l.startsWith('peak-map '));
    expect(line).toBeDefined();
    const report = JSON.parse(line!.slice('peak-map '.length)) as PeakMap;
    expect(report.peakMb).toBeGreaterThanOrEqual(96);
    expect(report.hwmMb).toBeGreaterThanOrEqual(report.peakMb);
    expect(report.map.rssMb).toBeGreaterThanOrEqual(96);
    const sizes = report.map.largest.map((entry) => entry.split(' ')[1]!.split(':').map(Number));
    // At least the block's size: the kernel may merge it with a neighbouring mapping.
    expect(sizes.some(([size, resident]) => size! >= 96 && resident! >= 95)).toBe(true);
    expect(report.map.kinds['node binary']).toBeGreaterThan(0);
  });
});
