import { readFileSync } from 'node:fs';

/**
 * Peak resident memory of this process, in MB.
 *
 * Not `process.resourceUsage().maxRSS` alone: on Linux a process started by
 * fork and exec keeps in `ru_maxrss` the high-water mark of the parent image
 * it was forked from, so a benchmark child spawned by a parent that holds
 * DuckDB reported the parent's size, not its own (measured: a child whose own
 * peak was 260–309 MB reported 615 MB beside a 669 MB parent). VmHWM in
 * /proc/self/status is the peak of this program's own image; where there is
 * no /proc, maxRSS is all there is.
 */
export function peakRssMb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // No procfs (macOS): fall through.
  }
  return process.resourceUsage().maxRSS / 1024;
}
