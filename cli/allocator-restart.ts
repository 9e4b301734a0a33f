/**
 * A CLI command that lands data restarts its own process once with glibc's
 * mmap threshold set, the setting a deployed Parquet function gets from its
 * environment (ADRs 0013 and 0018). glibc reads the variable only when a
 * process starts and Node has no binding for mallopt(3), so the process
 * replaces itself: `process.execve` (Node 22.15 and later, experimental)
 * keeps the PID, stdin, stdout and stderr, so a shell, a supervisor or
 * Ctrl-C still see one process. It costs one more Node start before the
 * command runs.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { ValidationError } from '../engine/errors.js';
import { MMAP_THRESHOLD_BYTES, MMAP_THRESHOLD_VARIABLE } from '../engine/parquet/mmap-threshold.js';

/** `off` keeps the process as started; `on` (the default, also when unset or empty) restarts it. */
export const ALLOCATOR_RESTART_VARIABLE = 'SLUICE_ALLOCATOR_RESTART';

type Env = Readonly<Record<string, string | undefined>>;

/** Node 22.15 and later (not in the Node 20 types this project builds against). */
type Execve = (file: string, args: readonly string[], env: Record<string, string>) => never;
const node = process as NodeJS.Process & { execve?: Execve };

/** The Node binary running now, even if its file was replaced since (an upgrade); Node's path without /proc. */
const SELF = existsSync('/proc/self/exe') ? '/proc/self/exe' : process.execPath;

/** What about this process decides whether it may replace itself. */
export interface RestartHost {
  readonly platform: NodeJS.Platform;
  readonly version: string;
  readonly hasExecve: boolean;
  readonly mainThread: boolean;
  /** Forked with an IPC channel: the new program would lose it, and the parent its child. */
  readonly ipc: boolean;
  /** A debugger is listening, however it was started, or Node's flags start one. */
  readonly debugging: boolean;
  /** Whether the process started with this variable: glibc saw only those (not `node --env-file`'s). */
  readonly startedWith: (name: string) => boolean;
  /** Whether the program to exec can be executed (a failed exec aborts the process, see below). */
  readonly executable: () => boolean;
}

/** Node's flags that start a debugger (`--inspect-port` and `--inspect-publish-uid` only configure one). */
export function startsDebugger(flags: readonly string[]): boolean {
  return flags.some((flag) => /^"?--inspect(-brk|-wait)?(=|"?$)/.test(flag));
}

function inspectorOpen(): boolean {
  try {
    // Not a static import: loading it throws on a Node built without the inspector.
    const inspector = createRequire(import.meta.url)('node:inspector') as { url(): string | undefined };
    return inspector.url() !== undefined;
  } catch {
    return false;
  }
}

/** The names of the variables the process started with; undefined without /proc. */
function startNames(): Set<string> | undefined {
  try {
    const entries = readFileSync('/proc/self/environ', 'latin1').split('\0');
    return new Set(entries.map((entry) => entry.slice(0, entry.indexOf('='))));
  } catch {
    return undefined;
  }
}

export function currentHost(): RestartHost {
  return {
    platform: process.platform,
    version: process.version,
    hasExecve: typeof node.execve === 'function',
    mainThread: isMainThread,
    ipc: process.channel !== undefined,
    debugging: inspectorOpen() || startsDebugger(process.execArgv),
    startedWith: (name) => startNames()?.has(name) ?? process.env[name] !== undefined,
    executable: () => {
      try {
        accessSync(SELF, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Whether to restart, and if not, why not (shown by `--verbose`, asserted by tests). */
export type AllocatorRestart =
  | { readonly restart: true; readonly env: Record<string, string> }
  | { readonly restart: false; readonly reason: string };

const keep = (reason: string): AllocatorRestart => ({ restart: false, reason });

/** The decision alone, for a given environment and process. */
export function allocatorRestart(
  env: Env = process.env,
  host: RestartHost = currentHost(),
): AllocatorRestart {
  const setting = env[ALLOCATOR_RESTART_VARIABLE];
  if (setting !== undefined && setting !== '' && setting !== 'on' && setting !== 'off') {
    throw new ValidationError(
      `${ALLOCATOR_RESTART_VARIABLE} must be on or off, not ${JSON.stringify(setting)}`,
      { field: ALLOCATOR_RESTART_VARIABLE },
    );
  }
  if (setting === 'off') return keep(`${ALLOCATOR_RESTART_VARIABLE}=off`);
  const set = env[MMAP_THRESHOLD_VARIABLE];
  // A value set only after the start (`node --env-file`) is the user's, but glibc has not read it: restart with it.
  if (set !== undefined && host.startedWith(MMAP_THRESHOLD_VARIABLE)) {
    return keep(`${MMAP_THRESHOLD_VARIABLE}=${set} is set`);
  }
  // The user chose the threshold as a tunable, which wins over the variable anyway.
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc.mmap_threshold')) {
    return keep('GLIBC_TUNABLES sets glibc.malloc.mmap_threshold');
  }
  // macOS and Windows have no glibc; musl ignores the variable but is not worth detecting.
  if (host.platform !== 'linux') return keep(`no glibc on ${host.platform}`);
  if (!host.hasExecve) {
    return keep(`Node ${host.version} has no process.execve (added in 22.15 and 23.11)`);
  }
  if (!host.mainThread) return keep('not the main thread');
  if (host.ipc) return keep('started with an IPC channel to its parent, which a restart would close');
  // A debugger would have to attach twice, and --inspect-brk would stop twice.
  if (host.debugging) return keep('a debugger is attached or requested (--inspect…)');
  if (!host.executable()) return keep(`${SELF} cannot be executed`);
  const next: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value;
  next[MMAP_THRESHOLD_VARIABLE] = set ?? String(MMAP_THRESHOLD_BYTES);
  return { restart: true, env: next };
}

/**
 * Replaces this process with the same command line (Node's flags, the script,
 * its arguments) and the variable added, when `allocatorRestart` says so.
 * Returns only when it does not restart, with the reason. Node refuses some
 * restarts by throwing (its permission model, say): the command then runs on
 * here. But Node runs its native at-exit hooks before the execve(2) call, and
 * a failure after that aborts the process. Hence the program executed is
 * /proc/self/exe, the binary running now even if replaced on disk, and
 * `allocatorRestart` first checks that it can be executed.
 */
export function restartWithAllocatorSetting(): string {
  const decision = allocatorRestart();
  if (!decision.restart) return decision.reason;
  try {
    // argv[0] stays Node's path, so process.execPath and `ps` read as before.
    node.execve?.(SELF, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], decision.env);
  } catch (error) {
    return `Node refused the restart (${error instanceof Error ? error.message : String(error)})`;
  }
  return 'the restart returned';
}
