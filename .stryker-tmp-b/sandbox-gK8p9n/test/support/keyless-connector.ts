/**
 * A keyless, cursor-ascending stream whose records (~1 KB each) all share one
 * cursor value: the case that once overflowed the cursor state item. Two of
 * its records are identical, so tie keys must count, not just collect.
 */
// @ts-nocheck

import type { Connector, SourceRecord } from '../../connectors/sdk/types.js';
import { ReadOrder } from '../../connectors/sdk/types.js';

export const SHARED_CURSOR = '2026-02-01T00:00:00.000Z';

export interface KeylessSource {
  readonly connector: Connector<never>;
  /** How many records the source holds now; raise it to add records at the same cursor value. */
  count: number;
}

export function keylessSource(count: number): KeylessSource {
  const source: KeylessSource = {
    count,
    connector: {
      type: 'keyless',
      description: 'keyless records sharing one cursor value',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: () => [
        {
          name: 'blobs',
          primaryKey: [],
          writeDisposition: 'append',
          incremental: { cursorField: 'ts', initialValue: '2026-01-01T00:00:00.000Z' },
          order: ReadOrder.cursorAscending,
          read: async function* () {
            let page: SourceRecord[] = [];
            for (let i = 0; i < source.count; i++) {
              // Records 0 and 1 are identical.
              const n = Math.max(1, i);
              page.push({ ts: SHARED_CURSOR, n, payload: `${n}:`.padEnd(1000, 'x') });
              if (page.length === 100) {
                yield page;
                page = [];
              }
            }
            if (page.length > 0) yield page;
          },
        },
      ],
    },
  };
  return source;
}
