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
import { accessSync, constants } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { ValidationError } from '../engine/errors.js';
import { MMAP_THRESHOLD_BYTES, MMAP_THRESHOLD_VARIABLE } from '../engine/parquet/mmap-threshold.js';

/** `off` keeps the process as started; `on` (the default, also when unset or empty) restarts it. */
export const ALLOCATOR_RESTART_VARIABLE = 'SLUICE_ALLOCATOR_RESTART';

type Env = Readonly<Record<string, string | undefined>>;

/** Node 22.15 and later (not in the Node 20 types this project builds against). */
type Execve = (file: string, args: readonly string[], env: Record<string, string>) => never;
const node = process as NodeJS.Process & { execve?: Execve };

/** What about this process decides whether it may replace itself. */
export interface RestartHost {
  readonly platform: NodeJS.Platform;
  readonly version: string;
  readonly hasExecve: boolean;
  readonly mainThread: boolean;
  /** Forked with an IPC channel: the new program would lose it, and the parent its child. */
  readonly ipc: boolean;
  /** Node's own flags, and NODE_OPTIONS. */
  readonly nodeFlags: readonly string[];
  /** Whether the Node binary can still be executed (a failed exec aborts the process, see below). */
  readonly executable: () => boolean;
}

export function currentHost(): RestartHost {
  return {
    platform: process.platform,
    version: process.version,
    hasExecve: typeof node.execve === 'function',
    mainThread: isMainThread,
    ipc: process.channel !== undefined,
    nodeFlags: [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)],
    executable: () => {
      try {
        accessSync(process.execPath, constants.X_OK);
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
  if (set !== undefined) return keep(`${MMAP_THRESHOLD_VARIABLE}=${set} is set`);
  // The user tuned glibc's allocator another way; a tunable also wins over the variable.
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc.')) return keep('GLIBC_TUNABLES sets glibc.malloc tunables');
  // macOS and Windows have no glibc; musl ignores the variable but is not worth detecting.
  if (host.platform !== 'linux') return keep(`no glibc on ${host.platform}`);
  if (!host.hasExecve)
    return keep(`Node ${host.version} has no process.execve (Node 22.15 and later have it)`);
  if (!host.mainThread) return keep('not the main thread');
  if (host.ipc) return keep('started with an IPC channel to its parent, which a restart would close');
  // A debugger would have to attach twice, and --inspect-brk would stop twice.
  const debug = host.nodeFlags.find((flag) => /^--(inspect|debug)/.test(flag));
  if (debug !== undefined) return keep(`a debugger flag is set (${debug})`);
  if (!host.executable()) return keep(`${process.execPath} cannot be executed`);
  const next: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value;
  next[MMAP_THRESHOLD_VARIABLE] = String(MMAP_THRESHOLD_BYTES);
  return { restart: true, env: next };
}

/**
 * Replaces this process with the same command line (Node's flags, the script,
 * its arguments) and the variable added, when `allocatorRestart` says so.
 * Returns only when it does not restart, with the reason. Node refuses some
 * restarts by throwing (its permission model, say): the command then runs on
 * here. But once Node has made the execve(2) call, a failure aborts the
 * process, which is why `allocatorRestart` first checks that Node's binary
 * can be executed.
 */
export function restartWithAllocatorSetting(): string {
  const decision = allocatorRestart();
  if (!decision.restart) return decision.reason;
  try {
    node.execve?.(
      process.execPath,
      [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      decision.env,
    );
  } catch (error) {
    return `Node refused the restart (${error instanceof Error ? error.message : String(error)})`;
  }
  return 'the restart returned';
}
