/** A stream whose records change shape between runs, and what landing it must give, for both tiers. */
// @ts-nocheck

import type { Connector, SourceRecord } from '../../connectors/sdk/types.js';

/** A source whose records change shape between runs, as real APIs do. */
export function evolvingConnector(pages: SourceRecord[][]): Connector<never> {
  let run = 0;
  return {
    type: 'evolving',
    description: 'test source',
    configSchema: { type: 'object', properties: {} },
    check: async () => ({ ok: true }),
    streams: () => [
      {
        name: 'items',
        primaryKey: ['id'],
        writeDisposition: 'append',
        async *read() {
          yield pages[run++] ?? [];
        },
      },
    ],
  };
}

/** int → bigint → double → string, added and vanished columns, timestamps, booleans → string. */
export const EVOLVING_PAGES: SourceRecord[][] = [
  [
    { id: 1, amount: 5, label: 'a', legacy: true, flag: true, seen_at: new Date('2026-03-01T12:00:00Z') },
    { id: 2, amount: 7, label: 'b', legacy: false, flag: false },
  ],
  [{ id: 3, amount: 3_000_000_000, label: 'c', country: 'SE' }],
  [{ id: 4, amount: 2.5, label: 'd', country: 'NO', seen_at: '2026-03-02T08:30:00Z' }],
  [{ id: 5, amount: 'unknown', label: 'e', flag: 'maybe', seen_at: 'not a time' }],
];

export const EVOLVED_CHANGES = [
  ['created table with 7 columns'],
  ['widened amount: int → bigint', 'added column country (string)'],
  ['added variant column amount__double (double) for values of amount that are not bigint'],
  [
    'added variant column amount__string (string) for values of amount that are not bigint',
    'added variant column flag__string (string) for values of flag that are not boolean',
    'added variant column seen_at__string (string) for values of seen_at that are not timestamp',
  ],
];

export const EVOLVED_ROWS = [
  {
    id: 1,
    amount: 5,
    amount__double: null,
    amount__string: null,
    legacy: true,
    flag: true,
    flag__string: null,
    seen_at: '2026-03-01T12:00:00.000Z',
    seen_at__string: null,
    country: null,
  },
  {
    id: 2,
    amount: 7,
    amount__double: null,
    amount__string: null,
    legacy: false,
    flag: false,
    flag__string: null,
    seen_at: null,
    seen_at__string: null,
    country: null,
  },
  {
    id: 3,
    amount: 3_000_000_000,
    amount__double: null,
    amount__string: null,
    legacy: null,
    flag: null,
    flag__string: null,
    seen_at: null,
    seen_at__string: null,
    country: 'SE',
  },
  {
    id: 4,
    amount: null,
    amount__double: 2.5,
    amount__string: null,
    legacy: null,
    flag: null,
    flag__string: null,
    seen_at: '2026-03-02T08:30:00.000Z',
    seen_at__string: null,
    country: 'NO',
  },
  {
    id: 5,
    amount: null,
    amount__double: null,
    amount__string: 'unknown',
    legacy: null,
    flag: null,
    flag__string: 'maybe',
    seen_at: null,
    seen_at__string: 'not a time',
    country: null,
  },
];

const PICK = Object.keys(EVOLVED_ROWS[0]!);
export const pick = (rows: Record<string, unknown>[]): Record<string, unknown>[] =>
  rows
    .map((row) => Object.fromEntries(PICK.map((k) => [k, row[k] ?? null])))
    .sort((a, b) => Number(a.id) - Number(b.id));
