import type { SourceRecord, Stream } from '../sdk/types.js';
import { DELETED_FIELD } from '../sdk/types.js';
import {
  BASE_TIME_MS,
  type Change,
  changeTime,
  DEFAULT_RATES,
  epochOf,
  hashSeed,
  KeyedTable,
  random,
} from './world.js';

export interface SampleConfig {
  /** Orders in the initial load; customers are a tenth, events as many as orders. */
  readonly rows: number;
  readonly seed: number;
  /** Records per yielded page. */
  readonly pageSize: number;
}

const INITIAL_CURSOR = '2025-12-31T00:00:00.000Z';
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'NL', 'SE', 'ES', 'IT', 'BR', 'JP', 'IN', 'AU'];
const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Edsger', 'Frances', 'Donald'];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Thompson',
  'Liskov',
  'Dijkstra',
  'Allen',
];
const TIERS = ['free', 'pro', 'enterprise'];
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'refunded'];
const CURRENCIES = ['USD', 'EUR', 'GBP'];
const CITIES = ['Berlin', 'London', 'New York', 'São Paulo', 'Tokyo', 'Zürich', 'Lyon', 'Malmö'];
const EVENT_TYPES = ['page_view', 'add_to_cart', 'checkout', 'search', 'login'];

function pickFrom<T>(items: readonly T[], r: number): T {
  return items[Math.floor(r * items.length)]!;
}

function sinceMs(since: unknown): number {
  if (since === undefined || since === null) return Number.NEGATIVE_INFINITY;
  const t = Date.parse(String(since));
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/**
 * Yields the changes at or after `since` of the epoch `since` falls in, and,
 * when the reader has already seen that whole epoch, the next epoch too.
 */
async function* readChanges(
  since: unknown,
  signal: AbortSignal,
  pageSize: number,
  countOf: (epoch: number) => number,
  build: (epoch: number, index: number, count: number, time: Date) => SourceRecord,
): AsyncGenerator<SourceRecord[]> {
  const from = sinceMs(since);
  const first = from < BASE_TIME_MS ? 0 : epochOf(from);
  const epochs = [first];
  if (from >= BASE_TIME_MS) {
    const count = countOf(first);
    const last = count > 0 ? changeTime(first, count - 1, count).getTime() : from;
    if (from >= last) epochs.push(first + 1);
  }
  for (const epoch of epochs) {
    const count = countOf(epoch);
    let page: SourceRecord[] = [];
    for (let i = 0; i < count; i++) {
      const time = changeTime(epoch, i, count);
      if (time.getTime() < from) continue;
      page.push(build(epoch, i, count, time));
      if (page.length >= pageSize) {
        signal.throwIfAborted();
        yield page;
        page = [];
      }
    }
    signal.throwIfAborted();
    if (page.length > 0) yield page;
  }
}

export function sampleStreams(config: SampleConfig): Stream[] {
  const customerCount = Math.max(10, Math.round(config.rows / 10));
  const customers = new KeyedTable('customers', config.seed, customerCount, DEFAULT_RATES);
  const orders = new KeyedTable('orders', config.seed, config.rows, DEFAULT_RATES);
  const eventsPerEpoch = (epoch: number): number =>
    epoch === 0 ? config.rows : Math.max(1, Math.round(config.rows * 0.05));

  const customerRow = (change: Change, epoch: number, time: Date): SourceRecord => {
    if (change.kind === 'delete') return { id: change.key, updated_at: time, [DELETED_FIELD]: true };
    const r = random(hashSeed(config.seed, 'customer', change.key, epoch));
    const fixed = random(hashSeed(config.seed, 'customer', change.key));
    const first = pickFrom(FIRST, fixed());
    const last = pickFrom(LAST, fixed());
    return {
      id: change.key,
      name: `${first} ${last}`,
      email: `${first}.${last}.${change.key}@example.com`.toLowerCase(),
      country: pickFrom(COUNTRIES, fixed()),
      tier: pickFrom(TIERS, r()),
      signup_at: new Date(BASE_TIME_MS - Math.floor(fixed() * 3 * 365 * 86_400_000)),
      lifetime_value: Math.round(r() * 500_000) / 100,
      is_active: r() > 0.1,
      tags: r() > 0.5 ? ['newsletter', pickFrom(TIERS, r())] : [],
      updated_at: time,
    };
  };

  const orderRow = (change: Change, epoch: number, time: Date): SourceRecord => {
    if (change.kind === 'delete') return { id: change.key, updated_at: time, [DELETED_FIELD]: true };
    const r = random(hashSeed(config.seed, 'order', change.key, epoch));
    const fixed = random(hashSeed(config.seed, 'order', change.key));
    const createdEpoch = change.key <= config.rows ? 0 : epoch;
    return {
      id: change.key,
      customer_id: 1 + Math.floor(fixed() * customers.keysBefore(Math.max(1, createdEpoch))),
      status: change.kind === 'insert' && epoch > 0 ? 'pending' : pickFrom(STATUSES, r()),
      amount: Math.round(fixed() * 100_000) / 100,
      currency: pickFrom(CURRENCIES, fixed()),
      items: 1 + Math.floor(fixed() * 9),
      shipping: { city: pickFrom(CITIES, fixed()), express: fixed() > 0.8 },
      note: r() > 0.7 ? 'leave at the door' : null,
      created_at: new Date(BASE_TIME_MS + createdEpoch * 86_400_000 + Math.floor(fixed() * 3_600_000)),
      updated_at: time,
    };
  };

  const keyedStream = (
    name: string,
    table: KeyedTable,
    row: (change: Change, epoch: number, time: Date) => SourceRecord,
  ): Stream => ({
    name,
    primaryKey: ['id'],
    writeDisposition: 'merge',
    incremental: { cursorField: 'updated_at', initialValue: INITIAL_CURSOR },
    read: (ctx) =>
      readChanges(
        ctx.since,
        ctx.signal,
        config.pageSize,
        (epoch) => table.changes(epoch).length,
        (epoch, i, _count, time) => row(table.changes(epoch)[i]!, epoch, time),
      ),
  });

  return [
    keyedStream('customers', customers, customerRow),
    keyedStream('orders', orders, orderRow),
    {
      name: 'events',
      primaryKey: ['id'],
      writeDisposition: 'append',
      incremental: { cursorField: 'occurred_at', initialValue: INITIAL_CURSOR },
      read: (ctx) =>
        readChanges(ctx.since, ctx.signal, config.pageSize, eventsPerEpoch, (epoch, i, _count, time) => {
          const r = random(hashSeed(config.seed, 'event', epoch, i));
          return {
            id: `evt_${epoch}_${i}`,
            customer_id: 1 + Math.floor(r() * customers.keysBefore(Math.max(1, epoch))),
            type: pickFrom(EVENT_TYPES, r()),
            occurred_at: time,
            properties: { path: `/p/${Math.floor(r() * 500)}`, duration_ms: Math.floor(r() * 10_000) },
          };
        }),
    },
  ];
}
