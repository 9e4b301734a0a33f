/**
 * A deterministic, evolving sample "database". Epoch 0 is the initial load;
 * every later epoch is one day of changes (new rows, updates, deletes). A
 * reader that has seen everything up to the end of epoch e is shown epoch
 * e+1 next, so each incremental sync finds fresh changes, and the same seed
 * always yields the same data.
 */
// @ts-nocheck


export const BASE_TIME_MS = Date.UTC(2026, 0, 1);
export const EPOCH_MS = 86_400_000;
/** Changes stay inside the first 86,000 s of their day. */
const SPAN_SECONDS = 86_000;

export interface Rates {
  readonly update: number;
  readonly delete: number;
  readonly insert: number;
}

export const DEFAULT_RATES: Rates = { update: 0.05, delete: 0.01, insert: 0.03 };

/** mulberry32: tiny, fast, good enough for sample data. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashSeed(...parts: (number | string)[]): number {
  let h = 2166136261;
  for (const part of parts) {
    const text = String(part);
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    h ^= 0x9e3779b9;
  }
  return h >>> 0;
}

export function epochOf(timeMs: number): number {
  return Math.floor((timeMs - BASE_TIME_MS) / EPOCH_MS);
}

/** Timestamp of the i-th of `count` changes in an epoch. Pairs share a second: cursor ties are normal. */
export function changeTime(epoch: number, index: number, count: number): Date {
  const paired = Math.floor(index / 2) * 2;
  const second = Math.floor((paired * SPAN_SECONDS) / Math.max(count, 1));
  return new Date(BASE_TIME_MS + epoch * EPOCH_MS + second * 1000);
}

export type Change = { readonly kind: 'insert' | 'update' | 'delete'; readonly key: number };

/**
 * The changes of one epoch for a keyed table that starts with `initial` keys
 * (1..initial). Keys deleted in an earlier epoch are never updated again.
 */
export class KeyedTable {
  private readonly deleted = new Set<number>();
  private computedThrough = 0;
  private initialLoad: Change[] | undefined;
  private readonly epochs = new Map<number, Change[]>();

  public constructor(
    private readonly name: string,
    private readonly seed: number,
    private readonly initial: number,
    private readonly rates: Rates,
  ) {}

  public keysBefore(epoch: number): number {
    return this.initial + this.insertsPerEpoch() * Math.max(0, epoch - 1);
  }

  private insertsPerEpoch(): number {
    return Math.max(1, Math.round(this.initial * this.rates.insert));
  }

  public changes(epoch: number): Change[] {
    if (epoch === 0) {
      this.initialLoad ??= Array.from({ length: this.initial }, (_, i) => ({
        kind: 'insert' as const,
        key: i + 1,
      }));
      return this.initialLoad;
    }
    while (this.computedThrough < epoch) {
      this.computedThrough += 1;
      this.epochs.set(this.computedThrough, this.compute(this.computedThrough));
    }
    return this.epochs.get(epoch)!;
  }

  private compute(epoch: number): Change[] {
    const rng = random(hashSeed(this.seed, this.name, epoch));
    const existing = this.keysBefore(epoch);
    const touched = new Set<number>();
    const out: Change[] = [];
    const pick = (): number | undefined => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const key = 1 + Math.floor(rng() * existing);
        if (!this.deleted.has(key) && !touched.has(key)) return key;
      }
      return undefined;
    };
    const updates = Math.max(1, Math.round(existing * this.rates.update));
    const deletes = Math.max(1, Math.round(existing * this.rates.delete));
    for (let i = 0; i < updates; i++) {
      const key = pick();
      if (key === undefined) continue;
      touched.add(key);
      out.push({ kind: 'update', key });
    }
    for (let i = 0; i < deletes; i++) {
      const key = pick();
      if (key === undefined) continue;
      touched.add(key);
      out.push({ kind: 'delete', key });
    }
    for (let i = 0; i < this.insertsPerEpoch(); i++) out.push({ kind: 'insert', key: existing + i + 1 });
    // Interleave kinds in time, deterministically.
    const shuffled = out.map((change) => ({ change, order: rng() }));
    shuffled.sort((a, b) => a.order - b.order);
    for (const change of out) if (change.kind === 'delete') this.deleted.add(change.key);
    return shuffled.map((s) => s.change);
  }
}
