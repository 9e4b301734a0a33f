/**
 * Where a benchmark child allocates on its main thread: a preload that runs
 * V8's sampling heap profiler for the whole process and, at exit, writes the
 * allocating functions by megabytes to stderr.
 *
 *   SLUICE_BENCH_NODE_FLAGS='--import ./bench/allocations.mjs' npm run bench -- --only engine --repeat 1 --skip-10m --no-save
 *
 * Counts every allocation, also what the next young-generation collection
 * frees. With SLUICE_ALLOC_SURVIVORS=1 it counts only what survived one
 * (promoted to old space or still alive at exit): what makes the heap grow.
 */
import { Session } from 'node:inspector';

const survivorsOnly = process.env.SLUICE_ALLOC_SURVIVORS === '1';
const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 32_768,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: !survivorsOnly,
});

process.on('exit', () => {
  // The inspector answers synchronously on the same thread, so this runs before the process ends.
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return;
    const nodes = new Map();
    const parents = new Map();
    const index = (node) => {
      nodes.set(node.id, node);
      for (const child of node.children ?? []) {
        parents.set(child.id, node);
        index(child);
      }
    };
    index(result.profile.head);
    const name = (node) => {
      const frame = node.callFrame;
      const file = frame.url.split('/').pop();
      return `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${frame.lineNumber + 1}` : ''}`;
    };
    const bySite = new Map();
    let total = 0;
    for (const sample of result.profile.samples) {
      const node = nodes.get(sample.nodeId);
      if (node === undefined) continue;
      const parent = parents.get(node.id);
      const site = `${name(node)} ← ${parent ? name(parent) : '(root)'}`;
      bySite.set(site, (bySite.get(site) ?? 0) + sample.size);
      total += sample.size;
    }
    const mb = (bytes) => (bytes / 1e6).toFixed(1).padStart(8);
    const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 15);
    process.stderr.write(
      `allocated on the main thread${survivorsOnly ? ' and surviving a scavenge' : ''}: ${mb(total)} MB\n` +
        top.map(([site, bytes]) => `${mb(bytes)} MB  ${site}`).join('\n') +
        '\n',
    );
  });
});
