/**
 * The hint to V8 that a major collection is due (engine/parquet/collection-hint.ts):
 * given once per so many bytes handed to the encoder thread, and, in a fresh
 * Node process, followed by a major collection that would not have come
 * without it, at no cost in resident memory.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CollectionHints } from '../../../../engine/parquet/collection-hint.js';

const HINT_MODULE = fileURLToPath(new URL('../../../../engine/parquet/collection-hint.ts', import.meta.url));

describe('CollectionHints', () => {
  it('hints once each time the bytes handed over reach another multiple of its step', () => {
    let hints = 0;
    const counter = new CollectionHints(100, () => hints++);

    counter.handedOver(60);
    expect(hints).toBe(0);
    counter.handedOver(60); // 120: one step
    expect(hints).toBe(1);
    counter.handedOver(70); // 190: still within the second step
    expect(hints).toBe(1);
    counter.handedOver(10); // 200: the second step
    expect(hints).toBe(2);
  });
});

/**
 * Runs a child that churns young garbage in two halves after a warm-up,
 * hinting between them when `hint` is set, and reports the major collections
 * (other than idle-time ones) in each half and how much its resident memory
 * rose across the hint.
 */
function churn(hint: boolean): { before: number; after: number; rssRiseMb: number } {
  const script = `
    const { PerformanceObserver, constants } = await import('node:perf_hooks');
    const { hintMajorCollection } = await import(${JSON.stringify(HINT_MODULE)});
    let majors = 0;
    new PerformanceObserver((list) => {
      // Not those V8 schedules for idle time, which come without a cause in this script. The hint's
      // carries ALL_EXTERNAL_MEMORY when it starts the collection, no flag when an allocation step ends it.
      for (const e of list.getEntries())
        if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR && !(e.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_SCHEDULE_IDLE)) majors++;
    }).observe({ entryTypes: ['gc'] });
    const keep = [];
    // Rounds of young garbage; stops early once a collection for external memory has completed.
    const half = async (rounds, until = () => false) => {
      for (let round = 0; round < rounds && !until(); round++) {
        let garbage = [];
        for (let i = 0; i < 20000; i++) garbage.push({ i, text: 'row ' + i });
        keep.push(garbage.length);
        garbage = undefined;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await half(40); // warm-up: start-up's own collections fall here
    await new Promise((resolve) => setTimeout(resolve, 50));
    const start = majors;
    await half(40);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = majors - start;
    const rss = process.memoryUsage().rss;
    if (${hint}) hintMajorCollection();
    const rssRiseMb = (process.memoryUsage().rss - rss) / 1048576;
    // Concurrent marking finishes when this thread next steps in: on a loaded machine, later.
    // The control churns all 400 rounds.
    await half(400, () => majors - start - before > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(JSON.stringify({ before, after: majors - start - before, rssRiseMb }));
  `;
  // V8's memory reducer off and a fixed young generation, so that the control has no major collection
  // of its own on a slow machine or another Node; nothing inherited that changes allocation.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !name.startsWith('MALLOC_')),
  );
  const flags = ['--no-memory-reducer', '--min-semi-space-size=16', '--max-semi-space-size=16'];
  const child = spawnSync(
    process.execPath,
    [...flags, '--import', 'tsx', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      env,
    },
  );
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
    before: number;
    after: number;
    rssRiseMb: number;
  };
}

describe('hintMajorCollection', () => {
  it('is followed by a major collection that young garbage alone does not bring, without touching its memory', () => {
    const without = churn(false);
    const withHint = churn(true);

    // Young garbage alone: no major collection in either half.
    expect(without.before).toBe(0);
    expect(without.after).toBe(0);
    // With the hint between the halves: a major collection in the second.
    expect(withHint.before).toBe(0);
    expect(withHint.after).toBeGreaterThanOrEqual(1);
    // The 65 MiB are address space only.
    expect(withHint.rssRiseMb).toBeLessThan(8);
  });
});
