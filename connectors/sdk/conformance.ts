/**
 * The conformance kit: every connector's test file calls `describeConformance`
 * with a working config. It checks the contract the engine relies on: valid
 * stream declarations, records that carry their key and cursor, a cursor that
 * only moves forward, resumption from a committed cursor, and prompt abort.
 *
 * Test-only: imports vitest, so product code must never import this file.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from './config.js';
import { compareCursor, cursorOf, normalizeCursor } from './cursor.js';
import { silentLogger } from './logger.js';
import {
  type Connector,
  type CursorValue,
  type Incremental,
  isCheckpoint,
  type ReadContext,
  type SourceRecord,
  type Stream,
} from './types.js';

export interface ConformanceOptions<Config> {
  readonly connector: Connector<Config>;
  /** A config that reaches a live, seeded source (a real server in the test). */
  readonly config: () => Config | Promise<Config>;
  /** Streams the config must produce; defaults to "at least one". */
  readonly expectedStreams?: readonly string[];
  /** Fewest records each stream must yield on a first full read. @default 1 */
  readonly minRecords?: number;
  /** Changes the source (adds/updates rows) so a resumed read has something new to find. */
  readonly mutate?: () => Promise<void>;
  /** Stops reading a stream after this many records, to keep tests quick. @default 100000 */
  readonly maxRecords?: number;
  /** How long an aborted read may take to stop. @default 5000 */
  readonly abortWithinMs?: number;
}

const SNAKE_CASE = /^[a-z][a-z0-9_]*$/;

function context(since: CursorValue | undefined, signal: AbortSignal): ReadContext {
  return { since, committedCursor: since, signal, logger: silentLogger };
}

export async function readAll(
  stream: Stream,
  since: CursorValue | undefined,
  maxRecords = 100_000,
): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const controller = new AbortController();
  for await (const item of stream.read(context(since, controller.signal))) {
    if (isCheckpoint(item)) continue;
    const page = Array.isArray(item) ? item : [item as SourceRecord];
    for (const record of page) records.push(record);
    if (records.length >= maxRecords) {
      controller.abort();
      break;
    }
  }
  return records;
}

function maxCursor(records: readonly SourceRecord[], incremental: Incremental): CursorValue | undefined {
  let max: CursorValue | undefined;
  for (const record of records) {
    const value = cursorOf(record, incremental.cursorField, incremental.cursorType);
    if (value !== undefined && (max === undefined || compareCursor(value, max, incremental.cursorType) > 0))
      max = value;
  }
  return max;
}

/** Orders a record's cursor against `since` as the engine does; 0 for a record without one. */
function orderFrom(record: SourceRecord, incremental: Incremental, since: CursorValue): number {
  const value = cursorOf(record, incremental.cursorField, incremental.cursorType);
  return value === undefined ? 0 : compareCursor(value, since, incremental.cursorType);
}

/** Items a read may still hand over after its signal aborted (what it already held). */
const ITEMS_AFTER_ABORT = 2;

/**
 * Aborts a read of `stream` right after its first item. Passes when the read
 * then ends, or rejects with the abort (the signal's reason, an AbortError,
 * or an error caused by either), within `withinMs` and after at most
 * ITEMS_AFTER_ABORT more items; fails naming what it did instead.
 */
export async function expectPromptAbort(stream: Stream, withinMs = 5000): Promise<void> {
  const controller = new AbortController();
  let seen = 0;
  const read = (async () => {
    for await (const _item of stream.read(context(stream.incremental?.initialValue, controller.signal))) {
      seen += 1;
      if (seen === 1) controller.abort();
      if (seen > 1 + ITEMS_AFTER_ABORT) return;
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), withinMs);
  });
  const outcome = await Promise.race([
    read.then(
      () => ({ ended: true as const }),
      (error: unknown) => ({ ended: false as const, error }),
    ),
    timedOut,
  ]);
  clearTimeout(timer);
  expect(outcome, `${stream.name}: still reading ${withinMs} ms after its signal aborted`).not.toBe(
    'timeout',
  );
  expect(seen, `${stream.name}: items after abort`).toBeLessThanOrEqual(1 + ITEMS_AFTER_ABORT);
  if (outcome !== 'timeout' && !outcome.ended) {
    const reason: unknown = controller.signal.reason;
    const error = outcome.error;
    const isAbort =
      error === reason || (error instanceof Error && (error.name === 'AbortError' || error.cause === reason));
    expect(
      isAbort,
      `${stream.name}: an aborted read must end or throw its abort, not "${String(error)}"`,
    ).toBe(true);
  }
}

export function describeConformance<Config>(name: string, options: ConformanceOptions<Config>): void {
  const minRecords = options.minRecords ?? 1;
  const maxRecords = options.maxRecords ?? 100_000;

  async function streams(): Promise<readonly Stream[]> {
    const config = await options.config();
    return options.connector.streams(config);
  }

  describe(`connector conformance: ${name}`, () => {
    it('declares a config schema that accepts the test config', async () => {
      const config = await options.config();
      expect(options.connector.configSchema.type).toBe('object');
      expect(() => validateConfig(options.connector.configSchema, config)).not.toThrow();
    });

    it('passes check against the live source', async () => {
      const result = await options.connector.check(await options.config());
      expect(result).toEqual({ ok: true });
    });

    it('declares valid streams', async () => {
      const declared = await streams();
      expect(declared.length).toBeGreaterThan(0);
      const names = declared.map((s) => s.name);
      expect(new Set(names).size).toBe(names.length);
      if (options.expectedStreams) expect([...names].sort()).toEqual([...options.expectedStreams].sort());
      for (const stream of declared) {
        expect(stream.name, `stream name ${stream.name}`).toMatch(SNAKE_CASE);
        expect(['append', 'replace', 'merge']).toContain(stream.writeDisposition);
        if (stream.writeDisposition === 'merge') expect(stream.primaryKey.length).toBeGreaterThan(0);
        if (stream.incremental) expect(stream.incremental.cursorField.length).toBeGreaterThan(0);
      }
    });

    it('reads records that carry their primary key and cursor', async () => {
      for (const stream of await streams()) {
        const records = await readAll(stream, stream.incremental?.initialValue, maxRecords);
        expect(records.length, `records of ${stream.name}`).toBeGreaterThanOrEqual(minRecords);
        for (const record of records) {
          expect(typeof record).toBe('object');
          for (const key of stream.primaryKey) {
            expect(record[key], `${stream.name}.${key}`).not.toBeUndefined();
            expect(record[key], `${stream.name}.${key}`).not.toBeNull();
          }
          // A record without a cursor value is only allowed where the stream says it lands.
          if (stream.incremental && stream.incremental.onMissingCursor !== 'land') {
            const { cursorField, cursorType } = stream.incremental;
            expect(cursorOf(record, cursorField, cursorType)).not.toBeUndefined();
          }
        }
      }
    });

    it('only yields records at or after the cursor it is given (the cursor moves forward)', async () => {
      for (const stream of await streams()) {
        const incremental = stream.incremental;
        if (!incremental) continue;
        const first = await readAll(stream, incremental.initialValue, maxRecords);
        const since = maxCursor(first, incremental);
        expect(since).not.toBeUndefined();
        const initial = normalizeCursor(incremental.initialValue, 'initialValue', incremental.cursorType)!;
        expect(compareCursor(since!, initial, incremental.cursorType)).toBeGreaterThanOrEqual(0);
        const again = await readAll(stream, since, maxRecords);
        for (const record of again) {
          expect(
            orderFrom(record, incremental, since!),
            `${stream.name} cursor ${String(record[incremental.cursorField])} < ${since}`,
          ).toBeGreaterThanOrEqual(0);
        }
        expect(again.length).toBeLessThanOrEqual(first.length);
      }
    });

    it('resumes from a committed cursor and finds what changed since', async () => {
      const declared = await streams();
      const committed = new Map<string, CursorValue>();
      for (const stream of declared) {
        if (!stream.incremental) continue;
        const first = await readAll(stream, stream.incremental.initialValue, maxRecords);
        const max = maxCursor(first, stream.incremental);
        if (max !== undefined) committed.set(stream.name, max);
      }
      if (options.mutate) await options.mutate();
      for (const stream of await streams()) {
        const since = committed.get(stream.name);
        if (!stream.incremental || since === undefined) continue;
        const resumed = await readAll(stream, since, maxRecords);
        const incremental = stream.incremental;
        for (const record of resumed) {
          expect(orderFrom(record, incremental, since)).toBeGreaterThanOrEqual(0);
        }
        if (options.mutate) {
          const newer = resumed.filter((r) => orderFrom(r, incremental, since) > 0);
          expect(newer.length, `${stream.name}: changes after ${since}`).toBeGreaterThan(0);
        }
      }
    });

    it('stops reading promptly when its signal aborts', async () => {
      for (const stream of await streams()) await expectPromptAbort(stream, options.abortWithinMs);
    });
  });
}
