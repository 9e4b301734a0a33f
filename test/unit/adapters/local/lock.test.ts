import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileLock } from '../../../../adapters/local/lock.js';

/** Loads lock.ts again, as a second copy of the module would be in one process. */
async function importFreshLockModule(): Promise<typeof import('../../../../adapters/local/lock.js')> {
  vi.resetModules();
  return import('../../../../adapters/local/lock.js');
}

describe('FileLock', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-lock-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A pid no process has (above Linux's pid_max). */
  const DEAD_PID = 2 ** 22 + 12_345;
  const claimName = (epoch: number): string => `${String(epoch).padStart(16, '0')}.claim`;

  /** Plants a claim as another process would leave it (by default a live one on this host). */
  const plantClaim = async (
    epoch: number,
    acquiredAt: number,
    holder: { pid?: number; host?: string; token?: string } = {},
  ): Promise<void> => {
    await mkdir(dir, { recursive: true });
    const claim = { pid: process.ppid, host: hostname(), token: 'someone-else', acquiredAt, ...holder };
    await writeFile(join(dir, claimName(epoch)), JSON.stringify(claim));
  };

  /** Plants a ticket (a claim being linked into place) with the given content and age. */
  const plantTicket = async (name: string, content: string, ageMs = 0): Promise<void> => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, name), content);
    const at = new Date(Date.now() - ageMs);
    await utimes(join(dir, name), at, at);
  };

  /** This process's lock bookkeeping (kept on globalThis by the module). */
  const processState = (): { queues: Map<string, unknown>; held: Set<string> } =>
    (globalThis as Record<symbol, unknown>)[Symbol.for('sluice.adapters.local.fileLock')] as {
      queues: Map<string, unknown>;
      held: Set<string>;
    };

  it('never runs two sections at once, however many callers wait', async () => {
    // Prepare
    const lock = new FileLock(dir);
    let inside = 0;
    let maxInside = 0;

    // Act
    await Promise.all(
      Array.from({ length: 20 }, () =>
        lock.withLock(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((resolve) => setTimeout(resolve, 1));
          inside--;
        }),
      ),
    );

    // Assess: and only the latest claim and its marker are left behind.
    expect(maxInside).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['0000000000000020.claim', '0000000000000020.released']);
  });

  it('releases the lock when the section throws', async () => {
    // Prepare
    const lock = new FileLock(dir, { timeoutMs: 200 });

    // Act
    const failed = lock.withLock(async () => {
      throw new Error('inside');
    });

    // Assess
    await expect(failed).rejects.toThrow('inside');
    expect(await lock.withLock(async () => 'next')).toBe('next');
  });

  it('waits for a live holder and gives up after the timeout', async () => {
    // Prepare
    await plantClaim(7, Date.now());
    const lock = new FileLock(dir, { timeoutMs: 100 });

    // Act
    const attempt = lock.withLock(async () => 'never');

    // Assess
    await expect(attempt).rejects.toThrow(/timed out after 100 ms waiting for lock .* held by pid \d+/);
  });

  it('breaks the lock of a live holder that has held it longer than staleMs', async () => {
    // Prepare
    await plantClaim(7, Date.now() - 10_000);
    const lock = new FileLock(dir, { staleMs: 5_000, timeoutMs: 1_000 });

    // Act
    const result = await lock.withLock(async () => 'taken over');

    // Assess
    expect(result).toBe('taken over');
    expect((await readdir(dir)).sort()).toEqual(['0000000000000008.claim', '0000000000000008.released']);
  });

  it('takes at once the lock of a dead holder on this host, or of an earlier incarnation of this process', async () => {
    // Prepare: fresh claims (not stale by age) whose holders cannot still hold them
    await plantClaim(3, Date.now(), { pid: DEAD_PID });
    const lock = new FileLock(dir, { timeoutMs: 100 });

    // Act
    const fromDead = await lock.withLock(async () => 'from the dead');
    await plantClaim(5, Date.now(), { pid: process.pid, token: 'a-token-this-process-no-longer-holds' });
    const fromEarlier = await lock.withLock(async () => 'from an earlier incarnation');

    // Assess
    expect([fromDead, fromEarlier]).toEqual(['from the dead', 'from an earlier incarnation']);
    expect((await readdir(dir)).sort()).toEqual(['0000000000000006.claim', '0000000000000006.released']);
  });

  it('waits for a fresh claim of another host even when its pid is not alive here', async () => {
    // Prepare
    await plantClaim(3, Date.now(), { pid: DEAD_PID, host: 'another-host' });
    const lock = new FileLock(dir, { timeoutMs: 100 });

    // Act
    const attempt = lock.withLock(async () => 'never');

    // Assess
    await expect(attempt).rejects.toThrow(`held by pid ${DEAD_PID} on another-host`);
  });

  it('takes the next number after a released claim without waiting', async () => {
    // Prepare: a live holder's claim that was released
    await plantClaim(4, Date.now());
    await writeFile(join(dir, '0000000000000004.released'), '');
    const lock = new FileLock(dir, { timeoutMs: 100 });

    // Act
    const result = await lock.withLock(async () => readdir(dir));

    // Assess: while held, its claim is the highest and has no marker
    expect(result.sort()).toEqual(['0000000000000005.claim']);
  });

  it('collects tickets of dead processes and old tickets, and leaves those still being written', async () => {
    // Prepare
    const ticket = (pid: number, host = hostname()) =>
      JSON.stringify({ pid, host, token: 't', acquiredAt: Date.now() });
    const hour = 60 * 60 * 1000;
    await plantTicket('.ticket-dead.tmp', ticket(DEAD_PID));
    await plantTicket('.ticket-old.tmp', ticket(process.ppid), 2 * hour);
    await plantTicket('.ticket-recent.tmp', ticket(process.ppid), hour / 2);
    await plantTicket('.ticket-live.tmp', ticket(process.ppid));
    await plantTicket('.ticket-other-host.tmp', ticket(DEAD_PID, 'another-host'));
    await plantTicket('.ticket-mine.tmp', ticket(process.pid));
    await plantTicket('.ticket-half-written.tmp', '{"pid": 12');
    await symlink(join(dir, 'nothing-here'), join(dir, '.ticket-vanished.tmp'));
    await plantTicket('notes.json', '{}', 2 * hour);
    const lock = new FileLock(dir, { timeoutMs: 1_000 });

    // Act
    await lock.withLock(async () => undefined);

    // Assess
    expect(
      (await readdir(dir)).filter((name) => !name.endsWith('.claim') && !name.endsWith('.released')).sort(),
    ).toEqual([
      '.ticket-half-written.tmp',
      '.ticket-live.tmp',
      '.ticket-mine.tmp',
      '.ticket-other-host.tmp',
      '.ticket-recent.tmp',
      '.ticket-vanished.tmp',
      'notes.json',
    ]);
  });

  it('fails, rather than guessing, when a ticket cannot be read for another reason', async () => {
    // Prepare: a directory where a ticket file should be
    await mkdir(join(dir, '.ticket-a-directory.tmp'), { recursive: true });
    const lock = new FileLock(dir, { timeoutMs: 1_000 });

    // Act
    const attempt = lock.withLock(async () => 'taken');

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('reads only its own claim and marker names, whatever else is in the directory', async () => {
    // Prepare: a live holder of claim 1, and names that only look like claims or markers
    await plantClaim(1, Date.now());
    for (const name of [
      'backup-0000000000000001.released',
      '0000000000000001.released.old',
      'backup-0000000000000009.claim',
      '0000000000000009.claim.old',
    ]) {
      await writeFile(join(dir, name), '');
    }
    const lock = new FileLock(dir, { timeoutMs: 100 });

    // Act
    const attempt = lock.withLock(async () => 'never');

    // Assess: it waits for the holder of claim 1
    await expect(attempt).rejects.toThrow(`held by pid ${process.ppid}`);
  });

  it('waits for a live holder and takes the lock as soon as it is released', async () => {
    // Prepare
    await plantClaim(1, Date.now());
    const lock = new FileLock(dir, { timeoutMs: 10_000 });
    const released = new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
      writeFile(join(dir, '0000000000000001.released'), ''),
    );

    // Act
    const inside = await lock.withLock(async () => readdir(dir));

    // Assess
    await released;
    expect(inside.sort()).toEqual(['0000000000000002.claim']);
  });

  it('lines up callers of one process without their timeouts running while they wait in line', async () => {
    // Prepare: each section outlasts the lock timeout; callers in line must not time out
    const lock = new FileLock(dir, { timeoutMs: 50 });
    const order: string[] = [];
    const section = (name: string) => async () => {
      order.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      order.push(`${name} out`);
    };

    // Act: the third caller arrives while the second holds the lock
    const first = lock.withLock(section('first'));
    const second = lock.withLock(section('second'));
    await vi.waitFor(() => expect(order).toContain('second in'), { timeout: 5_000, interval: 5 });
    const third = lock.withLock(section('third'));
    await Promise.all([first, second, third]);

    // Assess
    expect(order).toEqual(['first in', 'first out', 'second in', 'second out', 'third in', 'third out']);
  });

  it('excludes sections of two FileLocks on one directory in one process', async () => {
    // Prepare: two spellings of one directory are two queues, so only the claims exclude them
    const locks = [new FileLock(dir), new FileLock(`${dir}/`)];
    let inside = 0;
    let maxInside = 0;

    // Act
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        locks[index % 2]?.withLock(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((resolve) => setTimeout(resolve, 1));
          inside--;
        }),
      ),
    );

    // Assess
    expect(maxInside).toBe(1);
  });

  it('agrees with a second copy of its module loaded in the same process', async () => {
    // Prepare: the first copy holds the lock
    const copy = await importFreshLockModule();
    let release!: () => void;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const holder = new FileLock(dir).withLock(async () => {
      entered();
      await holding;
    });
    await inside;

    // Act: the copy sees a claim of this pid with a token it must know is held
    const attempt = new copy.FileLock(dir, { timeoutMs: 10_000 }).withLock(async () => 'taken');
    const early = await Promise.race([
      attempt,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 200)),
    ]);
    release();

    // Assess
    expect(early).toBe('still waiting');
    expect(await attempt).toBe('taken');
    await holder;
  });

  it('forgets its queue and its token once the section is over', async () => {
    // Prepare
    const lock = new FileLock(dir);
    const heldBefore = processState().held.size;

    // Act
    const during = await lock.withLock(async () => ({
      queued: processState().queues.has(dir),
      held: processState().held.size,
    }));

    // Assess
    expect(during).toEqual({ queued: true, held: heldBefore + 1 });
    expect(processState().queues.has(dir)).toBe(false);
    expect(processState().held.size).toBe(heldBefore);
  });

  it('forgets its token when it gives up waiting', async () => {
    // Prepare
    await plantClaim(7, Date.now());
    const lock = new FileLock(dir, { timeoutMs: 50 });
    const heldBefore = processState().held.size;

    // Act
    await lock.withLock(async () => 'never').catch(() => undefined);

    // Assess
    expect(processState().held.size).toBe(heldBefore);
    expect(processState().queues.has(dir)).toBe(false);
  });
});
