// @ts-nocheck
import type { ReadContext, SourceRecord, Stream, StreamItem, StreamPosition } from '../sdk/types.js';
import { checkpoint, DELETED_FIELD, ReadOrder, ResumeUnavailableError } from '../sdk/types.js';
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
 * Where a read stands: the epochs it reads (fixed when the read starts, so a
 * resumed read never extends its plan) and the next change to yield.
 */
interface ChangePosition {
  readonly first: number;
  readonly last: number;
  readonly epoch: number;
  readonly index: number;
}

function positionOf(resumeFrom: StreamPosition | undefined): ChangePosition | undefined {
  if (resumeFrom === undefined) return undefined;
  const { first, last, epoch, index } = resumeFrom;
  const whole = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!whole(first) || !whole(last) || !whole(epoch) || !whole(index) || epoch < first || epoch > last) {
    throw new ResumeUnavailableError(`sample: cannot resume from ${JSON.stringify(resumeFrom)}`);
  }
  return { first, last, epoch, index };
}

/**
 * Yields the changes at or after `since` of the epoch `since` falls in, and,
 * when the reader has already seen that whole epoch, the next epoch too, in
 * cursor order, with a checkpoint at the start and after every page.
 */
async function* readChanges(
  ctx: ReadContext,
  pageSize: number,
  countOf: (epoch: number) => number,
  build: (epoch: number, index: number, count: number, time: Date) => SourceRecord,
): AsyncGenerator<StreamItem> {
  const { signal } = ctx;
  const from = sinceMs(ctx.since);
  let start = positionOf(ctx.resumeFrom);
  if (!start) {
    const first = from < BASE_TIME_MS ? 0 : epochOf(from);
    let last = first;
    if (from >= BASE_TIME_MS) {
      const count = countOf(first);
      const lastTime = count > 0 ? changeTime(first, count - 1, count).getTime() : from;
      if (from >= lastTime) last = first + 1;
    }
    start = { first, last, epoch: first, index: 0 };
  }
  const plan = { first: start.first, last: start.last };
  yield checkpoint({ ...plan, epoch: start.epoch, index: start.index });
  for (let epoch = start.epoch; epoch <= plan.last; epoch++) {
    const count = countOf(epoch);
    let page: SourceRecord[] = [];
    for (let i = epoch === start.epoch ? start.index : 0; i < count; i++) {
      const time = changeTime(epoch, i, count);
      if (time.getTime() < from) continue;
      page.push(build(epoch, i, count, time));
      if (page.length >= pageSize) {
        signal.throwIfAborted();
        yield page;
        yield checkpoint({ ...plan, epoch, index: i + 1 });
        page = [];
      }
    }
    signal.throwIfAborted();
    if (page.length > 0) {
      yield page;
      yield checkpoint({ ...plan, epoch, index: count });
    }
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
    order: ReadOrder.cursorAscending,
    read: (ctx) =>
      readChanges(
        ctx,
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
      order: ReadOrder.cursorAscending,
      read: (ctx) =>
        readChanges(ctx, config.pageSize, eventsPerEpoch, (epoch, i, _count, time) => {
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
