/**
 * The benchmark's peak-memory figure is the measured process's own: a child
 * spawned by a parent holding a lot of memory must not report the parent's.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PEAK_RSS = fileURLToPath(new URL('../../../bench/peak-rss.ts', import.meta.url));

describe('peakRssMb', () => {
  it('reports the peak of the child itself when its parent holds far more memory', () => {
    // Prepare: 400 MB of touched memory in this (the parent) process.
    const ballast = Buffer.alloc(400 * 1024 * 1024, 1);

    // Act: a child reports both figures.
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { peakRssMb } = await import(${JSON.stringify(PEAK_RSS)});
         console.log(JSON.stringify({ own: peakRssMb(), maxRss: process.resourceUsage().maxRSS / 1024 }));`,
      ],
      { encoding: 'utf8' },
    );

    // Assess: the child's own peak is that of a small Node process, whatever maxRSS says.
    const { own } = JSON.parse(out.trim().split('\n').at(-1)!) as { own: number; maxRss: number };
    expect(ballast.length).toBe(400 * 1024 * 1024);
    expect(own).toBeGreaterThan(10);
    expect(own).toBeLessThan(250);
  });
});
