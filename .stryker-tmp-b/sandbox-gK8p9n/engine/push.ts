/**
 * Landing pushed records (docs/push.md, ADR 0009): one micro-batch of one
 * Kinesis shard for one source is one run of one slice, published with the
 * commit protocol of commit.ts.
 *
 * No duplicates when Kinesis redelivers: every shard keeps a high-water mark
 * (the highest sequence number landed) as the cursor of a pseudo-stream
 * `mark__<shard>`, advanced by compare-and-set inside the same manifest
 * that moves the files. A redelivered record at or below the mark is
 * dropped; a crash after the commit point is rolled forward (by the next
 * batch of the shard or by the monitor) before anything else lands, so the
 * mark and the files move together. Run ids and keys derive from the shard
 * and the sequence range, so a retry before the commit point rewrites the
 * same staged keys.
 *
 * Shards land in parallel: each holds its own lease (`<source>__<shard>`),
 * never the source's, and each has its own mark.
 */
// @ts-nocheck

import { createHash } from 'node:crypto';
import type { SourceRecord, Stream } from '../connectors/sdk/types.js';
import {
  type ManifestStream,
  publishManifest,
  type RunManifest,
  readManifest,
  writePendingManifest,
} from './commit.js';
import { estimateRunCost } from './cost.js';
import { ValidationError } from './errors.js';
import { landStreamSlice } from './land-stream.js';
import { partitionOf, pendingManifestPrefix } from './layout.js';
import { takeLease } from './lease.js';
import { type RunRecord, RunStatus, type SourceDefinition, type StreamRunStats } from './ports.js';
import { DEFAULT_ROW_GROUP_BYTES, type SyncDeps } from './run.js';
import { emptyStats, StreamStatus } from './run-state.js';

export interface PushedRecord {
  readonly stream: string;
  readonly data: SourceRecord;
  /** The Kinesis sequence number: a decimal string, increasing within a shard. */
  readonly sequenceNumber: string;
  /** When Kinesis accepted the record (fixes the `dt=` partition, the same on every redelivery). */
  readonly arrivedAt: Date;
}

export interface PushBatch {
  readonly source: SourceDefinition;
  /** The source's declared streams (connectors/push). */
  readonly streams: readonly Stream[];
  /** `<stream ARN>/<shard id>` (or a bare shard id): whose sequence numbers these are. */
  readonly shardId: string;
  /** In sequence order, as Kinesis delivers them. */
  readonly records: readonly PushedRecord[];
}

export type PushPhase = 'staged' | 'manifest-written' | 'published';

export interface PushOptions {
  /** @default 134217728 */
  readonly targetFileBytes?: number;
  /** @default 65536 */
  readonly rowGroupRows?: number;
  /** @default 120000 */
  readonly leaseTtlMs?: number;
  /** How long to wait for the shard's lease (another invocation landing the same shard). @default 30000 */
  readonly leaseWaitMs?: number;
  readonly signal?: AbortSignal;
  /** The function's memory, for the run's cost estimate. @default 1769 */
  readonly memoryMb?: number;
  /** Called at each step; tests inject crashes here. */
  readonly onPhase?: (phase: PushPhase, runId: string) => void | Promise<void>;
}

export interface PushResult {
  /** Undefined when every record was landed before (a redelivery). */
  readonly runId: string | undefined;
  readonly landed: number;
  /** Records at or below the shard's high-water mark: landed by an earlier delivery, dropped. */
  readonly duplicates: number;
  readonly streams: Readonly<Record<string, StreamRunStats>>;
  /** Pending manifests of this shard an earlier, crashed invocation left, published first. */
  readonly recovered: readonly string[];
}

/** `__` never occurs in a source or push stream name, so these names cannot collide with real ones. */
const SHARD_STREAM_PREFIX = 'mark__';

/**
 * A shard as a state name: `<stream ARN>/shardId-000000000001` →
 * `s1a2b3c4d_shardid_000000000001`. Shard ids repeat across streams (and a
 * re-created stream starts its sequence numbers again), so the stream is
 * part of the name.
 */
function shardPart(shardId: string): string {
  const cut = shardId.lastIndexOf('/');
  const tail = shardId
    .slice(cut + 1)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_');
  if (cut < 0) return tail;
  return `s${createHash('sha256').update(shardId.slice(0, cut)).digest('hex').slice(0, 8)}_${tail}`;
}

/** The pseudo-stream whose cursor is a shard's high-water mark. */
export function shardMarkStream(shardId: string): string {
  return `${SHARD_STREAM_PREFIX}${shardPart(shardId)}`;
}

/** The lease a shard's lander holds: distinct from the source's, so shards land in parallel. */
export function shardLeaseName(source: string, shardId: string): string {
  return `${source}__${shardPart(shardId)}`;
}

/** Orders Kinesis sequence numbers (decimal strings up to 128 bits). */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A run id from the batch's first arrival and its shard and sequence range: the same on every redelivery. */
export function pushRunId(arrivedAt: Date, shardId: string, first: string, last: string): string {
  const stamp = arrivedAt.toISOString().replace(/[-:.]/g, '');
  const hash = createHash('sha256').update(`${shardId}\n${first}\n${last}`).digest('hex').slice(0, 12);
  return `${stamp}-p${hash}`;
}

function runRecordOf(
  manifest: RunManifest,
  startedAt: string,
  endedAt: string,
  durationMs: number,
): RunRecord {
  const streams: Record<string, StreamRunStats> = {};
  for (const stream of manifest.streams) {
    if (stream.name.startsWith(SHARD_STREAM_PREFIX)) continue;
    streams[stream.name] = {
      ...emptyStats(false, null),
      rows: stream.files.reduce((sum, f) => sum + f.rows, 0),
      bytes: stream.files.reduce((sum, f) => sum + f.bytes, 0),
      files: stream.files.length,
      durationMs,
      schemaChanges:
        stream.table?.schemaVersions.at(-1)?.runId === manifest.runId
          ? [...(stream.table.schemaVersions.at(-1)?.changes ?? [])]
          : [],
    };
  }
  return {
    runId: manifest.runId,
    source: manifest.source,
    status: RunStatus.succeeded,
    startedAt,
    endedAt,
    streams,
    slices: 1,
  };
}

/** The shard a push manifest advances, if it is one. */
export function shardOfManifest(manifest: RunManifest): string | undefined {
  const mark = manifest.streams.find((s) => s.name.startsWith(SHARD_STREAM_PREFIX));
  return mark?.name.slice(SHARD_STREAM_PREFIX.length);
}

/** Publishes a push batch's manifest (idempotent) and records its run, as the lander would have. */
export async function publishPushManifest(deps: SyncDeps, manifest: RunManifest): Promise<void> {
  await publishManifest(deps, manifest);
  const now = (deps.clock ?? (() => new Date()))().toISOString();
  await deps.state.putRun(runRecordOf(manifest, manifest.createdAt, now, 0));
}

/**
 * Publishes pending push manifests of a source (of one shard, or all) and
 * records their runs. Idempotent; callers hold the shard's lease, or (the
 * monitor) only take manifests older than any live lander could leave.
 */
export async function rollForwardPush(
  deps: SyncDeps,
  source: string,
  filter: { readonly shardId?: string; readonly olderThan?: Date } = {},
): Promise<string[]> {
  const rolled: string[] = [];
  for (const object of await deps.objects.list(pendingManifestPrefix(source))) {
    const manifest = await readManifest(deps.objects, object.key);
    if (!manifest) continue;
    const shard = shardOfManifest(manifest);
    if (shard === undefined) continue;
    if (filter.shardId !== undefined && shard !== shardPart(filter.shardId)) continue;
    if (filter.olderThan && new Date(manifest.createdAt) > filter.olderThan) continue;
    await publishPushManifest(deps, manifest);
    rolled.push(manifest.runId);
  }
  return rolled;
}

/** Lands one shard's micro-batch for one source, exactly once. */
export async function landPushBatch(
  deps: SyncDeps,
  batch: PushBatch,
  options: PushOptions = {},
): Promise<PushResult> {
  const clock = deps.clock ?? (() => new Date());
  const source = batch.source.name;
  const declared = new Map(batch.streams.map((s) => [s.name, s]));
  for (const record of batch.records) {
    if (!declared.has(record.stream)) {
      throw new ValidationError(
        `stream "${record.stream}" is not declared by push source "${source}"; declared: ${[...declared.keys()].join(', ')}`,
        { field: 'stream' },
      );
    }
  }
  const held = await takeLease(
    deps.state,
    shardLeaseName(source, batch.shardId),
    {
      owner: `push/${batch.shardId}/${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 8)}`,
      ttlMs: options.leaseTtlMs ?? 120_000,
      waitMs: options.leaseWaitMs ?? 30_000,
      keep: false,
    },
    options.signal,
  );
  try {
    const recovered = await rollForwardPush(deps, source, { shardId: batch.shardId });
    const markStream = shardMarkStream(batch.shardId);
    const mark = await deps.state.getCursor(source, markStream);
    const markValue = mark.cursor === undefined ? undefined : String(mark.cursor.value);
    const fresh = batch.records.filter(
      (r) => markValue === undefined || compareSequence(r.sequenceNumber, markValue) > 0,
    );
    const duplicates = batch.records.length - fresh.length;
    const first = fresh[0];
    const last = fresh.at(-1);
    if (!first || !last) return { runId: undefined, landed: 0, duplicates, streams: {}, recovered };

    const started = Date.now();
    const startedAt = clock().toISOString();
    const runId = pushRunId(first.arrivedAt, batch.shardId, first.sequenceNumber, last.sequenceNumber);
    const byStream = new Map<string, SourceRecord[]>();
    for (const record of fresh) {
      const list = byStream.get(record.stream) ?? [];
      list.push(record.data);
      byStream.set(record.stream, list);
    }
    const settings = {
      source,
      runId,
      slice: 1,
      partition: partitionOf(first.arrivedAt),
      targetFileBytes: options.targetFileBytes ?? 128 * 1024 * 1024,
      rowGroupRows: options.rowGroupRows ?? 65_536,
      rowGroupBytes: DEFAULT_ROW_GROUP_BYTES,
      compression: 'snappy' as const,
      progressIntervalMs: 3_600_000,
    };
    const streams: ManifestStream[] = [];
    for (const [name, records] of byStream) {
      const stream = declared.get(name) as Stream;
      const pushed: Stream = {
        ...stream,
        read: async function* () {
          yield records;
        },
      };
      const result = await landStreamSlice(
        { ...deps, clock },
        settings,
        pushed,
        {
          name,
          status: StreamStatus.pending,
          nextPart: 0,
          advanced: false,
          committed: emptyStats(false, null),
        },
        {
          signal: held.signal,
          shouldStop: () => false,
          onFileWritten: () => undefined,
          onProgress: () => undefined,
        },
      );
      if (!result.manifest) continue;
      // A batch that changed no schema leaves the catalog alone: another shard may have evolved it meanwhile.
      const table = result.manifest.table;
      const ours = table?.schemaVersions.at(-1)?.runId === runId;
      const { table: _table, ...rest } = result.manifest;
      streams.push(ours ? result.manifest : rest);
    }
    await options.onPhase?.('staged', runId);
    const manifest: RunManifest = {
      format: 2,
      runId,
      source,
      createdAt: clock().toISOString(),
      slice: 1,
      streams: [
        ...streams,
        {
          name: markStream,
          files: [],
          cursor: { expectedVersion: mark.version, next: { value: last.sequenceNumber, keysAtValue: [] } },
        },
      ],
    };
    held.signal.throwIfAborted();
    await writePendingManifest(deps.objects, manifest);
    await options.onPhase?.('manifest-written', runId);
    await publishManifest(deps, manifest);
    await options.onPhase?.('published', runId);
    const durationMs = Date.now() - started;
    const run: RunRecord = {
      ...runRecordOf(manifest, startedAt, clock().toISOString(), durationMs),
      cost: estimateRunCost({
        lambdaMs: durationMs,
        memoryMb: options.memoryMb ?? 1769,
        requests: 1,
        stateTransitions: 0,
      }),
    };
    await deps.state.putRun(run);
    return { runId, landed: fresh.length, duplicates, streams: run.streams, recovered };
  } finally {
    await held.release();
  }
}
