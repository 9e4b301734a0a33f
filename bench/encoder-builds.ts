/**
 * What a build of parquet-wasm costs per row group, fresh and warm, for
 * ADR 0002: each build's Node glue (`parquet_wasm.js`, the installed package
 * by default) encodes the same 1M converted benchmark rows (16 groups of
 * 65,536, the engine's writer settings) twice, in a fresh child process per
 * run, runs alternating between builds. A line reports the CPU-s of the
 * first million (lazy compilation, and TurboFan tier-up on V8's background
 * threads) and of the second (steady state), and the first group's CPU split
 * between the encoding thread and every other thread of the process.
 *
 *   npx tsx bench/encoder-builds.ts [--module path/to/parquet_wasm.js]… [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ArrowIpcWriter } from '../engine/parquet/arrow.js';
import { RowConverter } from '../engine/parquet/convert.js';
import { plainColumns } from '../engine/parquet/dictionary.js';
import { buildPool, BENCH_COLUMNS as COLUMNS, pages } from './pool.js';

const GROUP_ROWS = 65_536;
const GROUPS = 16;
const require = createRequire(import.meta.url);

/** CPU milliseconds per thread of this process, by thread id (Linux /proc; empty elsewhere). */
function threadCpuMs(): Map<string, number> {
  const threads = new Map<string, number>();
  let ids: string[] = [];
  try {
    ids = readdirSync('/proc/self/task');
  } catch {
    return threads;
  }
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  for (const id of ids) {
    try {
      const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(id, (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

const cpuMs = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

/** One fresh run of one build: what the module comment describes. */
function child(module: string): void {
  const records = [...pages(buildPool(), GROUP_ROWS * GROUPS)].flat();
  const groups = Array.from({ length: GROUPS }, (_, g) => {
    const data = new RowConverter(COLUMNS).convert(records.slice(g * GROUP_ROWS, (g + 1) * GROUP_ROWS));
    return { ipc: new ArrowIpcWriter(COLUMNS).write([data]), plain: plainColumns(COLUMNS, [data]) };
  });
  records.length = 0;
  const loadStart = process.cpuUsage();
  const pw = require(module) as typeof import('parquet-wasm');
  const loadMs = cpuMs(loadStart);
  const groupMs: number[] = [];
  let bytes = 0;
  let before = threadCpuMs();
  let firstGroup: { thisThreadMs: number; otherThreadsMs: number } | undefined;
  for (let pass = 0; pass < 2; pass++) {
    for (const group of groups) {
      const start = process.cpuUsage();
      let builder = new pw.WriterPropertiesBuilder()
        .setCompression(pw.Compression.SNAPPY)
        .setStatisticsEnabled(pw.EnabledStatistics.Page)
        .setWriterVersion(pw.WriterVersion.V1)
        .setMaxRowGroupSize(GROUP_ROWS);
      for (const name of group.plain) builder = builder.setColumnDictionaryEnabled(name, false);
      bytes += pw.writeParquet(pw.Table.fromIPCStream(group.ipc), builder.build()).length;
      groupMs.push(cpuMs(start));
      if (firstGroup === undefined) {
        const after = threadCpuMs();
        const delta = (id: string): number => (after.get(id) ?? 0) - (before.get(id) ?? 0);
        const self = delta(String(process.pid));
        const all = [...after.keys()].reduce((sum, id) => sum + delta(id), 0);
        firstGroup = { thisThreadMs: self, otherThreadsMs: all - self };
        before = after;
      }
    }
  }
  const sum = (xs: number[]): number => Math.round(xs.reduce((a, b) => a + b, 0));
  const steady = groupMs.slice(GROUPS).sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      module,
      loadMs: Math.round(loadMs),
      firstMillionCpuMs: sum(groupMs.slice(0, GROUPS)),
      secondMillionCpuMs: sum(groupMs.slice(GROUPS)),
      medianSteadyGroupMs: Number(steady[GROUPS >> 1]!.toFixed(1)),
      firstGroupMs: Math.round(groupMs[0]!),
      firstGroup,
      bytesPerGroup: Math.round(bytes / (2 * GROUPS)),
    })}\n`,
  );
}

function main(): void {
  const argv = process.argv.slice(2);
  const childAt = argv.indexOf('--child');
  if (childAt >= 0) {
    child(argv[childAt + 1]!);
    return;
  }
  const modules = argv.flatMap((a, i) => (argv[i - 1] === '--module' ? [a] : []));
  if (modules.length === 0) modules.push(require.resolve('parquet-wasm'));
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a whole number ≥ 1');
  const self = fileURLToPath(import.meta.url);
  const loadBefore = os.loadavg();
  for (let run = 0; run < runs; run++) {
    for (const module of modules) {
      const out = spawnSync(process.execPath, [...process.execArgv, self, '--child', module], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (out.status !== 0) throw new Error(`The run of ${module} failed (exit ${out.status})`);
      process.stdout.write(out.stdout);
    }
  }
  const round = (l: number): number => Number(l.toFixed(2));
  process.stdout.write(
    `${JSON.stringify({ date: new Date().toISOString(), nodeFlags: process.execArgv.filter((f) => !f.includes('tsx')).join(' '), node: process.version, cores: os.cpus().length, loadavg: { before: loadBefore.map(round), after: os.loadavg().map(round) } })}\n`,
  );
}

main();
