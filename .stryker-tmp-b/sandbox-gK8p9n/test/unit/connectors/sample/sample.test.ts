// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { sampleConnector } from '../../../../connectors/sample/index.js';
import { describeConformance, readAll } from '../../../../connectors/sdk/conformance.js';

describeConformance('sample', {
  connector: sampleConnector,
  config: () => ({ rows: 500, seed: 7, pageSize: 100 }),
  expectedStreams: ['customers', 'events', 'orders'],
  minRecords: 50,
});

describe('sample connector', () => {
  it('yields the same records for the same seed', async () => {
    const [a] = await sampleConnector.streams({ rows: 200, seed: 1, pageSize: 50 });
    const [b] = await sampleConnector.streams({ rows: 200, seed: 1, pageSize: 50 });
    expect(await readAll(a!, undefined)).toEqual(await readAll(b!, undefined));
  });

  it('shows updates, deletes and inserts after the initial load', async () => {
    const streams = await sampleConnector.streams({ rows: 1000, seed: 3, pageSize: 100 });
    const orders = streams.find((s) => s.name === 'orders')!;
    const initial = await readAll(orders, orders.incremental!.initialValue);
    const last = initial
      .map((r) => (r.updated_at as Date).toISOString())
      .sort()
      .at(-1)!;
    const changes = await readAll(orders, last);
    const later = changes.filter((r) => (r.updated_at as Date).toISOString() > last);
    const initialIds = new Set(initial.map((r) => r.id));
    expect(initial).toHaveLength(1000);
    expect(later.some((r) => r._sluice_deleted === true)).toBe(true);
    expect(later.some((r) => !r._sluice_deleted && initialIds.has(r.id))).toBe(true);
    expect(later.some((r) => !initialIds.has(r.id))).toBe(true);
    expect(later.length).toBeLessThan(initial.length / 5);
  });

  it('shares cursor values between pairs of records', async () => {
    const [customers] = await sampleConnector.streams({ rows: 100, seed: 1, pageSize: 50 });
    const records = await readAll(customers!, undefined);
    const times = records.map((r) => (r.updated_at as Date).getTime());
    expect(new Set(times).size).toBeLessThan(times.length);
  });
});
