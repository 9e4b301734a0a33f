/**
 * runSync, the steps in one call: the lease it holds across them, and the
 * slice length it gives each step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Lease } from '../../../engine/ports.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

describe('runSync', () => {
  let lake: TestLake | undefined;
  afterEach(async () => {
    await lake?.dispose();
  });

  it('holds the lease between its steps and frees it at the end unless asked to keep it', async () => {
    // Prepare
    lake = await openTestLake();
    const open = lake;
    const leases: Array<Lease | undefined> = [];
    const onSlice = () => {
      void open.backend.state.getLease('shop').then((lease) => leases.push(lease));
    };

    // Act
    await open.sync({ onSlice, leaseOwner: 'owner-1' });
    const afterFreed = await open.backend.state.getLease('shop');
    await open.sync({ keepLease: true, leaseOwner: 'owner-2' });
    const afterKept = await open.backend.state.getLease('shop');

    // Assess
    expect(leases.length).toBeGreaterThan(0);
    for (const lease of leases) expect(lease?.owner).toBe('owner-1');
    expect(afterFreed).toBeUndefined();
    expect(afterKept?.owner).toBe('owner-2');
  });

  it('cuts the run into slices of the given length, and into one without a length', async () => {
    // Prepare
    lake = await openTestLake();
    const slices = (list: number[]) => (checkpoint: { slice: number }) => list.push(checkpoint.slice);
    const long: number[] = [];
    const short: number[] = [];

    // Act
    await lake.sync({ sliceSeconds: 3600, onSlice: slices(long) });
    await lake.sync({ sliceSeconds: 0.001, onSlice: slices(short) });

    // Assess: the begin step, then one publish per slice
    expect(long).toEqual([0, 1]);
    expect(short.length).toBeGreaterThan(2);
  });
});
