/**
 * Exactly-once when more records share the committed cursor value than the
 * state item keeps inline (500): their keys live in the run's committed
 * manifest (`keysRef`), so a crash around that manifest — after the cursor
 * commit, while writing it, before the pending one is removed — must still
 * leave the next run able to drop every tie it already landed. The expected
 * lake is the source's own ground truth: every version it ever showed, once.
 */
// @ts-nocheck

import { afterEach, describe, expect, it } from 'vitest';
import type { Connector, SourceRecord, Stream } from '../../../connectors/sdk/types.js';
import { committedManifestKey, pendingManifestKey, sliceManifestId } from '../../../engine/layout.js';
import type { ObjectStore, SourceDefinition } from '../../../engine/ports.js';
import type { SyncPhase } from '../../../engine/sync.js';
import { openTestLake, type TestLake } from '../../support/lake.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
/** The value 700 records share after the first fill, and later more. */
const TIE = at(3600);
const LATER_TIE = at(7200);

interface Tick {
  readonly id: number;
  readonly at: string;
  readonly label: string;
}

/** A source whose table is `ticks`: reads everything at or after `since`, in cursor order. */
class TickSource {
  public rows: Tick[] = [];
  /** Every version the source ever showed: what the lake must hold, once each. */
  public readonly shown: string[] = [];

  public set(ticks: readonly Tick[]): void {
    const byId = new Map(this.rows.map((t) => [t.id, t]));
    for (const tick of ticks) {
      byId.set(tick.id, tick);
      this.shown.push(versionOf(tick));
    }
    this.rows = [...byId.values()].sort((a, b) => a.at.localeCompare(b.at) || a.id - b.id);
  }

  public readonly connector: Connector<never> = {
    type: 'ticks',
    description: 'ticks with many ties',
    configSchema: { type: 'object', properties: {} },
    check: async () => ({ ok: true }),
    streams: (): Stream[] => [
      {
        name: 'ticks',
        primaryKey: ['id'],
        writeDisposition: 'merge',
        incremental: { cursorField: 'at', initialValue: at(0) },
        read: (ctx) => this.read(String(ctx.since)),
      },
    ],
  };

  private async *read(since: string): AsyncGenerator<SourceRecord[]> {
    const from = Date.parse(since);
    const rows = this.rows.filter((t) => Date.parse(t.at) >= from);
    for (let i = 0; i < rows.length; i += 100) yield rows.slice(i, i + 100).map((t) => ({ ...t }));
  }
}

function versionOf(tick: { id: unknown; at: unknown; label: unknown }): string {
  return `${Number(tick.id)}|${new Date(String(tick.at)).toISOString()}|${String(tick.label)}`;
}

/** A sync without a slice limit is one slice: its manifests are those of slice 1. */
const onlySlice = (runId: string): string => sliceManifestId(runId, 1);

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Object store that fails one operation on one key, once. */
function failingOnce(
  objects: ObjectStore,
  op: 'put' | 'delete',
  matches: (key: string) => boolean,
): ObjectStore {
  let armed = true;
  const trip = (key: string): void => {
    if (armed && matches(key)) {
      armed = false;
      throw new Error(`injected ${op} failure on ${key}`);
    }
  };
  return {
    put: async (key, body) => {
      if (op === 'put') trip(key);
      return objects.put(key, body);
    },
    get: (key) => objects.get(key),
    list: (prefix) => objects.list(prefix),
    move: (from, to) => objects.move(from, to),
    delete: async (key) => {
      if (op === 'delete') trip(key);
      return objects.delete(key);
    },
    deletePrefix: (prefix, keep) => objects.deletePrefix(prefix, keep),
    uri: (key) => objects.uri(key),
  };
}

interface ManifestFault {
  readonly name: string;
  readonly onPhase?: (phase: SyncPhase) => void;
  readonly objects?: (objects: ObjectStore) => ObjectStore;
}

const FAULTS: readonly ManifestFault[] = [
  {
    name: 'after the cursor commit, before the committed manifest is written',
    onPhase: (phase) => {
      if (phase === 'cursors-committed') throw new Error('injected fault after the cursor commit');
    },
  },
  {
    name: 'while the committed manifest is written',
    objects: (objects) => failingOnce(objects, 'put', (key) => key.startsWith('_manifests/ticks/committed/')),
  },
  {
    name: 'after the committed manifest, before the pending one is removed',
    objects: (objects) =>
      failingOnce(objects, 'delete', (key) => key.startsWith('_manifests/ticks/pending/')),
  },
];

const lakes: TestLake[] = [];
afterEach(async () => {
  await Promise.all(lakes.splice(0).map((l) => l.dispose()));
});

async function landed(lake: TestLake): Promise<string[]> {
  const rows = await lake.query('SELECT id, "at", label FROM ticks.ticks');
  return rows.map((r) => versionOf(r as { id: unknown; at: unknown; label: unknown })).sort();
}

describe('exactly-once with more than 500 records at the committed cursor value', () => {
  for (const fault of FAULTS) {
    it(`drops every tie it landed before when a sync fails ${fault.name}`, async () => {
      // Prepare: 300 distinct cursor values, then 700 records at TIE; the first sync lands them all.
      const source = new TickSource();
      const now = new Date().toISOString();
      const definition: SourceDefinition = {
        name: 'ticks',
        type: 'ticks',
        config: {},
        createdAt: now,
        updatedAt: now,
      };
      const lake = await openTestLake(definition, source.connector, {});
      lakes.push(lake);
      source.set(range(1, 300).map((id) => ({ id, at: at(id), label: 'v1' })));
      source.set(range(301, 1000).map((id) => ({ id, at: TIE, label: 'v1' })));
      const first = await lake.sync();
      const firstCursor = await lake.backend.state.getCursor('ticks', 'ticks');

      // Act: 200 more at TIE, then a sync that fails around its committed manifest
      source.set(range(1001, 1200).map((id) => ({ id, at: TIE, label: 'v1' })));
      const failing = await lake
        .sync(
          fault.onPhase ? { onPhase: fault.onPhase } : {},
          fault.objects ? { objects: fault.objects(lake.backend.objects) } : {},
        )
        .then(
          () => undefined,
          (error: unknown) => error as Error,
        );
      const failedRun = (await lake.backend.state.listRuns('ticks')).find((r) => r.runId !== first.runId)!;
      const cursorAfterFailure = await lake.backend.state.getCursor('ticks', 'ticks');
      const pendingAfterFailure = (await lake.backend.objects.list('_manifests/ticks/pending/')).map(
        (o) => o.key,
      );
      // 600 at a later shared value, and 5 of the first records updated to it
      source.set(range(1201, 1800).map((id) => ({ id, at: LATER_TIE, label: 'v1' })));
      source.set(range(1, 5).map((id) => ({ id, at: LATER_TIE, label: 'v2' })));
      const retry = await lake.sync();
      const followUp = await lake.sync();

      // Assess: the failure came after the cursor moved, with the tie keys kept by reference
      expect(failing?.message).toMatch(/injected/);
      expect(firstCursor.cursor).toMatchObject({
        value: TIE,
        keysRef: committedManifestKey('ticks', onlySlice(first.runId)),
      });
      expect(cursorAfterFailure.cursor).toMatchObject({
        value: TIE,
        keysRef: committedManifestKey('ticks', onlySlice(failedRun.runId)),
      });
      expect(pendingAfterFailure).toEqual([pendingManifestKey('ticks', onlySlice(failedRun.runId))]);
      // The next run rolls the failed one forward, so its committed manifest (the keys) is in place
      expect(retry.recovered).toEqual([`${failedRun.runId} (rolled forward)`]);
      expect(
        await lake.backend.objects.get(committedManifestKey('ticks', onlySlice(failedRun.runId))),
      ).toBeDefined();
      expect(await lake.backend.objects.list('_manifests/ticks/pending/')).toEqual([]);
      expect((await lake.backend.state.getRun('ticks', failedRun.runId))?.status).toBe('SUCCEEDED');
      // 900 ties at TIE re-read and dropped; 605 new versions at LATER_TIE
      expect(retry.streams.ticks).toMatchObject({ rows: 605, skipped: 900 });
      expect(followUp.streams.ticks).toMatchObject({ rows: 0, skipped: 605 });
      expect(await landed(lake)).toEqual([...source.shown].sort());
      expect(await lake.backend.objects.list('_staging/')).toEqual([]);
    });
  }
});
