/**
 * Many keyless records at one cursor value: tie keys are fixed-size hashes
 * (no record content in state), the cursor item stays small, and the source
 * syncs, re-syncs and grows without wedging, in one slice or many.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PreciseDate } from '../../../connectors/sdk/precise-date.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { tieKeyOf } from '../../../engine/tie-keys.js';
import { keylessSource } from '../../support/keyless-connector.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

const lakes: TestLake[] = [];
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

function definition(): SourceDefinition {
  const now = new Date().toISOString();
  return { name: 'blobs_src', type: 'keyless', config: {}, createdAt: now, updatedAt: now };
}

async function landed(l: TestLake): Promise<{ n: number; rows: number }[]> {
  const rows = await l.query('SELECT n, count(*) AS c FROM blobs_src.blobs GROUP BY n ORDER BY n');
  return rows.map((r) => ({ n: Number(r.n), rows: Number(r.c) }));
}

describe('2,000 keyless records sharing one cursor value', () => {
  for (const sliceRows of [undefined, 150]) {
    it(`syncs, re-syncs and grows without wedging${sliceRows ? ' in slices' : ''}`, async () => {
      // Prepare
      const source = keylessSource(2000);
      const l = await openTestLake(definition(), source.connector, {});
      lakes.push(l);
      const options = sliceRows === undefined ? {} : { sliceRows };
      // Act
      const first = await l.sync(options);
      const second = await l.sync(options);
      source.count = 2100;
      const third = await l.sync(options);
      const fourth = await l.sync(options);
      const { cursor } = await l.backend.state.getCursor('blobs_src', 'blobs');
      // Assess
      expect(first.streams.blobs?.rows).toBe(2000);
      expect(second.status).toBe('SUCCEEDED');
      expect(second.streams.blobs?.rows).toBe(0);
      expect(second.streams.blobs?.skipped).toBe(2000);
      expect(third.streams.blobs?.rows).toBe(100);
      expect(fourth.streams.blobs?.rows).toBe(0);
      const counts = await landed(l);
      expect(counts.length).toBe(2099);
      expect(counts[0]).toEqual({ n: 1, rows: 2 });
      expect(counts.slice(1).every((c) => c.rows === 1)).toBe(true);
      const stored = JSON.stringify(cursor);
      expect(stored.length).toBeLessThan(1024);
      expect(stored).not.toContain('xxxx');
      expect(cursor?.keysRef).toBeDefined();
    });
  }
});

describe('tieKeyOf', () => {
  it('tells timestamps a microsecond apart apart, keyed or keyless, and keys a whole millisecond as a Date', () => {
    // Prepare
    const at = 1_772_359_200_123_000n;
    const record = (us: bigint) => ({ id: 1, at: new PreciseDate(us) });
    const asDate = { id: 1, at: new Date(Number(at / 1000n)) };

    // Act + Assess
    for (const key of [[], ['at']] as const) {
      expect(tieKeyOf(record(at + 456n), key)).not.toBe(tieKeyOf(record(at + 789n), key));
      expect(tieKeyOf(record(at), key)).toBe(tieKeyOf(asDate, key));
    }
  });
});
