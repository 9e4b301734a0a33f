// What is resident at a process's peak, by mapping (Linux). A preload for the
// benchmark's children, e.g.
//   SLUICE_BENCH_NODE_FLAGS='--import ./bench/peak-map.mjs' npm run bench -- --only engine --repeat 1 --skip-10m --no-save
// Every 5 ms it reads VmRSS; at each new high 2 MB or more above the last map
// it reads /proc/self/smaps (milliseconds: hence not at every sample) and keeps
// the resident MB per mapping kind, the largest anonymous mappings (start,
// size:resident, "+none N" where a PROT_NONE reservation follows, as after a
// glibc thread arena or WASM memory) and the main thread's V8 heap. Printed to
// stderr at exit as one `peak-map` JSON line. The sampler runs on the main
// thread's timers, so long synchronous work (inline encoding) can hide the
// true peak from it: `hwmMb` (the kernel's VmHWM) is that peak, `peakMb` the
// highest sample.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const MB = 1024 * 1024;

function status() {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kb = (key) => Number(text.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0);
  return {
    rss: kb('VmRSS') / 1024,
    hwm: kb('VmHWM') / 1024,
    anon: kb('RssAnon') / 1024,
    file: kb('RssFile') / 1024,
  };
}

function kindOf(path) {
  if (path === '') return '[anon]';
  if (path.startsWith('[')) return path;
  if (/\/node$/.test(path)) return 'node binary';
  return path.endsWith('.node') ? 'native addon' : 'other file';
}

function mappings() {
  const kinds = {};
  const regions = [];
  let current;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/);
    if (head) {
      const size = (Number.parseInt(head[2], 16) - Number.parseInt(head[1], 16)) / MB;
      current = { start: head[1], perms: head[3], size, kind: kindOf(head[4]), rss: 0 };
      regions.push(current);
      continue;
    }
    const rss = line.match(/^Rss:\s+(\d+)/);
    if (rss && current) {
      current.rss = Number(rss[1]) / 1024;
      kinds[current.kind] = (kinds[current.kind] ?? 0) + current.rss;
    }
  }
  const largest = regions
    .map((r, i) => ({ ...r, next: regions[i + 1] }))
    .filter((r) => r.kind === '[anon]' && r.rss >= 2)
    .sort((a, b) => b.rss - a.rss)
    .slice(0, 12)
    .map((r) => {
      const none = r.next?.perms === '---p' ? ` +none ${Math.round(r.next.size)}` : '';
      return `${r.start} ${Math.round(r.size)}:${Math.round(r.rss)}${none}`;
    });
  const rounded = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, Math.round(v)]));
  return { kinds: rounded, largest };
}

if (isMainThread) {
  let peak = 0;
  let mappedAt = 0;
  let map;
  const sample = () => {
    const now = status();
    if (now.rss <= peak) return;
    peak = now.rss;
    if (peak - mappedAt < 2) return;
    mappedAt = peak;
    const heap = v8.getHeapStatistics();
    map = {
      at: Number(process.uptime().toFixed(2)),
      rssMb: Math.round(now.rss),
      anonMb: Math.round(now.anon),
      fileMb: Math.round(now.file),
      mainHeapMb: {
        total: Math.round(heap.total_heap_size / MB),
        used: Math.round(heap.used_heap_size / MB),
      },
      externalMb: Math.round(heap.external_memory / MB),
      ...mappings(),
    };
  };
  setInterval(sample, 5).unref();
  process.on('exit', () => {
    sample();
    const hwmMb = Math.round(status().hwm);
    process.stderr.write(`peak-map ${JSON.stringify({ hwmMb, peakMb: Math.round(peak), map })}\n`);
  });
}
