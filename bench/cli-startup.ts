/**
 * How fast `sluice` starts: runs the built CLI N times per command (after a
 * few warm-up runs), hyperfine style, and reports median and p90 wall time
 * and peak RSS. The goal is `sluice --help` ≤ 300 ms.
 *
 *   npm run bench:cli-startup -- [--runs 30] [--no-save]
 *
 * Wall time is measured on plain runs; peak RSS on separate runs with a tiny
 * preload that reports the process's own peak at exit (VmHWM, see
 * bench/peak-rss.ts: maxRSS would include this script's memory at the spawn), so the
 * preload never counts in the time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nodeMajorSuffix } from './node-major.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'no-save': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);

/** A preload printing the process's own peak RSS at exit (VmHWM, see bench/peak-rss.ts). */
const REPORT_RSS_JS = `import { readFileSync } from 'node:fs';
process.on('exit', () => {
  let kb = process.resourceUsage().maxRSS;
  try { kb = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]); } catch {}
  process.stderr.write('maxrss ' + kb + '\\n');
});`;
const REPORT_RSS = `data:text/javascript,${encodeURIComponent(REPORT_RSS_JS)}`;

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  /** Runs of this case; the slow reference gets fewer. */
  readonly runs: number;
}

interface Result {
  readonly command: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly medianRssMb: number;
}

function once(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms, stderr });
    });
  });
}

function quantile(sorted: readonly number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

async function measure(c: Case, env: NodeJS.ProcessEnv): Promise<Result> {
  for (let i = 0; i < warmup; i++) await once(c.args, env);
  const times: number[] = [];
  for (let i = 0; i < c.runs; i++) times.push((await once(c.args, env)).ms);
  const rss: number[] = [];
  for (let i = 0; i < Math.min(c.runs, 5); i++) {
    const { stderr } = await once(['--import', REPORT_RSS, ...c.args], env);
    rss.push(Number(/maxrss (\d+)/.exec(stderr)?.[1]) / 1024);
  }
  times.sort((a, b) => a - b);
  rss.sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    command: c.name,
    runs: c.runs,
    medianMs: round(quantile(times, 0.5)),
    p90Ms: round(quantile(times, 0.9)),
    minMs: round(times[0]!),
    medianRssMb: round(quantile(rss, 0.5)),
  };
}

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const home = await mkdtemp(join(tmpdir(), 'sluice-bench-cli-'));
const env = { ...process.env, SLUICE_HOME: home, NO_COLOR: '1' };
const cases: Case[] = [
  { name: 'sluice --help', args: ['bin/sluice.mjs', '--help'], runs },
  { name: 'sluice --version', args: ['bin/sluice.mjs', '--version'], runs },
  { name: 'sluice sync --help', args: ['bin/sluice.mjs', 'sync', '--help'], runs },
  { name: 'sluice connectors', args: ['bin/sluice.mjs', 'connectors'], runs },
  { name: 'sluice sources list (local home)', args: ['bin/sluice.mjs', 'sources', 'list'], runs },
  // The way `sluice` ran before the build step, for comparison.
  {
    name: 'tsx cli/main.ts --help (source, no build)',
    args: ['--import', 'tsx', 'cli/main.ts', '--help'],
    runs: Math.min(runs, 10),
  },
];
const results: Result[] = [];
// The machine may be shared: say how busy it was, since it moves every figure.
const loadBefore = loadavg().map((n) => Math.round(n * 100) / 100);
try {
  for (const c of cases) {
    const result = await measure(c, env);
    results.push(result);
    process.stderr.write(
      `${c.name.padEnd(44)} median ${String(result.medianMs).padStart(7)} ms  p90 ${String(result.p90Ms).padStart(7)} ms  min ${String(result.minMs).padStart(7)} ms  RSS ${result.medianRssMb} MB\n`,
    );
  }
} finally {
  await rm(home, { recursive: true, force: true });
}

const cpuList = cpus();
const machine = {
  platform: `${platform()}-${process.arch}`,
  cpu: cpuList[0]?.model ?? 'unknown',
  cores: cpuList.length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverage: { before: loadBefore, after: loadavg().map((n) => Math.round(n * 100) / 100) },
};
const date = new Date().toISOString().slice(0, 10);
const report = { benchmark: 'cli-startup', date, machine, warmup, results };
process.stdout.write(`${JSON.stringify(report)}\n`);
if (!values['no-save']) {
  const file = `bench/results/${date}-cli-startup-${machine.platform}-${machine.cores}cpu-${machine.memoryGb}gb${nodeMajorSuffix()}.json`;
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`saved ${file}\n`);
}
