/**
 * Runs a bundled handler in a fresh Node process from its own directory (no
 * node_modules), the way Lambda loads it: import `index.mjs`, then invoke it
 * once per event. Reports the cold import time, each result and the peak
 * memory of the process.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RUNNER = `
import { readFileSync } from 'node:fs';
const started = performance.now();
const cpuBefore = process.cpuUsage();
const { handler } = await import('./index.mjs');
const importMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const importCpuMs = (cpu.user + cpu.system) / 1000;
const events = JSON.parse(process.argv[2]);
const invocations = [];
for (const [i, event] of events.entries()) {
  const context = {
    functionName: 'sluice-handler', functionVersion: '$LATEST', memoryLimitInMB: '1769',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:sluice-handler',
    awsRequestId: 'request-' + i, logGroupName: '/aws/lambda/sluice-handler', logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 900000,
    done() {}, fail() {}, succeed() {},
  };
  const t = performance.now();
  try {
    invocations.push({ ok: true, result: await handler(event, context), ms: performance.now() - t });
  } catch (error) {
    invocations.push({ ok: false, error: { name: error.name, message: error.message }, ms: performance.now() - t });
  }
}
// The process's own peak (VmHWM): maxRSS would include the parent it was forked from (bench/peak-rss.ts).
let maxRssKb = process.resourceUsage().maxRSS;
try { maxRssKb = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]); } catch {}
process.stdout.write('\\n@@SLUICE ' + JSON.stringify({ importMs, importCpuMs, invocations, maxRssKb }) + '\\n');
`;

export interface Invocation {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  readonly ms: number;
}

export interface HandlerRun {
  readonly importMs: number;
  /** CPU time (user + system, all threads) of the import: on a shared machine, steadier than wall time. */
  readonly importCpuMs: number;
  readonly invocations: readonly Invocation[];
  readonly maxRssKb: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Invokes the handler in `dir` with each event in turn, in one process (one warm container). */
export async function runBundledHandler(
  dir: string,
  events: readonly unknown[],
  env: Readonly<Record<string, string>>,
): Promise<HandlerRun> {
  writeFileSync(join(dir, 'runner.mjs'), RUNNER);
  const child = spawn(process.execPath, ['runner.mjs', JSON.stringify(events)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = stdout.split('\n').find((l) => l.startsWith('@@SLUICE '));
  if (code !== 0 || line === undefined) {
    throw new Error(`bundled handler exited with ${code}:\n${stderr}\n${stdout.slice(-4000)}`);
  }
  return {
    ...(JSON.parse(line.slice('@@SLUICE '.length)) as Omit<HandlerRun, 'stdout' | 'stderr'>),
    stdout,
    stderr,
  };
}

/** The AWS variables of the emulator the integration setup started, for a child process. */
export function emulatorEnv(): Record<string, string> {
  const keys = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
  return Object.fromEntries(
    keys.flatMap((key) => (process.env[key] === undefined ? [] : [[key, process.env[key] as string]])),
  );
}
