/**
 * A cross-process mutex on the local filesystem, for the read-compare-write
 * sections of the local state store (cursor compare-and-set, leases, source
 * creation).
 *
 * Why not a plain O_EXCL lock file: breaking a stale lock (its holder was
 * killed) means deleting a file someone else may have just re-created, and
 * two breakers can then both believe they hold the lock. Instead a lock is a
 * directory of numbered claims. The current holder is the highest claim that
 * has no `.released` marker. To take the lock a process hard-links a complete
 * claim file as `top + 1` (link fails if the name exists, so exactly one
 * contender wins each number), then checks it is still the highest claim.
 * Breaking a dead holder's lock is just claiming the next number, so nothing
 * live is ever deleted. Old claims are collected by the next holder.
 *
 * A holder is stale when its process is gone (same machine, `kill(pid, 0)`)
 * or it has held the lock longer than `staleMs` (pid reuse, other hosts).
 */
// @ts-nocheck

import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../../connectors/sdk/sleep.js';
import { SluiceError } from '../../engine/errors.js';
import { hasCode, isProcessAlive, readJson, removeFile, thisHost } from './fs.js';

export interface FileLockOptions {
  /**
   * A live holder older than this is presumed hung and its lock is broken.
   * Critical sections take milliseconds; this only matters after pid reuse.
   * @default 30_000
   */
  readonly staleMs?: number;
  /** Give up waiting for the lock after this long. @default 60_000 */
  readonly timeoutMs?: number;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly acquiredAt: number;
}

interface ProcessLockState {
  /** Per-lock-directory queue: calls within one process wait in line instead of polling. */
  readonly queues: Map<string, Promise<void>>;
  /** Tokens this process holds now; a claim with our pid and another token is a previous incarnation's. */
  readonly held: Set<string>;
}

// On globalThis so that two copies of this module in one process (test runners) still agree.
const STATE_KEY = Symbol.for('sluice.adapters.local.fileLock');
const globalSlots = globalThis as Record<symbol, unknown>;
if (globalSlots[STATE_KEY] === undefined) {
  globalSlots[STATE_KEY] = { queues: new Map(), held: new Set() } satisfies ProcessLockState;
}
const processState = globalSlots[STATE_KEY] as ProcessLockState;

const CLAIM = /^(\d{16})\.claim$/;
const RELEASED = /^(\d{16})\.released$/;
const TICKET_MAX_AGE_MS = 60 * 60 * 1000;

export class FileLock {
  private readonly staleMs: number;
  private readonly timeoutMs: number;

  public constructor(
    public readonly dir: string,
    options: FileLockOptions = {},
  ) {
    this.staleMs = options.staleMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Runs `fn` while holding the lock; releases it however `fn` ends. */
  public async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const previous = processState.queues.get(this.dir) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous.then(() => mine);
    processState.queues.set(this.dir, tail);
    await previous;
    try {
      const claim = await this.acquire();
      try {
        return await fn();
      } finally {
        await this.release(claim);
      }
    } finally {
      done();
      if (processState.queues.get(this.dir) === tail) processState.queues.delete(this.dir);
    }
  }

  private claimPath(epoch: number): string {
    return join(this.dir, `${String(epoch).padStart(16, '0')}.claim`);
  }

  private releasedPath(epoch: number): string {
    return join(this.dir, `${String(epoch).padStart(16, '0')}.released`);
  }

  private async scan(): Promise<{ top: number; released: Set<number>; names: string[] }> {
    const names = await readdir(this.dir);
    let top = 0;
    const released = new Set<number>();
    for (const name of names) {
      const claim = CLAIM.exec(name);
      if (claim) top = Math.max(top, Number(claim[1]));
      const marker = RELEASED.exec(name);
      if (marker) released.add(Number(marker[1]));
    }
    return { top, released, names };
  }

  private isStale(holder: Holder): boolean {
    if (Date.now() - holder.acquiredAt > this.staleMs) return true;
    if (holder.host !== thisHost) return false;
    if (holder.pid === process.pid) return !processState.held.has(holder.token);
    return !isProcessAlive(holder.pid);
  }

  private async acquire(): Promise<{ epoch: number; token: string }> {
    await mkdir(this.dir, { recursive: true });
    const token = randomUUID();
    // A complete claim, linked into place below: nobody ever reads a half-written holder.
    const ticket = join(this.dir, `.ticket-${process.pid}-${token}.tmp`);
    processState.held.add(token);
    const deadline = Date.now() + this.timeoutMs;
    let delay = 1;
    try {
      for (;;) {
        const { top, released } = await this.scan();
        if (top > 0 && !released.has(top)) {
          const current = await readJson<Holder>(this.claimPath(top));
          if (current !== undefined && !this.isStale(current)) {
            if (Date.now() > deadline) {
              throw new SluiceError(
                `timed out after ${this.timeoutMs} ms waiting for lock ${this.dir} held by pid ${current.pid} on ${current.host}`,
              );
            }
            // Short (≤ 50 ms) and bounded by the lock timeout: the lock takes no signal.
            await sleep(delay + Math.random() * delay);
            delay = Math.min(delay * 2, 25);
            continue;
          }
        }
        const epoch = top + 1;
        // Stamped just before each attempt: the holder's age must count from when it got the lock.
        const holder: Holder = { pid: process.pid, host: thisHost, token, acquiredAt: Date.now() };
        await writeFile(ticket, JSON.stringify(holder));
        try {
          await link(ticket, this.claimPath(epoch));
        } catch (error) {
          if (hasCode(error, 'EEXIST')) continue;
          throw error;
        }
        // A contender working from an old listing may have re-created a collected number;
        // only the highest claim counts, so back off unless it is ours.
        const after = await this.scan();
        if (after.top !== epoch) {
          await removeFile(this.claimPath(epoch));
          continue;
        }
        await this.collect(epoch, after.names);
        return { epoch, token };
      }
    } catch (error) {
      processState.held.delete(token);
      throw error;
    } finally {
      await removeFile(ticket);
    }
  }

  private async release(claim: { epoch: number; token: string }): Promise<void> {
    try {
      await writeFile(this.releasedPath(claim.epoch), '');
    } finally {
      processState.held.delete(claim.token);
    }
  }

  /** Deletes claims and markers older than ours, and tickets left by processes killed mid-acquire. */
  private async collect(epoch: number, names: readonly string[]): Promise<void> {
    for (const name of names) {
      const number = CLAIM.exec(name)?.[1] ?? RELEASED.exec(name)?.[1];
      if (number !== undefined) {
        if (Number(number) < epoch) await removeFile(join(this.dir, name));
      } else if (name.startsWith('.ticket-')) {
        const path = join(this.dir, name);
        try {
          const [holder, info] = await Promise.all([readJson<Holder>(path), stat(path)]);
          const orphan =
            holder !== undefined &&
            holder.host === thisHost &&
            holder.pid !== process.pid &&
            !isProcessAlive(holder.pid);
          if (orphan || Date.now() - info.mtimeMs > TICKET_MAX_AGE_MS) await removeFile(path);
        } catch (error) {
          // Gone already, or a ticket still being written: leave it to a later holder.
          if (!hasCode(error, 'ENOENT') && !(error instanceof SluiceError)) throw error;
        }
      }
    }
  }
}
