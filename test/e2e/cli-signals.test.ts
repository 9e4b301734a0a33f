/**
 * `sluice` is one process: a signal sent to it reaches the sync, which stops,
 * records the run and releases the source's lease, and nothing keeps running.
 * A real child process of the built CLI and the local state store. On a Node
 * with process.execve the sync has replaced itself once by then (ADR 0018),
 * and the signal still reaches it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalBackend } from '../../adapters/local/index.js';
import { runCli, SLUICE_BIN } from '../support/cli.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-signals-'));
  // Big enough that the sync is still running when the signal arrives.
  const added = await runCli(['sources', 'add', '--file', '-'], {
    home,
    input: JSON.stringify({ name: 'big', type: 'sample', config: { rows: 3_000_000 } }),
  });
  expect(added.code, added.stderr).toBe(0);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** The pids whose parent is `pid`, from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after its ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exited(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`still running ${timeoutMs} ms after the signal`)),
      timeoutMs,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

describe('sluice sync and signals', () => {
  it('stops on SIGTERM as one process: no process left, the run left to continue, the lease free', async () => {
    // Prepare: a sync under way (its first progress line printed).
    const child = spawn(process.execPath, [SLUICE_BIN, '--home', home, 'sync', 'big'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MALLOC_MMAP_THRESHOLD_: undefined, SLUICE_ALLOCATOR_RESTART: undefined },
    });
    let stderr = '';
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const progressed = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('rows/s')) resolve();
      });
      child.once('exit', () => reject(new Error(`sync ended before any progress: ${stderr}`)));
    });
    await progressed;
    const pid = child.pid!;
    const descendants = await childrenOf(pid);
    const environment = (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0');

    // Act
    const done = exited(child, 30_000);
    child.kill('SIGTERM');
    const { code, signal } = await done;

    // Assess: it handled the signal itself and exited; it had no child process to leave behind.
    expect(descendants).toEqual([]);
    // Where Node can, the process that got the signal was the restarted one (the same PID).
    const restarted = typeof (process as { execve?: unknown }).execve === 'function';
    expect(environment.includes('MALLOC_MMAP_THRESHOLD_=1048576')).toBe(restarted);
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(alive(pid)).toBe(false);
    expect(stdout).toBe('');
    const failures = stderr.split('\n').filter((line) => line.startsWith('sluice: '));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^sluice: interrupted: run \S+ had published no slice yet; `sluice sync big` continues it$/,
    );
    const runs = JSON.parse((await runCli(['runs', 'big', '--json'], { home })).stdout) as {
      status: string;
      error?: string;
    }[];
    // Unfinished, not failed: the next `sluice sync big` continues this run (test/e2e/sync-slices.test.ts).
    expect(runs.map((r) => [r.status, r.error])).toEqual([['RUNNING', undefined]]);
    const { state } = await openLocalBackend(home);
    await expect(state.acquireLease('big', 'probe', 1_000)).resolves.toMatchObject({ owner: 'probe' });
    await state.releaseLease('big', 'probe');
  });
});
