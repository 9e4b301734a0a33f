/**
 * The run's steps on their own, fast, with a two-stream connector of three rows
 * each on the local backend: stream selection, the errors' messages, what
 * beginRun records when it starts, continues, fails or is interrupted; runSlice's
 * budget, deadline reserve, publishing, failures, interruption, lease loss,
 * restarts and retries; finishRun's record and refusals. They pin down the
 * branches mutation testing measures (bench/results/2026-11-27-mutation.md, run 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalBackend, openLocalBackend } from '../../../adapters/local/index.js';
import { sampleConnector } from '../../../connectors/sample/index.js';
import { TransientError } from '../../../connectors/sdk/errors.js';
import { silentLogger } from '../../../connectors/sdk/logger.js';
import {
  type Connector,
  checkpoint as position,
  ResumeUnavailableError,
  type Stream,
} from '../../../connectors/sdk/types.js';
import { LeaseHeldError, SluiceError, ValidationError } from '../../../engine/errors.js';
import {
  committedManifestKey,
  sliceManifestId,
  stagingFileKey,
  stagingPrefix,
} from '../../../engine/layout.js';
import type { RunRecord } from '../../../engine/ports.js';
import {
  beginRun,
  finishRun,
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

/** What each stream's reads were asked to resume from, in order. */
let read: Record<string, unknown[]> = {};
beforeEach(() => {
  read = {};
});

/** Called at the start of each read of stream `a` (its number, from 1): may throw. */
let beforeReadA: (readNumber: number, resumeFrom: unknown) => void = () => undefined;
beforeEach(() => {
  beforeReadA = () => undefined;
});

/** Two append streams `a` and `b` of three rows each, with a checkpoint after every row (but a's last). */
function tinyConnector(only?: readonly string[]): Connector<never> {
  const stream = (name: string): Stream => ({
    name,
    primaryKey: [],
    writeDisposition: 'append',
    columns: { i: 'int' },
    async *read(ctx) {
      read[name] = [...(read[name] ?? []), ctx.resumeFrom];
      if (name === 'a') {
        beforeReadA(read[name].length, ctx.resumeFrom);
        ctx.reportTotal?.(3);
      }
      for (let i = Number(ctx.resumeFrom?.i ?? 0) + 1; i <= 3; i++) {
        yield { i };
        // a ends without a checkpoint after its last row: it cannot stop before its end there
        if (name === 'b' || i < 3) yield position({ i });
      }
    },
  });
  return {
    type: 'sample',
    description: 'two tiny streams',
    configSchema: { type: 'object', properties: {} },
    check: async () => ({ ok: true }),
    streams: () => ['a', 'b'].filter((name) => only?.includes(name) ?? true).map(stream),
  } as unknown as Connector<never>;
}

const failAt = (phase: SyncPhase) => (name: SyncPhase) => {
  if (name === phase) throw new Error(`failed at ${phase}`);
};

const tiny = ({ only, ...extra }: Record<string, unknown> & { only?: string[] } = {}) =>
  step({ connector: tinyConnector(only), ...extra }) as never;

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

  it('is interrupted, keeping the run unfinished, when stopped while continuing a run with published slices', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    await runSlice(deps(), begun, tiny({ sliceRows: 1 }));
    const controller = new AbortController();
    const stop = (name: SyncPhase) => {
      if (name === 'recovered') {
        controller.abort();
        throw new Error('stopped');
      }
    };

    // Act
    const error = await beginRun(
      deps(),
      tiny({ runId: '20260301T000100000Z-bbbbbb', signal: controller.signal, onPhase: stop }),
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RunInterruptedError);
    expect((error as RunInterruptedError).checkpoint).toEqual({
      source: 'shop',
      runId: RUN,
      slice: 1,
      done: false,
    });
    expect((error as RunInterruptedError).cause).toMatchObject({ message: 'stopped' });
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'RUNNING', slices: 1 });
    expect(await readRunState(backend.objects, 'shop', RUN)).toMatchObject({ slice: 1 });
  });

  it('fails a run stopped by its signal before any slice is published', async () => {
    // Prepare
    const controller = new AbortController();
    const stop = (name: SyncPhase) => {
      if (name === 'recovered') {
        controller.abort();
        throw new Error('stopped');
      }
    };
    await beginRun(deps(), tiny());

    // Act
    const error = await beginRun(
      deps(),
      tiny({ runId: '20260301T000100000Z-bbbbbb', signal: controller.signal, onPhase: stop }),
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SyncError);
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'FAILED', error: 'stopped' });
    expect(await readRunState(backend.objects, 'shop', RUN)).toBeUndefined();
  });

  it('touches nothing when it lost the lease to another holder while stopped', async () => {
    // Prepare: the step is stopped and learns that another owner holds the lease
    const controller = new AbortController();
    const lost = (name: SyncPhase) => {
      if (name === 'recovered') {
        controller.abort();
        throw new LeaseHeldError({ source: 'shop', owner: 'thief', expiresAt: Date.now() + 60_000 });
      }
    };

    // Act
    const error = await beginRun(deps(), tiny({ signal: controller.signal, onPhase: lost })).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(LeaseHeldError);
    expect(await backend.state.getRun('shop', RUN)).toBeUndefined();
  });

  it('fails the run on a lease error that is not its own lease being lost', async () => {
    // Prepare: not stopped, so the lease error comes from elsewhere (here: the phase hook)
    const other = (name: SyncPhase) => {
      if (name === 'recovered') throw new LeaseHeldError({ source: 'crm', owner: 'x', expiresAt: 0 });
    };

    // Act
    const error = await beginRun(deps(), tiny({ onPhase: other })).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SyncError);
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'FAILED' });
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
  it('lands rows up to its row budget, publishes them and goes on next time from the position it reached', async () => {
    // Prepare
    const phases: Array<[SyncPhase, unknown]> = [];
    const options = tiny({
      sliceRows: 2,
      onPhase: (name: SyncPhase, detail: unknown) => phases.push([name, detail]),
    });
    const begun = await beginRun(deps(), options);
    phases.length = 0;

    // Act
    const first = await runSlice(deps(), begun, options);
    const second = await runSlice(deps(), first, options);

    // Assess
    expect(first).toEqual({ source: 'shop', runId: RUN, slice: 1, done: false });
    expect(second).toEqual({ source: 'shop', runId: RUN, slice: 2, done: false });
    expect(phases.map(([name]) => name)).toContain('file-written');
    expect(phases).toContainEqual(['files-written', { runId: RUN, slice: 1 }]);
    expect(phases).toContainEqual(['manifest-written', { runId: RUN, slice: 2 }]);
    expect(phases).toContainEqual(['slice-committed', { runId: RUN, slice: 2 }]);
    expect(phases.filter(([name]) => name === 'file-written')[0]?.[1]).toMatchObject({
      runId: RUN,
      slice: 1,
      stream: 'a',
      file: expect.stringContaining(stagingPrefix('shop', RUN)),
    });
    const run = await backend.state.getRun('shop', RUN);
    expect(run).toMatchObject({ status: 'RUNNING', slices: 2 });
    expect(run?.streams.a).toMatchObject({ rows: 3 });
    // b's first row is staged, not yet published: a stream's rows count once it is done
    expect(run?.streams.b).toMatchObject({ rows: 0 });
    expect(read.a).toEqual([undefined, { i: 2 }]);
    expect(read.b).toEqual([undefined]);
    expect(await backend.state.getLease('shop')).toBeUndefined();
  });

  it('lands every stream in one slice without a budget or deadline, then says it is done', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());

    // Act
    const done = await runSlice(deps(), begun, tiny());
    const again = await runSlice(deps(), done, tiny());

    // Assess
    expect(done).toEqual({ source: 'shop', runId: RUN, slice: 1, done: true });
    expect(again).toEqual(done);
    const run = await backend.state.getRun('shop', RUN);
    expect(run?.streams.a).toMatchObject({ rows: 3 });
    expect(run?.streams.b).toMatchObject({ rows: 3 });
  });

  it('lands one row when its deadline has passed or the reserve takes all the time left', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());

    // Act
    const late = await runSlice(deps(), begun, tiny({ deadline: Date.now() - 1000 }));
    const reserved = await runSlice(deps(), late, tiny({ deadline: Date.now() + 60_000, reserveMs: 60_000 }));

    // Assess
    expect(late).toMatchObject({ slice: 1, done: false });
    expect(reserved).toMatchObject({ slice: 2, done: false });
    expect(read.a).toEqual([undefined, { i: 1 }]);
  });

  it('keeps a fifth of the time left, at most 30 s, for publishing', async () => {
    // Prepare: 2 s left: 0.4 s is kept, so the slice reads on (a 30 s reserve would stop it at once)
    const begun = await beginRun(deps(), tiny());

    // Act
    const short = await runSlice(deps(), begun, tiny({ deadline: Date.now() + 2000, sliceRows: 1000 }));

    // Assess
    expect(short).toMatchObject({ slice: 1, done: true });
  });

  it('stops a fifth of the time left before the deadline, not at the deadline', async () => {
    // Prepare: ten rows, the clock 100 ms further at each; deadline 1,000 ms away, so the reserve is 200 ms
    const begun = await beginRun(deps(), tiny());
    const start = Date.now();
    let now = start;
    const clocked: Stream = {
      name: 'a',
      primaryKey: [],
      writeDisposition: 'append',
      columns: { i: 'int' },
      async *read(ctx) {
        read.a = [...(read.a ?? []), ctx.resumeFrom];
        for (let i = Number(ctx.resumeFrom?.i ?? 0) + 1; i <= 10; i++) {
          now = start + i * 100;
          yield { i };
          yield position({ i });
        }
      },
    };
    const only = tinyConnector(['b']);
    const connector = {
      ...only,
      streams: async (config: never) => [clocked, ...(await only.streams(config))],
    } as Connector<never>;
    // Only the clock the slice reads moves; Date itself stays real (timestamps are Dates).
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);

    // Act
    const slice = await runSlice(deps(), begun, step({ connector, deadline: start + 1000 }) as never).finally(
      () => clock.mockRestore(),
    );

    // Assess: the slice ends at the checkpoint after row 8 (800 ms), before the stream's end
    expect(slice).toMatchObject({ slice: 1, done: false });
    const resumed = await runSlice(deps(), slice, step({ connector }) as never);
    expect(resumed).toMatchObject({ slice: 2, done: true });
    expect(read.a).toEqual([undefined, { i: 8 }]);
  });

  it('masks the fields the source marks pii in what it lands', async () => {
    // Prepare: stream a's `i` redacted
    const source = { ...sampleSource(), pii: { a: { i: 'redact' } } };
    const begun = await beginRun(deps(), tiny({ source, piiSalt: 'salt' }));

    // Act
    await runSlice(deps(), begun, tiny({ source, piiSalt: 'salt' }));

    // Assess
    const engine = await backend.openQueryEngine();
    try {
      const a = await engine.query('SELECT count(*) AS "rows", count(i) AS "kept" FROM shop.a');
      const b = await engine.query('SELECT count(*) AS "rows", count(i) AS "kept" FROM shop.b');
      expect(a.rows.map((r) => [Number(r.rows), Number(r.kept)])).toEqual([[3, 0]]);
      expect(b.rows.map((r) => [Number(r.rows), Number(r.kept)])).toEqual([[3, 3]]);
    } finally {
      await engine.close();
    }
  });

  it('fails the run, naming the stream, when the connector no longer offers it, and forgets the slice', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const first = await runSlice(deps(), begun, tiny({ sliceRows: 4 }));

    // Act
    const error = await runSlice(deps(), first, tiny({ only: ['a'] })).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).cause).toMatchObject({
      name: 'ValidationError',
      field: 'streams',
      message: `stream "b" of run ${RUN} is no longer offered by the connector`,
    });
    const run = await backend.state.getRun('shop', RUN);
    expect(run).toMatchObject({
      status: 'FAILED',
      endedAt: NOW.toISOString(),
      slices: 1,
      error: `stream "b" of run ${RUN} is no longer offered by the connector`,
    });
    expect(run?.streams.a).toMatchObject({ rows: 3 });
    expect(await readRunState(backend.objects, 'shop', RUN)).toBeUndefined();
    expect(await backend.objects.list(stagingPrefix('shop', RUN))).toEqual([]);
    expect(await backend.state.getLease('shop')).toBeUndefined();
  });

  it('fails before its commit point by forgetting the staged slice and the run state, naming the cause', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const boom = (name: SyncPhase) => {
      if (name === 'files-written') throw new Error('disk full');
    };

    // Act
    const error = await runSlice(deps(), begun, tiny({ onPhase: boom })).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'SyncError',
      message: `run ${RUN} of source "shop" failed: disk full`,
    });
    const run = await backend.state.getRun('shop', RUN);
    expect(run).toMatchObject({
      status: 'FAILED',
      endedAt: NOW.toISOString(),
      error: 'disk full',
      slices: 0,
    });
    expect(run?.streams.a).toMatchObject({ rows: 0 });
    expect(await readRunState(backend.objects, 'shop', RUN)).toBeUndefined();
    expect(await backend.objects.list(stagingPrefix('shop', RUN))).toEqual([]);
  });

  it('fails after its commit point keeping the slice for the next run to complete, and says so', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const boom = (name: SyncPhase) => {
      if (name === 'manifest-written') throw new Error('network down');
    };

    // Act
    const error = await runSlice(deps(), begun, tiny({ onPhase: boom })).catch((e: unknown) => e);

    // Assess
    const message =
      'network down (after its commit point: the next run of "shop" completes this run\'s commit)';
    expect(error).toMatchObject({
      name: 'SyncError',
      message: `run ${RUN} of source "shop" failed: ${message}`,
    });
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'FAILED', error: message });
    expect(await readRunState(backend.objects, 'shop', RUN)).toBeDefined();
    expect((await backend.objects.list(stagingPrefix('shop', RUN))).length).toBeGreaterThan(0);
  });

  it('is interrupted by its signal before the commit point: keeps earlier slices, drops only its own staged files', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const first = await runSlice(deps(), begun, tiny({ sliceRows: 1 }));
    const staged = (await backend.objects.list(stagingPrefix('shop', RUN))).map((o) => o.key);
    const controller = new AbortController();
    const stop = (name: SyncPhase) => {
      if (name === 'files-written') {
        controller.abort();
        throw new Error('stopped');
      }
    };

    // Act
    const error = await runSlice(deps(), first, tiny({ signal: controller.signal, onPhase: stop })).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(RunInterruptedError);
    expect((error as RunInterruptedError).checkpoint).toEqual({
      source: 'shop',
      runId: RUN,
      slice: 1,
      done: false,
    });
    expect((error as RunInterruptedError).cause).toMatchObject({ message: 'stopped' });
    expect((await backend.objects.list(stagingPrefix('shop', RUN))).map((o) => o.key)).toEqual(staged);
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'RUNNING', slices: 1 });
    expect(await readRunState(backend.objects, 'shop', RUN)).toMatchObject({ slice: 1 });
  });

  it('is interrupted after its commit point: the checkpoint counts the slice being published', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const controller = new AbortController();
    const stop = (name: SyncPhase) => {
      if (name === 'manifest-written') {
        controller.abort();
        throw new Error('stopped');
      }
    };

    // Act
    const error = await runSlice(deps(), begun, tiny({ signal: controller.signal, onPhase: stop })).catch(
      (e: unknown) => e,
    );
    const next = await runSlice(deps(), begun, tiny());

    // Assess
    expect((error as RunInterruptedError).checkpoint).toEqual({
      source: 'shop',
      runId: RUN,
      slice: 1,
      done: false,
    });
    // The next step completes the publication the interrupted one started
    expect(next).toEqual({ source: 'shop', runId: RUN, slice: 1, done: true });
    expect(await readRunState(backend.objects, 'shop', RUN)).toMatchObject({ slice: 1 });
  });

  it('refuses to continue a run that does not exist or failed, naming its status', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    await runSlice(deps(), begun, tiny({ onPhase: failAt('files-written') })).catch(() => undefined);

    // Act
    const failed = await runSlice(deps(), begun, tiny()).catch((e: unknown) => e);
    const missing = await runSlice(deps(), { ...begun, runId: 'nope' }, tiny()).catch((e: unknown) => e);

    // Assess
    expect((failed as SyncError).cause).toMatchObject({
      message: `run ${RUN} of source "shop" cannot be continued (FAILED); start a new run`,
    });
    expect((missing as SyncError).cause).toMatchObject({
      message: 'run nope of source "shop" cannot be continued (no such run); start a new run',
    });
    expect(await backend.state.getRun('shop', 'nope')).toMatchObject({ status: 'FAILED', streams: {} });
  });

  it('answers a finished run as done even while another run of the source is unfinished', async () => {
    // Prepare: run 1 finished, run 2 begun
    const other = '20260301T000100000Z-bbbbbb';
    const begun = await beginRun(deps(), tiny());
    const done = await runSlice(deps(), begun, tiny());
    await finishRun(deps(), done, tiny());
    await beginRun(deps(), tiny({ runId: other }));

    // Act
    const again = await runSlice(deps(), done, tiny());
    const finished = await finishRun(deps(), done, tiny());

    // Assess
    expect(again).toEqual({ source: 'shop', runId: RUN, slice: 1, done: true });
    expect(finished).toMatchObject({ runId: RUN, status: 'SUCCEEDED' });
    expect(await readRunState(backend.objects, 'shop', other)).toMatchObject({ runId: other, slice: 0 });
    expect(await backend.state.getRun('shop', other)).toMatchObject({ status: 'RUNNING', slices: 0 });
  });

  it('answers a finished run with its done checkpoint', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const done = await runSlice(deps(), begun, tiny());
    await finishRun(deps(), done, tiny());

    // Act
    const again = await runSlice(deps(), begun, tiny());

    // Assess
    expect(again).toEqual({ source: 'shop', runId: RUN, slice: 1, done: true });
  });

  it('leaves everything to the holder when another owner holds the lease', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    await backend.state.acquireLease('shop', 'someone-else', 60_000);

    // Act
    const error = await runSlice(deps(), begun, tiny()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LeaseHeldError);
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'RUNNING' });
    expect(await backend.state.getLease('shop')).toMatchObject({ owner: 'someone-else' });
  });

  it('reports progress per stream with the slice and the run', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const progress: unknown[] = [];

    // Act
    await runSlice(
      deps(),
      begun,
      tiny({ progressIntervalMs: 0, onProgress: (p: unknown) => progress.push(p) }),
    );

    // Assess
    expect(progress).toContainEqual(
      expect.objectContaining({ runId: RUN, slice: 1, stream: 'b', done: true }),
    );
    for (const p of progress as Array<{ elapsedMs: number; stream: string }>) {
      expect(p.elapsedMs).toBeGreaterThanOrEqual(0);
      expect(p.elapsedMs).toBeLessThan(60_000);
      // a reports its total, b does not
      if (p.stream === 'a') expect(p).toMatchObject({ totalRows: 3 });
      else expect(p).not.toHaveProperty('totalRows');
    }
  });

  it('does not start a stream once the budget is reached', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());

    // Act: a (3 rows, no checkpoint after its last) ends exactly at the budget
    const first = await runSlice(deps(), begun, tiny({ sliceRows: 3 }));

    // Assess
    expect(first).toMatchObject({ slice: 1, done: false });
    expect(read.b).toBeUndefined();
    expect((await backend.state.getRun('shop', RUN))?.streams.a).toMatchObject({ rows: 3 });
  });

  it('does not read a stream again once it is done', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const first = await runSlice(deps(), begun, tiny({ sliceRows: 4 }));

    // Act
    await runSlice(deps(), first, tiny());

    // Assess
    expect(read.a).toEqual([undefined]);
    expect(read.b).toEqual([undefined, { i: 1 }]);
  });

  it('restarts an unordered stream whose position expired, discarding what the run staged of it', async () => {
    // Prepare: the second read of a cannot resume
    const warned: Array<[string, unknown]> = [];
    const logger = {
      ...silentLogger,
      warn: (message: string, extra?: unknown) => warned.push([message, extra]),
    };
    beforeReadA = (n, from) => {
      if (n === 2 && from !== undefined) throw new ResumeUnavailableError('token expired');
    };
    const begun = await beginRun(deps(), tiny());
    const first = await runSlice(deps(), begun, tiny({ sliceRows: 2 }));
    const stagedBefore = (await readRunState(backend.objects, 'shop', RUN))?.streams[0]?.staged?.files ?? [];

    // Act
    const second = await runSlice({ ...deps(), logger }, first, tiny());

    // Assess
    expect(second).toMatchObject({ slice: 2, done: true });
    expect(read.a).toEqual([undefined, { i: 2 }, undefined]);
    expect(warned).toEqual([
      [
        'the source cannot resume the stream where it stopped; restarting it',
        { stream: 'a', from: 'the run start', error: 'token expired' },
      ],
    ]);
    expect((await backend.state.getRun('shop', RUN))?.streams.a).toMatchObject({ rows: 3 });
    expect(stagedBefore.length).toBeGreaterThan(0);
    const manifest = JSON.parse(
      new TextDecoder().decode(
        await backend.objects.get(committedManifestKey('shop', sliceManifestId(RUN, 2))),
      ),
    );
    expect(manifest.discard).toEqual(stagedBefore.map((f) => f.staging));
    for (const file of stagedBefore) expect(await backend.objects.get(file.staging)).toBeUndefined();
    const plain = JSON.parse(
      new TextDecoder().decode(
        await backend.objects.get(committedManifestKey('shop', sliceManifestId(RUN, 1))),
      ),
    );
    expect(plain).not.toHaveProperty('discard');
  });

  it('restarts a cursor-ascending stream whose position expired from its committed cursor, discarding nothing', async () => {
    // Prepare: stream a made incremental on i, read in cursor order; its second read cannot resume
    const warned: Array<[string, unknown]> = [];
    const logger = {
      ...silentLogger,
      warn: (message: string, extra?: unknown) => warned.push([message, extra]),
    };
    beforeReadA = (n, from) => {
      if (n === 2 && from !== undefined) throw new ResumeUnavailableError('token expired');
    };
    const base = tinyConnector();
    const connector = {
      ...base,
      streams: async (config: never) =>
        (await base.streams(config)).map((s) =>
          s.name === 'a'
            ? { ...s, incremental: { cursorField: 'i', initialValue: 0 }, order: 'cursor-ascending' as const }
            : s,
        ),
    } as unknown as Connector<never>;
    const begun = await beginRun(deps(), step({ connector }));
    const first = await runSlice(deps(), begun, step({ connector, sliceRows: 2 }));

    // Act
    await runSlice({ ...deps(), logger }, first, step({ connector }));

    // Assess
    expect(warned).toEqual([
      [
        'the source cannot resume the stream where it stopped; restarting it',
        { stream: 'a', from: 'committed cursor', error: 'token expired' },
      ],
    ]);
    const manifest = JSON.parse(
      new TextDecoder().decode(
        await backend.objects.get(committedManifestKey('shop', sliceManifestId(RUN, 2))),
      ),
    );
    expect(manifest).not.toHaveProperty('discard');
  });

  it('retries a transient error, waiting what the source asks, and gives up after its attempts', async () => {
    // Prepare
    const warned: unknown[] = [];
    const logger = { ...silentLogger, warn: (m: string, extra?: unknown) => warned.push([m, extra]) };
    beforeReadA = (n) => {
      if (n <= 2) throw new TransientError(`busy ${n}`, { retryAfterMs: 1 });
    };
    const begun = await beginRun(deps(), tiny());

    // Act
    const done = await runSlice({ ...deps(), logger }, begun, tiny());

    // Assess
    expect(done).toMatchObject({ done: true });
    const message = 'transient source error; re-reading the stream from the slice start';
    expect(warned).toEqual([
      [message, { stream: 'a', attempt: 1, delayMs: 1, error: 'busy 1' }],
      [message, { stream: 'a', attempt: 2, delayMs: 1, error: 'busy 2' }],
    ]);
  });

  it('fails a stream that cannot resume when it has no position to give up', async () => {
    // Prepare
    beforeReadA = () => {
      throw new ResumeUnavailableError('snapshot gone');
    };
    const begun = await beginRun(deps(), tiny());

    // Act
    const error = await runSlice(deps(), begun, tiny()).catch((e: unknown) => e);

    // Assess
    expect((error as SyncError).run).toMatchObject({ status: 'FAILED', error: 'snapshot gone' });
  });

  it('fails once the attempts are used up', async () => {
    // Prepare
    beforeReadA = (n) => {
      if (n <= 2) throw new TransientError(`busy ${n}`, { retryAfterMs: 1 });
    };
    const begun = await beginRun(deps(), tiny());

    // Act
    const error = await runSlice(deps(), begun, tiny({ maxStreamAttempts: 2 })).catch((e: unknown) => e);

    // Assess
    expect((error as SyncError).run).toMatchObject({ status: 'FAILED', error: 'busy 2' });
  });

  it('fails at once when the source asks to wait longer than a run waits, naming both waits', async () => {
    // Prepare: 1 ms asked first, then nothing asked (the second back-off: 2 s)
    beforeReadA = (n) => {
      if (n === 1) throw new TransientError('busy', { retryAfterMs: 1 });
      if (n === 2) throw new TransientError('still busy');
    };
    const begun = await beginRun(deps(), tiny());

    // Act
    const error = await runSlice(deps(), begun, tiny({ maxRetryWaitMs: 1500 })).catch((e: unknown) => e);

    // Assess
    expect((error as SyncError).cause).toMatchObject({
      name: 'SluiceError',
      message:
        'stream "a": the source asked to wait 2000 ms before retrying, longer than a run waits (1500 ms): still busy',
      cause: expect.objectContaining({ message: 'still busy' }),
    });
  });

  it('waits exactly as long as a run waits at most', async () => {
    // Prepare
    beforeReadA = (n) => {
      if (n === 1) throw new TransientError('busy', { retryAfterMs: 5 });
    };
    const begun = await beginRun(deps(), tiny());

    // Act
    const done = await runSlice(deps(), begun, tiny({ maxRetryWaitMs: 5 }));

    // Assess
    expect(done).toMatchObject({ done: true });
  });

  it('writes one file per stream and slice by default, whatever its row groups', async () => {
    // Prepare
    const files: unknown[] = [];
    const begun = await beginRun(deps(), tiny());

    // Act
    await runSlice(
      deps(),
      begun,
      tiny({
        rowGroupRows: 1,
        onPhase: (name: SyncPhase, detail: unknown) => name === 'file-written' && files.push(detail),
      }),
    );

    // Assess
    expect(files).toHaveLength(2);
  });

  it('passes each published file to the phase hook with its slice', async () => {
    // Prepare
    const phases: Array<[SyncPhase, unknown]> = [];
    const begun = await beginRun(deps(), tiny());

    // Act
    await runSlice(
      deps(),
      begun,
      tiny({ onPhase: (name: SyncPhase, detail: unknown) => phases.push([name, detail]) }),
    );

    // Assess
    const published = phases.filter(([name]) => name === 'file-published').map(([, detail]) => detail);
    expect(published).toHaveLength(2);
    for (const detail of published)
      expect(detail).toMatchObject({ runId: RUN, slice: 1, file: expect.any(String) });
    expect(phases).toContainEqual(['files-published', { runId: RUN, slice: 1 }]);
  });

  it('leaves the run to the holder when its lease was taken over during the slice', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const steal = async (name: SyncPhase) => {
      if (name === 'files-written') {
        await backend.state.releaseLease('shop', 'me');
        await backend.state.acquireLease('shop', 'thief', 60_000);
      }
    };

    // Act
    const error = await runSlice(deps(), begun, tiny({ leaseOwner: 'me', onPhase: steal })).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(LeaseHeldError);
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'RUNNING', slices: 0 });
    expect(await readRunState(backend.objects, 'shop', RUN)).toMatchObject({ slice: 0 });
    expect(await backend.state.getLease('shop')).toMatchObject({ owner: 'thief' });
  });

  it('leaves the run to the holder when its heartbeat found the lease taken over', async () => {
    // Prepare: the heartbeat (every second at a 3 s ttl) finds the thief, then the step fails
    const begun = await beginRun(deps(), tiny());
    const steal = async (name: SyncPhase) => {
      if (name === 'files-written') {
        await backend.state.releaseLease('shop', 'me');
        await backend.state.acquireLease('shop', 'thief', 60_000);
        await new Promise((resolve) => setTimeout(resolve, 1150));
        throw new Error('noticed late');
      }
    };

    // Act
    const error = await runSlice(
      deps(),
      begun,
      tiny({ leaseOwner: 'me', leaseTtlMs: 3000, onPhase: steal }),
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LeaseHeldError);
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'RUNNING' });
  });

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

describe('finishRun', () => {
  it('records the finished run SUCCEEDED with its slices and streams, forgets its state and frees the lease', async () => {
    // Prepare
    const phases: Array<[SyncPhase, unknown]> = [];
    const begun = await beginRun(deps(), tiny());
    const done = await runSlice(deps(), await runSlice(deps(), begun, tiny({ sliceRows: 2 })), tiny());

    // Act
    const run = await finishRun(
      deps(),
      done,
      tiny({ onPhase: (name: SyncPhase, detail: unknown) => phases.push([name, detail]) }),
    );
    const again = await finishRun(deps(), done, tiny());

    // Assess
    expect(run).toMatchObject({
      runId: RUN,
      source: 'shop',
      status: 'SUCCEEDED',
      endedAt: NOW.toISOString(),
      slices: 2,
    });
    expect(run.streams.a).toMatchObject({ rows: 3 });
    expect(run.streams.b).toMatchObject({ rows: 3 });
    expect(await backend.state.getRun('shop', RUN)).toEqual(run);
    expect(again).toEqual(run);
    expect(await readRunState(backend.objects, 'shop', RUN)).toBeUndefined();
    expect(phases).toContainEqual(['run-recorded', { runId: RUN }]);
    expect(await backend.state.getLease('shop')).toBeUndefined();
  });

  it('refuses a run with streams left to read, naming them', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const first = await runSlice(deps(), begun, tiny({ sliceRows: 1 }));
    const both = await finishRun(deps(), first, tiny()).catch((e: unknown) => e);
    const second = await runSlice(deps(), first, tiny({ sliceRows: 3 }));

    // Act
    const error = await finishRun(deps(), second, tiny()).catch((e: unknown) => e);

    // Assess
    expect(both).toMatchObject({
      message: `run ${RUN} of source "shop" has streams left to read (a, b); run its slices first`,
    });
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({
      message: `run ${RUN} of source "shop" has streams left to read (b); run its slices first`,
    });
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'RUNNING' });
    expect(await backend.state.getLease('shop')).toBeUndefined();
  });

  it('refuses a run that is not unfinished, naming its status', async () => {
    // Act
    const error = await finishRun(
      deps(),
      { source: 'shop', runId: 'nope', slice: 0, done: true },
      tiny(),
    ).catch((e: unknown) => e);
    const other = await finishRun(
      deps(),
      { source: 'crm', runId: 'nope', slice: 0, done: true },
      tiny(),
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ message: 'run nope of source "shop" is not unfinished (no such run)' });
    expect(other).toMatchObject({ name: 'ValidationError', field: 'checkpoint.source' });
  });

  it('names the run and the cause when recording it fails', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const done = await runSlice(deps(), begun, tiny());
    const objects = Object.create(backend.objects) as typeof backend.objects;
    objects.delete = async () => {
      throw new Error('access denied');
    };

    // Act
    const error = await finishRun({ ...deps(), objects }, done, tiny()).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'SluiceError',
      message: `finishing run ${RUN} of "shop" failed: access denied`,
    });
    expect((error as SluiceError).cause).toMatchObject({ message: 'access denied' });
  });

  it('passes on a failure after the run is recorded as it is', async () => {
    // Prepare
    const begun = await beginRun(deps(), tiny());
    const done = await runSlice(deps(), begun, tiny());

    // Act
    const error = await finishRun(deps(), done, tiny({ onPhase: failAt('run-recorded') })).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toMatchObject({ message: 'failed at run-recorded' });
    expect(await backend.state.getRun('shop', RUN)).toMatchObject({ status: 'SUCCEEDED' });
  });
});
