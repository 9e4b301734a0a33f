/**
 * A small pool of realistic order rows (~450 bytes each as JSON) and a cheap
 * way to stamp out any number of distinct rows from it, so the benchmark's
 * source costs next to nothing and memory holds only the pool.
 */
import type { SourceRecord } from '../connectors/sdk/types.js';
import type { ParquetColumn } from '../engine/parquet/convert.js';

/** Shape of one benchmark row; every field is a plain JSON value. */
export interface BenchRow {
  readonly id: number;
  readonly account_id: number;
  readonly order_number: string;
  readonly status: string;
  readonly currency: string;
  readonly amount: number;
  readonly tax: number;
  readonly discount: number | null;
  readonly quantity: number;
  readonly is_gift: boolean;
  readonly customer_email: string;
  readonly customer_name: string;
  readonly shipping_country: string;
  readonly shipping_city: string;
  readonly shipping_postcode: string | null;
  readonly coupon_code: string | null;
  readonly created_at: string;
  readonly notes: string | null;
  readonly user_agent: string;
}

/** The lake columns of a `BenchRow`, as the engine lands them (`created_at` declared a timestamp). */
export const BENCH_COLUMNS: readonly ParquetColumn[] = (
  [
    ['id', 'bigint'],
    ['account_id', 'int'],
    ['order_number', 'string'],
    ['status', 'string'],
    ['currency', 'string'],
    ['amount', 'double'],
    ['tax', 'double'],
    ['discount', 'double'],
    ['quantity', 'int'],
    ['is_gift', 'boolean'],
    ['customer_email', 'string'],
    ['customer_name', 'string'],
    ['shipping_country', 'string'],
    ['shipping_city', 'string'],
    ['shipping_postcode', 'string'],
    ['coupon_code', 'string'],
    ['created_at', 'timestamp'],
    ['notes', 'string'],
    ['user_agent', 'string'],
  ] as const
).map(([name, type]) => ({ name, type }));

const FIRST = [
  'Maria',
  'James',
  'Aiko',
  'Lukas',
  'Chloé',
  'Omar',
  'Priya',
  'Søren',
  'Ana',
  'Wei',
  'Zoë',
  'Mateo',
];
const LAST = [
  'González',
  'Smith',
  'Tanaka',
  'Müller',
  'Dubois',
  'Haddad',
  'Patel',
  'Nørgaard',
  'Silva',
  'Li',
];
const STATUS = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];
const CURRENCY = ['EUR', 'USD', 'GBP', 'JPY', 'DKK'];
const CITY: readonly (readonly [string, string])[] = [
  ['DE', 'Berlin'],
  ['FR', 'Paris'],
  ['US', 'New York'],
  ['JP', 'Tokyo'],
  ['GB', 'London'],
  ['DK', 'København'],
  ['BR', 'São Paulo'],
  ['IN', 'Bengaluru'],
];
const NOTES = [
  'Leave the parcel at the front door if nobody answers.',
  'Gift wrap please, and no invoice in the box.',
  'Call before delivery; the doorbell is broken.',
  'Deliver to the reception desk on the ground floor.',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/605.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Mobile/15E148',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Firefox/125.0',
];

/** Deterministic pseudo-random numbers (mulberry32) so every run lands the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(items: readonly T[], r: number): T {
  return items[Math.floor(r * items.length)]!;
}

/**
 * Builds `size` varied rows; ids are placeholders that `stampRow` replaces.
 * The pool goes through JSON once, as rows from a REST source would: V8 then
 * holds each string flat, not as the rope a template literal leaves behind.
 */
export function buildPool(size = 4096, seed = 42): BenchRow[] {
  return JSON.parse(JSON.stringify(generate(size, seed))) as BenchRow[];
}

function generate(size: number, seed: number): BenchRow[] {
  const rnd = random(seed);
  const base = Date.UTC(2024, 0, 1);
  const pool: BenchRow[] = [];
  for (let i = 0; i < size; i++) {
    const first = pick(FIRST, rnd());
    const last = pick(LAST, rnd());
    const [country, city] = pick(CITY, rnd());
    const amount = Math.round(rnd() * 500_000) / 100;
    pool.push({
      id: i,
      account_id: 10_000 + Math.floor(rnd() * 50_000),
      order_number: `ORD-2024-${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`,
      status: pick(STATUS, rnd()),
      currency: pick(CURRENCY, rnd()),
      amount,
      tax: Math.round(amount * 19) / 100,
      discount: rnd() < 0.7 ? null : Math.round(rnd() * 5_000) / 100,
      quantity: 1 + Math.floor(rnd() * 9),
      is_gift: rnd() < 0.1,
      customer_email: `${first.toLowerCase()}.${last.toLowerCase()}${Math.floor(rnd() * 1000)}@example.com`,
      customer_name: `${first} ${last}`,
      shipping_country: country,
      shipping_city: city,
      shipping_postcode: rnd() < 0.2 ? null : String(10_000 + Math.floor(rnd() * 89_999)),
      coupon_code: rnd() < 0.8 ? null : `SAVE${Math.floor(rnd() * 50)}`,
      created_at: new Date(base + Math.floor(rnd() * 365 * 86_400_000)).toISOString(),
      notes: rnd() < 0.6 ? null : pick(NOTES, rnd()),
      user_agent: pick(AGENTS, rnd()),
    });
  }
  return pool;
}

/**
 * A fresh row with a new id, its order fields from pool row `p` and its
 * customer fields from pool row `q`. An object literal with a fixed shape is
 * the cheapest distinct record V8 can allocate.
 */
export function stampRow(p: BenchRow, q: BenchRow, id: number): SourceRecord {
  return {
    id,
    account_id: q.account_id,
    order_number: p.order_number,
    status: p.status,
    currency: p.currency,
    amount: p.amount,
    tax: p.tax,
    discount: p.discount,
    quantity: p.quantity,
    is_gift: p.is_gift,
    customer_email: q.customer_email,
    customer_name: q.customer_name,
    shipping_country: q.shipping_country,
    shipping_city: q.shipping_city,
    shipping_postcode: q.shipping_postcode,
    coupon_code: p.coupon_code,
    created_at: p.created_at,
    notes: q.notes,
    user_agent: q.user_agent,
  };
}

/** Where a page sequence stands: the next row index and the generator state. */
export interface PagePosition {
  readonly start: number;
  readonly state: number;
}

/**
 * Yields `rows` distinct rows in pages of `pageSize`, built on demand from
 * the pool, each with the position after it (so a read can resume there).
 * Pool rows are picked pseudo-randomly (xorshift), not in a cycle, so
 * encoders and compressors see no artificial period in the data.
 */
export function* pagesFrom(
  pool: readonly BenchRow[],
  rows: number,
  pageSize = 10_000,
  from: PagePosition = { start: 0, state: 0x9e3779b9 },
): Generator<[SourceRecord[], PagePosition]> {
  const size = pool.length;
  let state = from.state;
  for (let start = from.start; start < rows; start += pageSize) {
    const end = Math.min(rows, start + pageSize);
    const page = new Array<SourceRecord>(end - start);
    for (let i = start; i < end; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const r = state >>> 0;
      page[i - start] = stampRow(pool[r % size]!, pool[(r >>> 16) % size]!, i + 1);
    }
    yield [page, { start: end, state }];
  }
}

/** `pagesFrom` from the start, pages only. */
export function* pages(
  pool: readonly BenchRow[],
  rows: number,
  pageSize = 10_000,
): Generator<SourceRecord[]> {
  for (const [page] of pagesFrom(pool, rows, pageSize)) yield page;
}
