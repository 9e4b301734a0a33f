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
 *
 * Push tables have registered partitions (ADR 0009, amendment): a batch
 * lands into its partition's current version directory
 * (`dt=<date>/v<nnnnn>/`), registering the partition at `v00000/` before its
 * commit point when it is new. Compaction only rewrites partitions at least
 * two days old; a batch landing into a day before today (a late redelivery)
 * holds that partition's lease (`<source>__dt<yyyymmdd>`), as compaction
 * does, so the two never overlap.
 */
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
import { ConflictError, ValidationError } from './errors.js';
import { landStreamSlice } from './land-stream.js';
import {
  partitionOf,
  partitionVersion,
  pendingManifestPrefix,
  tableLocation,
  versionOfLocation,
} from './layout.js';
import { type HeldLease, leaseOwnerFor, takeLease } from './lease.js';
import { type StreamMasker, streamMasker } from './masking.js';
import {
  type Catalog,
  Partitioning,
  type RunRecord,
  RunStatus,
  type SchemaVersion,
  type SecretStore,
  type SourceDefinition,
  type StreamRunStats,
  type TableDefinition,
} from './ports.js';
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
  /**
   * The source's pii salt, resolved from the secret store (`pushSalt`):
   * required when the source masks a field of a pushed stream, or nothing lands.
   */
  readonly piiSalt?: string;
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
  /** How long a late batch waits for its partition's lease (a compaction of that day). @default 600000 */
  readonly partitionLeaseWaitMs?: number;
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

/**
 * The lease of one day's partitions of a source: held by compaction, and by
 * a lander landing into a day before today. `dt=2026-11-27` → `<source>__dt20261127`.
 */
export function partitionLeaseName(source: string, partition: string): string {
  return `${source}__${partition.replace(/[=-]/g, '')}`;
}

/** The lake prefix of one version of a partition: `raw/<source>/<stream>/dt=<date>/v<nnnnn>/`. */
export function versionLocation(source: string, stream: string, partition: string, version: number): string {
  return `${tableLocation(source, stream)}${partitionVersion(partition, version)}/`;
}

/**
 * The version a batch lands into: the partition's registered one (created
 * at v00000 when the table exists), else v00000 (a table's first batch).
 */
async function landingVersion(
  catalog: Catalog,
  source: string,
  stream: string,
  partition: string,
): Promise<number> {
  if ((await catalog.getTable(source, stream)) === undefined) return 0;
  const location = await catalog.ensurePartition(
    source,
    stream,
    partition,
    versionLocation(source, stream, partition, 0),
  );
  const version = versionOfLocation(location);
  if (version === undefined) {
    throw new ConflictError(
      `partition ${partition} of ${source}.${stream} is registered at ${location}, not a version directory`,
    );
  }
  return version;
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
        stream.schemaChanges !== undefined
          ? [...stream.schemaChanges]
          : // A manifest written before schemas were stored under the table's lease carries its table.
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

/**
 * Whether files written by `written` read under `stored`: every column of
 * `written` is in `stored` with its type (or INT32 under BIGINT, ADR 0006),
 * and every field is named as `written` named it.
 */
function readsFilesOf(stored: SchemaVersion, written: SchemaVersion): boolean {
  const types = new Map(stored.columns.map((c) => [c.name, c.type]));
  const columnsRead = written.columns.every((c) => {
    const type = types.get(c.name);
    return type === c.type || (type === 'bigint' && c.type === 'int');
  });
  return (
    columnsRead &&
    Object.entries(written.names ?? {}).every(([field, column]) => stored.names?.[field] === column)
  );
}

/** The lease under which a schema change of one push table is checked and stored. */
export function schemaLeaseName(source: string, stream: string): string {
  return `${source}__schema__${stream}`;
}

/**
 * Shards infer a stream's schema each on their own. Two that add or change a
 * column at once (one sees `10`, another `10.5`) would each write files by
 * their own schema, and the last catalog write would leave the other's files
 * of a type the column cannot read (Athena: HIVE_BAD_DATA). So a batch
 * stores its schema change only over the version it landed against, checked
 * under the table's lease. If another shard changed the table meanwhile, a
 * schema that reads this batch's files stays as it is (false: nothing
 * stored); any other makes the batch fail before its commit point, and its
 * retry lands against the schema stored now (the value that no longer fits
 * goes to a variant column).
 */
async function storeSchemaChange(
  deps: SyncDeps,
  table: TableDefinition,
  runId: string,
  options: PushOptions,
  signal: AbortSignal,
): Promise<boolean> {
  const lease = await takeLease(
    deps.state,
    schemaLeaseName(table.source, table.stream),
    {
      owner: leaseOwnerFor(`push/${runId}`),
      ttlMs: options.leaseTtlMs ?? 120_000,
      waitMs: 30_000,
      keep: false,
    },
    signal,
  );
  try {
    // Stored over a version this batch's table builds on: the one it landed on, or one this batch
    // stored itself in an attempt that stopped before its commit point.
    const stored = (await deps.catalog.getTable(table.source, table.stream))?.schemaVersions.at(-1);
    if (
      stored &&
      !table.schemaVersions.some((v) => v.version === stored.version && v.runId === stored.runId)
    ) {
      // Another shard changed it. If its schema reads these files (two shards inferring the same new
      // columns), there is nothing to store; otherwise the batch lands again against it.
      if (readsFilesOf(stored, table.schemaVersions.at(-1)!)) return false;
      throw new ConflictError(
        `the schema of ${table.source}.${table.stream} changed (version ${stored.version}, by ${stored.runId}) while batch ${runId} landed; the batch is retried against the new schema`,
      );
    }
    lease.signal.throwIfAborted();
    await deps.catalog.putTable(table);
    return true;
  } finally {
    await lease.release();
  }
}

/** Salts read, per secret store, by reference: a reference names one write (ADR 0015), so it never goes stale. */
const saltsRead = new WeakMap<object, Map<string, string>>();

/**
 * The pii salt a push batch of the source needs (`PushBatch.piiSalt`): read
 * from the secret store when the source masks any field, else undefined
 * (no secret is read for a source that masks nothing). Read once per
 * reference: a warm consumer does not call the secret store for every batch.
 */
export async function pushSalt(
  source: SourceDefinition,
  secrets: Pick<SecretStore, 'get'>,
): Promise<string | undefined> {
  const masks = Object.values(source.pii ?? {}).some((fields) => Object.keys(fields).length > 0);
  if (!masks || source.piiSalt === undefined) return undefined;
  const ref = source.piiSalt.$secret;
  let read = saltsRead.get(secrets);
  if (!read) {
    read = new Map();
    saltsRead.set(secrets, read);
  }
  const known = read.get(ref);
  if (known !== undefined) return known;
  const salt = await secrets.get(ref);
  read.set(ref, salt);
  return salt;
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
  // Masked before anything else sees a record (engine/masking.ts), as pulled streams are; a source
  // that masks a field but has no salt fails here, before anything lands.
  const maskers = new Map<string, StreamMasker>();
  const pushed = new Set(batch.records.map((r) => r.stream));
  for (const stream of batch.streams.filter((s) => pushed.has(s.name))) {
    const masker = streamMasker(source, stream, batch.source.pii, batch.piiSalt);
    if (masker) maskers.set(stream.name, masker);
  }
  const held = await takeLease(
    deps.state,
    shardLeaseName(source, batch.shardId),
    {
      owner: leaseOwnerFor(`push/${batch.shardId}`),
      ttlMs: options.leaseTtlMs ?? 120_000,
      waitMs: options.leaseWaitMs ?? 30_000,
      keep: false,
    },
    options.signal,
  );
  let partitionHeld: HeldLease | undefined;
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
    const partition = partitionOf(first.arrivedAt);
    // A late batch (a day before today) may meet a compaction of its partition: hold the partition's lease.
    partitionHeld =
      partition < partitionOf(clock())
        ? await takeLease(
            deps.state,
            partitionLeaseName(source, partition),
            {
              owner: leaseOwnerFor(`push/${runId}`),
              ttlMs: options.leaseTtlMs ?? 120_000,
              waitMs: options.partitionLeaseWaitMs ?? 600_000,
              keep: false,
            },
            held.signal,
          )
        : undefined;
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
      partition,
      targetFileBytes: options.targetFileBytes ?? 128 * 1024 * 1024,
      rowGroupRows: options.rowGroupRows ?? 65_536,
      rowGroupBytes: DEFAULT_ROW_GROUP_BYTES,
      compression: 'snappy' as const,
      progressIntervalMs: 3_600_000,
    };
    const streams: ManifestStream[] = [];
    const landed: { name: string; location: string }[] = [];
    for (const [name, records] of byStream) {
      const stream = declared.get(name) as Stream;
      const version = await landingVersion(deps.catalog, source, name, partition);
      const pushed: Stream = {
        ...stream,
        read: async function* () {
          yield records;
        },
      };
      const masker = maskers.get(name);
      const result = await landStreamSlice(
        { ...deps, clock },
        {
          ...settings,
          partition: partitionVersion(partition, version),
          ...(masker ? { masker } : {}),
        },
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
      streams.push(
        ours && table
          ? { ...result.manifest, table: { ...table, partitioning: Partitioning.registered } }
          : rest,
      );
      landed.push({ name, location: versionLocation(source, name, partition, version) });
    }
    await options.onPhase?.('staged', runId);
    // Register each partition before the commit point, so published files are never outside every partition.
    for (const { name, location } of landed) {
      const at = streams.findIndex((s) => s.name === name);
      const { table, ...withoutTable } = streams[at]!;
      if (table) {
        const stored = await storeSchemaChange(deps, table, runId, options, held.signal);
        // Stored here, under the table's lease, never by publishing: a manifest published later (or
        // rolled forward by another shard or the monitor) must not put back a schema older than the one
        // stored by then. It keeps only what the run report says changed.
        streams[at] = stored
          ? { ...withoutTable, schemaChanges: [...(table.schemaVersions.at(-1)?.changes ?? [])] }
          : withoutTable;
      }
      const registered = await deps.catalog.ensurePartition(source, name, partition, location);
      if (registered !== location) {
        throw new ConflictError(
          `partition ${partition} of ${source}.${name} moved to ${registered} while batch ${runId} landed into ${location}; the batch is retried`,
        );
      }
    }
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
    await partitionHeld?.release();
    await held.release();
  }
}
