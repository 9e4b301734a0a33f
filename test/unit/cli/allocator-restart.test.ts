import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOCATOR_RESTART_VARIABLE,
  allocatorRestart,
  type RestartHost,
  startsDebugger,
} from '../../../cli/allocator-restart.js';
import { ValidationError } from '../../../engine/errors.js';
import { SLUICE_BIN } from '../../support/cli.js';

const VARIABLE = 'MALLOC_MMAP_THRESHOLD_';

/** A Linux main thread on a Node with process.execve, no IPC, no debugger: one that restarts. */
const HOST: RestartHost = {
  platform: 'linux',
  version: 'v22.23.3',
  hasExecve: true,
  mainThread: true,
  ipc: false,
  debugging: false,
  startedWith: () => true,
  executable: () => true,
};

const reasonOf = (env: Record<string, string | undefined>, host: Partial<RestartHost> = {}) => {
  const decision = allocatorRestart(env, { ...HOST, ...host });
  return decision.restart ? 'restart' : decision.reason;
};

describe('allocatorRestart', () => {
  it('restarts with the threshold added when nothing else decides', () => {
    expect(allocatorRestart({ HOME: '/h', EMPTY: undefined }, HOST)).toEqual({
      restart: true,
      env: { HOME: '/h', [VARIABLE]: '1048576' },
    });
  });

  it('restarts when the switch is on or empty', () => {
    expect(reasonOf({ [ALLOCATOR_RESTART_VARIABLE]: 'on' })).toBe('restart');
    expect(reasonOf({ [ALLOCATOR_RESTART_VARIABLE]: '' })).toBe('restart');
  });

  it('keeps the process when the user set the threshold: the variable (any value) or its tunable', () => {
    expect(reasonOf({ [VARIABLE]: '131072' })).toBe(`${VARIABLE}=131072 is set`);
    expect(reasonOf({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=4096' })).toBe(
      'GLIBC_TUNABLES sets glibc.malloc.mmap_threshold',
    );
    expect(reasonOf({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe('restart');
  });

  it("restarts with the user's value when it was set after the start, which glibc never read (--env-file)", () => {
    const decision = allocatorRestart({ [VARIABLE]: '131072' }, { ...HOST, startedWith: () => false });
    expect(decision).toEqual({ restart: true, env: { [VARIABLE]: '131072' } });
  });

  it('keeps the process when switched off', () => {
    expect(reasonOf({ [ALLOCATOR_RESTART_VARIABLE]: 'off' })).toBe(`${ALLOCATOR_RESTART_VARIABLE}=off`);
  });

  it('keeps the process off Linux, without process.execve, or off the main thread', () => {
    expect(reasonOf({}, { platform: 'darwin' })).toBe('no glibc on darwin');
    expect(reasonOf({}, { hasExecve: false, version: 'v20.20.2' })).toBe(
      'Node v20.20.2 has no process.execve (added in 22.15 and 23.11)',
    );
    expect(reasonOf({}, { mainThread: false })).toBe('not the main thread');
  });

  it('keeps a process forked with an IPC channel or started under a debugger', () => {
    expect(reasonOf({}, { ipc: true })).toContain('IPC channel');
    expect(reasonOf({}, { debugging: true })).toBe('a debugger is attached or requested (--inspect…)');
  });

  it('tells the flags that start a debugger from those that only configure one', () => {
    for (const flag of [
      '--inspect',
      '--inspect=0',
      '--inspect-brk=127.0.0.1:9230',
      '--inspect-wait',
      '"--inspect=0"',
    ]) {
      expect(startsDebugger(['--enable-source-maps', flag]), flag).toBe(true);
    }
    for (const flag of ['--inspect-port=0', '--inspect-publish-uid=http', '--enable-source-maps']) {
      expect(startsDebugger([flag]), flag).toBe(false);
    }
  });

  it('keeps the process when Node cannot be executed again, since a failed exec would abort it', () => {
    expect(reasonOf({}, { executable: () => false })).toContain('cannot be executed');
  });

  it('rejects a switch value other than on or off, naming the variable', () => {
    const bad = () => allocatorRestart({ [ALLOCATOR_RESTART_VARIABLE]: 'yes' }, HOST);
    expect(bad).toThrow(ValidationError);
    expect(bad).toThrow(`${ALLOCATOR_RESTART_VARIABLE} must be on or off, not "yes"`);
  });
});

/** process.execve arrived in Node 22.15 (test:node22 runs this file on Node 22 in CI). */
const nodeCanRestart = typeof (process as { execve?: unknown }).execve === 'function';

/**
 * The real CLI in a child process. A preload, given on Node's command line
 * (so the restart must carry Node's flags over to load it again), appends one
 * line per program image to a log: its PID and the threshold variable. A
 * restart is two lines of one PID, the second with the variable.
 */
describe.runIf(process.platform === 'linux')('sluice restarting itself', () => {
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

  /** Runs `node --import <preload> <entry…> --home <dir> --verbose <args>`; returns its exit, stderr and images. */
  async function images(
    name: string,
    entry: readonly string[],
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ) {
    const log = join(dir, `${name}.log`);
    const child = spawn(
      process.execPath,
      ['--import', preload, ...entry, '--home', join(dir, name), '--verbose', ...args],
      {
        env: {
          ...process.env,
          IMAGES_LOG: log,
          // Nothing from the shell that runs the tests may decide for the process.
          [VARIABLE]: undefined,
          [ALLOCATOR_RESTART_VARIABLE]: undefined,
          GLIBC_TUNABLES: undefined,
          NODE_OPTIONS: undefined,
          SLUICE_API_URL: undefined,
          SLUICE_BACKEND: undefined,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    return { code, stderr, lines: lines.map((line) => line.split(' ')) };
  }

  const expectOneRestart = (lines: string[][]) => {
    expect(lines).toHaveLength(2);
    const [[firstPid, before], [secondPid, after]] = lines as [[string, string], [string, string]];
    expect(secondPid).toBe(firstPid);
    expect([before, after]).toEqual(['-', '1048576']);
  };

  it.runIf(nodeCanRestart)(
    'replaces itself once, keeping its PID and Node flags, before a sync runs',
    async () => {
      const { code, stderr, lines } = await images('sync', [SLUICE_BIN], ['sync', 'nosuch']);
      expectOneRestart(lines);
      // The restarted image ran the command: it failed on the unknown source, as it would have.
      expect(code).toBe(1);
      expect(stderr).toContain('nosuch');
      expect(stderr).toContain(`${VARIABLE}=1048576 is set`);
    },
  );

  it.runIf(nodeCanRestart)(
    "restarts under tsx's loader too (`npm start`, `npm run sluice`), keeping it",
    async () => {
      const { code, stderr, lines } = await images(
        'tsx',
        ['--import', 'tsx', 'cli/main.ts'],
        ['sync', 'nosuch'],
      );
      expectOneRestart(lines);
      expect(code).toBe(1);
      expect(stderr).toContain('source "nosuch" does not exist');
    },
  );

  it.runIf(!nodeCanRestart)('runs on as started on a Node without process.execve, and says why', async () => {
    const { code, stderr, lines } = await images('old-node', [SLUICE_BIN], ['sync', 'nosuch']);
    expect(lines).toEqual([[expect.any(String), '-']]);
    expect(stderr).toContain('has no process.execve (added in 22.15 and 23.11)');
    expect(code).toBe(1);
  });

  it('does not restart for a command that lands nothing here', async () => {
    const { code, lines } = await images('list', [SLUICE_BIN], ['sources', 'list']);
    expect(lines).toHaveLength(1);
    expect(code).toBe(0);
  });

  it('does not restart a sync sent to a deployed API', async () => {
    const { code, stderr, lines } = await images(
      'remote',
      [SLUICE_BIN],
      ['--api', 'http://127.0.0.1:9', 'sync', 'nosuch'],
      // Any credentials: the request is signed, then finds nothing listening.
      {
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        AWS_PROFILE: undefined,
      },
    );
    expect(lines).toHaveLength(1);
    // It failed calling the API (nothing listens there), not before: the hook ran and stayed silent.
    expect(code).toBe(1);
    expect(stderr).toContain('the API at http://127.0.0.1:9 does not answer');
    expect(stderr).not.toContain("glibc's allocator settings");
  });

  it('does not restart when switched off', async () => {
    const { stderr, lines } = await images('off', [SLUICE_BIN], ['sync', 'nosuch'], {
      [ALLOCATOR_RESTART_VARIABLE]: 'off',
    });
    expect(lines).toEqual([[expect.any(String), '-']]);
    expect(stderr).toContain(`${ALLOCATOR_RESTART_VARIABLE}=off`);
  });

  it.runIf(nodeCanRestart)('does not restart under a debugger, however it was requested', async () => {
    const { stderr, lines } = await images('debugger', [SLUICE_BIN], ['sync', 'nosuch'], {
      NODE_OPTIONS: '"--inspect=127.0.0.1:0"',
    });
    expect(lines).toHaveLength(1);
    expect(stderr).toContain('a debugger is attached or requested');
  });

  it('never replaces a process that calls main() without being its entry point', async () => {
    // A program embedding the CLI (a test runner, say) calls main() itself.
    const embedder = join(dir, 'embedder.mjs');
    const mainUrl = pathToFileURL(join(process.cwd(), 'dist', 'cli', 'main.js')).href;
    await writeFile(
      embedder,
      `const { main } = await import(${JSON.stringify(mainUrl)});\nprocess.exitCode = await main(process.argv);\n`,
    );
    const { code, lines } = await images('embedded', [embedder], ['sync', 'nosuch']);
    expect(lines).toEqual([[expect.any(String), '-']]);
    expect(code).toBe(1);
  });
});
