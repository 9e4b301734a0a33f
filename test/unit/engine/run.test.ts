/**
 * The run's first step and its helpers on their own: stream selection, the
 * errors' messages, what beginRun records when it starts, continues or fails,
 * and a checkpoint handed to the wrong source.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalBackend, openLocalBackend } from '../../../adapters/local/index.js';
import { sampleConnector } from '../../../connectors/sample/index.js';
import { silentLogger } from '../../../connectors/sdk/logger.js';
import type { Connector, Stream } from '../../../connectors/sdk/types.js';
import { ValidationError } from '../../../engine/errors.js';
import { stagingFileKey } from '../../../engine/layout.js';
import type { RunRecord } from '../../../engine/ports.js';
import {
  beginRun,
  RunInterruptedError,
  runSlice,
  SyncError,
  type SyncPhase,
  selectStreams,
} from '../../../engine/run.js';
import { readRunState } from '../../../engine/run-state.js';
import { SAMPLE_CONFIG, sampleSource } from '../../support/lake.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const RUN = '20260301T000000000Z-aaaaaa';

let home: string;
let backend: LocalBackend;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-run-'));
  backend = await openLocalBackend(home);
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const deps = () => ({
  objects: backend.objects,
  state: backend.state,
  catalog: backend.catalog,
  logger: silentLogger,
  clock: () => NOW,
});
const step = (extra: Record<string, unknown> = {}) => ({
  source: sampleSource(),
  connector: sampleConnector as Connector<never>,
  config: SAMPLE_CONFIG,
  runId: RUN,
  ...extra,
});

describe('selectStreams', () => {
  const streams = [{ name: 'a' }, { name: 'b' }, { name: 'c' }] as unknown as Stream[];

  it('selects every stream when none or an empty list is asked for, else those asked for in that order', () => {
    expect(selectStreams(streams, undefined).map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(selectStreams(streams, []).map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(selectStreams(streams, ['c', 'a']).map((s) => s.name)).toEqual(['c', 'a']);
  });

  it('names an unknown stream and the available ones', () => {
    expect(() => selectStreams(streams, ['a', 'zz'])).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        field: 'streams',
        message: 'stream "zz" does not exist; available: a, b, c',
      }),
    );
  });
});

describe('run errors', () => {
  it('say which run of which source failed or was interrupted, and how many slices stay', () => {
    const run: RunRecord = {
      runId: 'r1',
      source: 'shop',
      status: 'FAILED',
      startedAt: '',
      streams: {},
      error: 'boom',
    };
    const checkpoint = (slice: number) => ({ source: 'shop', runId: 'r1', slice }) as never;

    expect(new SyncError(run)).toMatchObject({
      name: 'SyncError',
      run,
      message: 'run r1 of source "shop" failed: boom',
    });
    expect(new RunInterruptedError(checkpoint(1))).toMatchObject({
      name: 'RunInterruptedError',
      message:
        'run r1 of source "shop" was interrupted; 1 finished slice stays published and the next sync continues it',
    });
    expect(new RunInterruptedError(checkpoint(2)).message).toBe(
      'run r1 of source "shop" was interrupted; 2 finished slices stay published and the next sync continues it',
    );
  });
});

describe('beginRun', () => {
  it('records the run RUNNING with no slice and the streams from their committed cursors, and reports its phases', async () => {
    // Prepare
    const phases: Array<[SyncPhase, unknown]> = [];

    // Act
    const logged: unknown[] = [];
    const logger = { ...silentLogger, info: (...args: unknown[]) => logged.push(args) };
    const checkpoint = await beginRun(
      { ...deps(), logger },
      step({ onPhase: (name: SyncPhase, detail: unknown) => phases.push([name, detail]) }),
    );

    // Assess
    expect(checkpoint).toMatchObject({ source: 'shop', runId: RUN, slice: 0, done: false });
    const run = await backend.state.getRun('shop', RUN);
    expect(run).toMatchObject({ status: 'RUNNING', startedAt: NOW.toISOString(), slices: 0 });
    expect(run).not.toHaveProperty('recovered');
    expect(Object.keys(run?.streams ?? {}).length).toBeGreaterThan(0);
    for (const stream of (await readRunState(backend.objects, 'shop', RUN))?.streams ?? []) {
      expect(stream).toMatchObject({ status: 'pending', nextPart: 0, advanced: false });
    }
    expect(checkpoint.continued).toBeFalsy();
    expect(logged).toEqual([]);
    expect(phases).toEqual([
      ['lease-acquired', { runId: RUN }],
      ['recovered', { runId: RUN }],
    ]);
    expect(await backend.state.getLease('shop')).toBeUndefined();
  });

  it('continues the unfinished run instead of starting one, keeping its record', async () => {
    // Prepare
    await beginRun(deps(), step());

    // Act
    const checkpoint = await beginRun(deps(), step({ runId: '20260301T000100000Z-bbbbbb' }));

    // Assess
    expect(checkpoint).toMatchObject({ runId: RUN, slice: 0, continued: true });
    expect(await backend.state.getRun('shop', '20260301T000100000Z-bbbbbb')).toBeUndefined();
    const run = await backend.state.getRun('shop', RUN);
    expect(run).toMatchObject({ status: 'RUNNING', startedAt: NOW.toISOString(), slices: 0 });
    expect(run).not.toHaveProperty('recovered');
  });

  it('starts each stream from its committed cursor, incremental only where one is committed', async () => {
    // Prepare: 'customers' made a full-refresh stream that still has a cursor from before
    const connector = {
      ...sampleConnector,
      streams: async (config: never) =>
        (await sampleConnector.streams(config)).map((s) =>
          s.name === 'customers' ? { ...s, incremental: undefined } : s,
        ),
    } as unknown as Connector<never>;
    await backend.state.commitCursor('shop', 'customers', 0, { value: 'old', keysAtValue: [] });
    await backend.state.commitCursor('shop', 'events', 0, {
      value: '2026-01-05T00:00:00.000Z',
      keysAtValue: [],
    });

    // Act
    await beginRun(deps(), step({ connector }));

    // Assess
    const streams = (await backend.state.getRun('shop', RUN))?.streams ?? {};
    expect(streams.customers).toMatchObject({ incremental: false, cursorFrom: 'old' });
    expect(streams.events).toMatchObject({ incremental: true, cursorFrom: '2026-01-05T00:00:00.000Z' });
    const others = Object.entries(streams).filter(([name]) => name !== 'events' && name !== 'customers');
    expect(others.length).toBeGreaterThan(0);
    for (const [, stats] of others) expect(stats).toMatchObject({ incremental: false, cursorFrom: null });
  });

  it('records and logs what recovery found, when starting and when continuing', async () => {
    // Prepare: a dead run's staged file, found by each begin
    const dead = '20260228T000000000Z-dddddd';
    const logged: Array<[string, unknown]> = [];
    const logger = {
      ...silentLogger,
      info: (message: string, extra?: unknown) => logged.push([message, extra]),
    };
    const leftover = () =>
      backend.objects.put(stagingFileKey('shop', dead, 'events', 0), new Uint8Array([1]));
    await leftover();

    // Act
    await beginRun({ ...deps(), logger }, step());
    await leftover();
    await beginRun({ ...deps(), logger }, step({ runId: '20260301T000100000Z-bbbbbb' }));

    // Assess
    expect((await backend.state.getRun('shop', RUN))?.recovered).toEqual([
      `${dead} (rolled back)`,
      `${dead} (rolled back)`,
    ]);
    expect(logged).toEqual([
      ['recovered unfinished runs', { source: 'shop', recovered: [`${dead} (rolled back)`] }],
      ['recovered unfinished runs', { source: 'shop', recovered: [`${dead} (rolled back)`] }],
      ['continuing unfinished run', { source: 'shop', runId: RUN, slice: 0 }],
    ]);
  });

  it('fails the run, naming the cause, forgets its state and frees the lease when it cannot start', async () => {
    // Act
    const error = await beginRun(deps(), step({ streams: ['no_such_stream'] })).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).cause).toBeInstanceOf(ValidationError);
    const run = await backend.state.getRun('shop', RUN);
    expect(run).toMatchObject({ status: 'FAILED', endedAt: NOW.toISOString() });
    expect(run?.error).toMatch(/^stream "no_such_stream" does not exist; available: /);
    expect(await readRunState(backend.objects, 'shop', RUN)).toBeUndefined();
    expect(await backend.state.getLease('shop')).toBeUndefined();
  });

  it('keeps the lease across steps when asked to, under the owner it is given', async () => {
    // Act
    await beginRun(deps(), step({ keepLease: true, leaseOwner: 'owner-1', leaseTtlMs: 60_000 }));

    // Assess
    const lease = await backend.state.getLease('shop');
    expect(lease?.owner).toBe('owner-1');
    expect(lease?.expiresAt).toBeGreaterThan(Date.now() + 30_000);
    expect(lease?.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
  });
});

describe('runSlice', () => {
  it('refuses a checkpoint of another source, naming both', async () => {
    // Prepare
    const checkpoint = await beginRun(deps(), step());

    // Act
    const error = await runSlice(deps(), { ...checkpoint, source: 'crm' }, step()).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'ValidationError',
      field: 'checkpoint.source',
      message: `checkpoint of run ${RUN} belongs to source "crm", not "shop"`,
    });
  });
});
