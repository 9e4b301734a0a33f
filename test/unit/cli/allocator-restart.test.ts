import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOCATOR_RESTART_VARIABLE, allocatorRestart } from '../../../cli/allocator-restart.js';
import { runCli } from '../../support/cli.js';

const VARIABLE = 'MALLOC_MMAP_THRESHOLD_';
/** process.execve arrived in Node 22.15 (test:node22 runs this file on Node 22 in CI). */
const nodeCanRestart = typeof (process as { execve?: unknown }).execve === 'function';

describe('allocatorRestart', () => {
  it('restarts with the threshold added when nothing sets it on Linux with process.execve', () => {
    const decision = allocatorRestart({ HOME: '/h', EMPTY: undefined }, 'linux', true);
    expect(decision).toEqual({ restart: true, env: { HOME: '/h', [VARIABLE]: '1048576' } });
  });

  it('restarts when the switch is on or empty', () => {
    expect(allocatorRestart({ [ALLOCATOR_RESTART_VARIABLE]: 'on' }, 'linux', true).restart).toBe(true);
    expect(allocatorRestart({ [ALLOCATOR_RESTART_VARIABLE]: '' }, 'linux', true).restart).toBe(true);
  });

  it('keeps the process when the variable is already set, whatever its value', () => {
    expect(allocatorRestart({ [VARIABLE]: '131072' }, 'linux', true)).toEqual({
      restart: false,
      reason: `${VARIABLE}=131072 is set`,
    });
  });

  it('keeps the process when switched off, off Linux, or without process.execve', () => {
    expect(allocatorRestart({ [ALLOCATOR_RESTART_VARIABLE]: 'off' }, 'linux', true)).toEqual({
      restart: false,
      reason: `${ALLOCATOR_RESTART_VARIABLE}=off`,
    });
    expect(allocatorRestart({}, 'darwin', true)).toEqual({ restart: false, reason: 'no glibc on darwin' });
    const old = allocatorRestart({}, 'linux', false);
    expect(old.restart).toBe(false);
    expect(old.restart ? '' : old.reason).toContain('Node 22.15');
  });

  it('rejects a switch value other than on or off, naming the variable', () => {
    expect(() => allocatorRestart({ [ALLOCATOR_RESTART_VARIABLE]: 'yes' }, 'linux', true)).toThrow(
      `${ALLOCATOR_RESTART_VARIABLE} must be on or off, not "yes"`,
    );
  });
});

/**
 * The real CLI in a child process. A preload appends one line per program
 * image to a log: its PID and the threshold variable. A restart is two lines
 * of one PID, the second with the variable.
 */
describe('sluice restarting itself', () => {
  let dir: string;
  let preload: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-restart-'));
    preload = join(dir, 'images.mjs');
    await writeFile(
      preload,
      [
        "import { appendFileSync } from 'node:fs';",
        "import { isMainThread } from 'node:worker_threads';",
        `if (isMainThread) appendFileSync(process.env.IMAGES_LOG, process.pid + ' ' + (process.env.${VARIABLE} ?? '-') + '\\n');`,
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function images(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    const log = join(dir, `${name}.log`);
    const home = join(dir, name);
    const result = await runCli(['--verbose', ...args], {
      home,
      env: { NODE_OPTIONS: `--import ${preload}`, IMAGES_LOG: log, [VARIABLE]: undefined, ...env },
    });
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    return { result, lines: lines.map((line) => line.split(' ')) };
  }

  it.runIf(nodeCanRestart)('replaces itself once, keeping its PID, before a sync runs', async () => {
    const { result, lines } = await images('sync', ['sync', 'nosuch']);
    expect(lines).toHaveLength(2);
    const [[firstPid, before], [secondPid, after]] = lines as [[string, string], [string, string]];
    expect(secondPid).toBe(firstPid);
    expect([before, after]).toEqual(['-', '1048576']);
    // The restarted image ran the command: it failed on the unknown source, as it would have.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nosuch');
    expect(result.stderr).toContain(`${VARIABLE}=1048576 is set`);
  });

  it.runIf(!nodeCanRestart)('runs on as started on a Node without process.execve, and says why', async () => {
    const { result, lines } = await images('old-node', ['sync', 'nosuch']);
    expect(lines).toEqual([[expect.any(String), '-']]);
    expect(result.stderr).toContain('process.execve needs Node 22.15 or later');
    expect(result.code).toBe(1);
  });

  it('does not restart for a command that lands nothing here', async () => {
    const { result, lines } = await images('list', ['sources', 'list']);
    expect(lines).toHaveLength(1);
    expect(result.code).toBe(0);
  });

  it('does not restart a sync sent to a deployed API', async () => {
    const { lines } = await images('remote', ['--api', 'http://127.0.0.1:9', 'sync', 'nosuch']);
    expect(lines).toHaveLength(1);
  });

  it('does not restart when switched off', async () => {
    const { result, lines } = await images('off', ['sync', 'nosuch'], {
      [ALLOCATOR_RESTART_VARIABLE]: 'off',
    });
    expect(lines).toEqual([[expect.any(String), '-']]);
    expect(result.stderr).toContain(`${ALLOCATOR_RESTART_VARIABLE}=off`);
  });
});
