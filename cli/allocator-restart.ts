/**
 * A CLI command that lands data restarts its own process once with glibc's
 * mmap threshold set, the setting a deployed Parquet function gets from its
 * environment (ADRs 0013 and 0018). glibc reads the variable only when a
 * process starts and Node has no binding for mallopt(3), so the process
 * replaces itself: `process.execve` keeps the PID, stdin, stdout and stderr,
 * so a shell, a supervisor or Ctrl-C still see one process. It costs one more
 * Node start before the command runs.
 */
import { isMainThread } from 'node:worker_threads';
import { MMAP_THRESHOLD_BYTES, MMAP_THRESHOLD_VARIABLE } from '../engine/parquet/mmap-threshold.js';

/** `off` keeps the process as started; `on` (the default, also when unset or empty) restarts it. */
export const ALLOCATOR_RESTART_VARIABLE = 'SLUICE_ALLOCATOR_RESTART';

type Env = Readonly<Record<string, string | undefined>>;

/** Node 22.15 and later (not in the Node 20 types this project builds against). */
type Execve = (file: string, args: readonly string[], env: Record<string, string>) => never;
const node = process as NodeJS.Process & { execve?: Execve };

/** Whether to restart, and if not, why not (shown by `--verbose`, asserted by tests). */
export type AllocatorRestart =
  | { readonly restart: true; readonly env: Record<string, string> }
  | { readonly restart: false; readonly reason: string };

/** The decision alone, for a given environment, platform and Node. */
export function allocatorRestart(
  env: Env = process.env,
  platform: NodeJS.Platform = process.platform,
  canExec: boolean = node.execve !== undefined && isMainThread,
): AllocatorRestart {
  const setting = env[ALLOCATOR_RESTART_VARIABLE];
  if (setting !== undefined && setting !== '' && setting !== 'on' && setting !== 'off') {
    throw new Error(`${ALLOCATOR_RESTART_VARIABLE} must be on or off, not ${JSON.stringify(setting)}`);
  }
  if (setting === 'off') return { restart: false, reason: `${ALLOCATOR_RESTART_VARIABLE}=off` };
  if (env[MMAP_THRESHOLD_VARIABLE] !== undefined) {
    return { restart: false, reason: `${MMAP_THRESHOLD_VARIABLE}=${env[MMAP_THRESHOLD_VARIABLE]} is set` };
  }
  // macOS and Windows have no glibc; musl ignores the variable but is not worth detecting.
  if (platform !== 'linux') return { restart: false, reason: `no glibc on ${platform}` };
  if (!canExec)
    return {
      restart: false,
      reason: `process.execve needs Node 22.15 or later (this is ${process.version})`,
    };
  const next: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value;
  next[MMAP_THRESHOLD_VARIABLE] = String(MMAP_THRESHOLD_BYTES);
  return { restart: true, env: next };
}

/**
 * Replaces this process with the same command line (Node's flags, the script,
 * its arguments) and the variable added, when `allocatorRestart` says so.
 * Returns only when it does not restart, with the reason; if the exec itself
 * fails, the command runs on in this process with glibc's defaults.
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
    return `the restart failed (${error instanceof Error ? error.message : String(error)})`;
  }
  return 'the restart returned';
}
