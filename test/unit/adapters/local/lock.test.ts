import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLock } from '../../../../adapters/local/lock.js';

describe('FileLock', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-lock-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Plants a claim as another live process would leave it. */
  const plantClaim = async (epoch: number, acquiredAt: number): Promise<void> => {
    await mkdir(dir, { recursive: true });
    const holder = { pid: process.ppid, host: hostname(), token: 'someone-else', acquiredAt };
    await writeFile(join(dir, `${String(epoch).padStart(16, '0')}.claim`), JSON.stringify(holder));
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
});
