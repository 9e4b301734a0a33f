/**
 * The compaction job (ADR 0009, amendment; docs/push.md, "Compaction"):
 * rewrites the small files of a push table's partition into target-size
 * files and switches the partition to them in one catalog call.
 *
 * For one partition, under the source's lease and the partition's lease
 * (which a late push lander into that day also takes):
 *
 *   1. plan from the listing of the current version `v<n>/` (compaction.ts);
 *   2. write the rewritten files under `_staging/` ('staged');
 *   3. write the compaction manifest `_manifests/<source>/compaction/<stream>/dt=<date>.json`
 *      with every input, output and row count ('manifest-written') — from
 *      here a crash rolls forward;
 *   4. move the outputs into `v<n+1>/`, copy the files kept as they are,
 *      and check that `v<n+1>/` holds exactly the planned files with as
 *      many rows as `v<n>/` ('published');
 *   5. commit point: one catalog call points the partition at `v<n+1>/`
 *      ('switched'), then the manifest is marked switched ('marked');
 *   6. a later run, once the grace period has passed since the switch,
 *      deletes `v<n>/` and the manifest ('old-deleted', 'cleaned').
 *
 * A crash before step 3 leaves staged files a rerun overwrites (outputs are
 * derived from the plan). A manifest still `planned` is rolled forward when
 * its staged or moved files are all there, else rolled back (the location
 * never moved). Readers follow the partition's location only, so they see
 * `v<n>/` or `v<n+1>/`, never both, never neither; `v<n>/` stays for the
 * grace period for the readers that planned before the switch.
 */
import { randomBytes } from 'node:crypto';
import { readManifest } from './commit.js';
import { type CompactionOptions, compactedFileKey, planCompaction, rewriteParquet } from './compaction.js';
import { CompactionError, LeaseHeldError } from './errors.js';
import {
  compactionManifestKey,
  compactionStagingKey,
  partitionOf,
  pendingManifestPrefix,
  tableLocation,
  versionOfLocation,
} from './layout.js';
import { type HeldLease, takeLease } from './lease.js';
import { decodeStruct, intField } from './parquet/thrift.js';
import { Partitioning, type TableDefinition } from './ports.js';
import { partitionLeaseName, publishPushManifest, shardOfManifest, versionLocation } from './push.js';
import type { SyncDeps } from './run.js';

export type CompactionPhase =
  | 'staged'
  | 'manifest-written'
  | 'published'
  | 'switched'
  | 'marked'
  | 'old-deleted'
  | 'cleaned';

export interface CompactionJobOptions extends CompactionOptions {
  /** How long superseded files stay after the switch, for queries planned before it. @default 3600000 */
  readonly graceMs?: number;
  /**
   * Partitions younger than this many days are left alone: pushes land into
   * today's partition without the partition lease. At least 2. @default 2
   */
  readonly minAgeDays?: number;
  /** @default 'snappy' */
  readonly compression?: 'snappy' | 'zstd';
  /** @default 120000 */
  readonly leaseTtlMs?: number;
  /** How long to wait for a lease another holder has (a sync, a late push); then the partition waits for the next run. @default 5000 */
  readonly leaseWaitMs?: number;
  readonly signal?: AbortSignal;
  /** Called after each step; tests inject crashes here. */
  readonly onPhase?: (phase: CompactionPhase, at: PartitionRef) => void | Promise<void>;
}

export interface PartitionRef {
  readonly source: string;
  readonly stream: string;
  readonly partition: string;
}

export const CompactionOutcome = {
  /** Switched to a new version. */
  compacted: 'COMPACTED',
  /** Nothing worth rewriting. */
  unchanged: 'UNCHANGED',
  /** A switched partition whose old version waits for the grace period to end. */
  waiting: 'WAITING',
  /** Another holder had a lease; tried again next run. */
  busy: 'BUSY',
  failed: 'FAILED',
} as const;
export type CompactionOutcome = (typeof CompactionOutcome)[keyof typeof CompactionOutcome];

export interface PartitionCompaction extends PartitionRef {
  readonly outcome: CompactionOutcome;
  /** The version readers follow after this run. */
  readonly version?: number;
  readonly filesBefore?: number;
  readonly filesAfter?: number;
  readonly rows?: number;
  /** What an earlier run left that this one finished: `rolled-forward`, `rolled-back`, `cleaned`. */
  readonly recovered?: readonly string[];
  readonly error?: string;
}

export interface SourceCompaction {
  readonly source: string;
  readonly partitions: readonly PartitionCompaction[];
}

interface ManifestInput {
  readonly key: string;
  readonly rows: number;
}

interface ManifestOutput {
  /** Undefined for a kept file (copied, not rewritten). */
  readonly staging?: string;
  readonly final: string;
  readonly rows: number;
  /** The input keys it holds (a kept file: itself). */
  readonly inputs: readonly string[];
}

/** What a compaction of one partition intends, and how far it got. */
export interface CompactionManifest {
  readonly format: 'compaction/1';
  readonly source: string;
  readonly stream: string;
  readonly partition: string;
  readonly from: number;
  readonly to: number;
  readonly fromLocation: string;
  readonly toLocation: string;
  readonly inputs: readonly ManifestInput[];
  readonly outputs: readonly ManifestOutput[];
  readonly rows: number;
  readonly state: 'planned' | 'switched';
  readonly createdAt: string;
  readonly switchedAt?: string;
}

const DAY_MS = 86_400_000;
const encoder = new TextEncoder();

/** Rows of a Parquet file, from its footer. */
export function parquetRowCount(bytes: Uint8Array): number {
  const magic = (at: number) =>
    bytes[at] === 0x50 && bytes[at + 1] === 0x41 && bytes[at + 2] === 0x52 && bytes[at + 3] === 0x31;
  if (bytes.length < 12 || !magic(0) || !magic(bytes.length - 4)) {
    throw new CompactionError('not a Parquet file (no PAR1 magic)');
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
  const start = bytes.length - 8 - length;
  if (start < 4) throw new CompactionError('Parquet footer length is out of range');
  return Number(intField(decodeStruct(bytes.subarray(start, bytes.length - 8)), 3) ?? 0n);
}

/** Compacts every registered partition of a source old enough; one partition's failure does not stop the others. */
export async function compactSource(
  deps: SyncDeps,
  source: string,
  options: CompactionJobOptions = {},
): Promise<SourceCompaction> {
  const clock = deps.clock ?? (() => new Date());
  const minAgeDays = options.minAgeDays ?? 2;
  if (!Number.isInteger(minAgeDays) || minAgeDays < 2) {
    throw new CompactionError(
      `minAgeDays must be an integer of at least 2 (pushes land into today's partition without a lease), got ${minAgeDays}`,
    );
  }
  const newest = partitionOf(new Date(clock().getTime() - minAgeDays * DAY_MS));
  let held: HeldLease;
  try {
    held = await takeLease(deps.state, source, leaseOptions(options, 'compact'), options.signal);
  } catch (error) {
    if (!(error instanceof LeaseHeldError)) throw error;
    return { source, partitions: [{ source, stream: '*', partition: '*', outcome: CompactionOutcome.busy }] };
  }
  const results: PartitionCompaction[] = [];
  try {
    const tables = (await deps.catalog.listTables(source)).filter(
      (t) => t.partitioning === Partitioning.registered,
    );
    for (const table of tables) {
      for (const { partition } of await deps.catalog.listPartitions(source, table.stream)) {
        if (partition > newest) continue;
        // Out of time (the handler's deadline): the rest waits for the next run rather than start and abort.
        if (options.signal?.aborted) break;
        results.push(await compactPartition(deps, table, partition, { ...options, signal: held.signal }));
      }
    }
  } finally {
    await held.release();
  }
  return { source, partitions: results };
}

/**
 * Compacts one partition of a push table (finishing or undoing what an
 * earlier run left first). Takes the partition's lease; the caller holds the
 * source's (compactSource does).
 */
export async function compactPartition(
  deps: SyncDeps,
  table: TableDefinition,
  partition: string,
  options: CompactionJobOptions = {},
): Promise<PartitionCompaction> {
  const ref: PartitionRef = { source: table.source, stream: table.stream, partition };
  let held: HeldLease;
  try {
    held = await takeLease(
      deps.state,
      partitionLeaseName(table.source, partition),
      leaseOptions(options, 'compact'),
      options.signal,
    );
  } catch (error) {
    if (!(error instanceof LeaseHeldError)) throw error;
    return { ...ref, outcome: CompactionOutcome.busy };
  }
  try {
    return await compactHeld(deps, ref, { ...options, signal: held.signal });
  } catch (error) {
    // One partition's failure (a lost lease, a throttled call) stops only it; its manifest tells the next run where to resume.
    return {
      ...ref,
      outcome: CompactionOutcome.failed,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await held.release();
  }
}

function leaseOptions(options: CompactionJobOptions, what: string) {
  return {
    owner: `${what}/${randomBytes(4).toString('hex')}`,
    ttlMs: options.leaseTtlMs ?? 120_000,
    waitMs: options.leaseWaitMs ?? 5_000,
    keep: false,
  };
}

async function compactHeld(
  deps: SyncDeps,
  ref: PartitionRef,
  options: CompactionJobOptions,
): Promise<PartitionCompaction> {
  const { source, stream, partition } = ref;
  const clock = deps.clock ?? (() => new Date());
  const phase = async (name: CompactionPhase) => options.onPhase?.(name, ref);
  const recovered: string[] = [];
  await rollForwardLateBatches(deps, ref);

  let location = await currentLocation(deps, ref);
  const manifestKey = compactionManifestKey(source, stream, partition);
  let manifest = await readCompactionManifest(deps, manifestKey);
  if (manifest?.state === 'planned') {
    const forward = await canRollForward(deps, manifest, location);
    if (forward) {
      await publishAndSwitch(deps, manifest, location, options, phase);
      manifest = { ...manifest, state: 'switched', switchedAt: clock().toISOString() };
      recovered.push('rolled-forward');
      location = manifest.toLocation;
    } else {
      await rollBack(deps, manifest);
      manifest = undefined;
      recovered.push('rolled-back');
    }
  }
  if (manifest?.state === 'switched') {
    const age = clock().getTime() - Date.parse(manifest.switchedAt ?? manifest.createdAt);
    if (age < (options.graceMs ?? 3_600_000)) {
      return { ...ref, outcome: CompactionOutcome.waiting, version: manifest.to, recovered };
    }
    await deps.objects.deletePrefix(manifest.fromLocation);
    await phase('old-deleted');
    await deps.objects.delete(manifestKey);
    await phase('cleaned');
    recovered.push('cleaned');
  }

  const version = versionOfLocation(location);
  if (version === undefined) {
    throw new CompactionError(
      `partition ${partition} of ${source}.${stream} is at ${location}, not a version`,
    );
  }
  const listing = (await deps.objects.list(location)).filter((o) => o.key.endsWith('.parquet'));
  const plan = planCompaction(version, listing, options);
  if (!plan) {
    return { ...ref, outcome: CompactionOutcome.unchanged, version, filesBefore: listing.length, recovered };
  }
  const toLocation = versionLocation(source, stream, partition, plan.to);
  // Leftovers of an attempt that never wrote its manifest: nothing reads them.
  await deps.objects.deletePrefix(toLocation);
  await deps.objects.deletePrefix(
    compactionStagingKey(source, stream, partition, plan.to, 0).replace(/[^/]+$/, ''),
  );

  const inputs: ManifestInput[] = [];
  const outputs: ManifestOutput[] = [];
  for (const group of plan.groups) {
    const files: { key: string; bytes: Uint8Array }[] = [];
    for (const key of group) {
      const bytes = await mustGet(deps, key);
      inputs.push({ key, rows: parquetRowCount(bytes) });
      files.push({ key, bytes });
    }
    for (const run of sameSchemaRuns(files)) {
      const index = outputs.length;
      const bytes = rewriteParquet(
        run.map((f) => f.bytes),
        options.compression ?? 'snappy',
      );
      const staging = compactionStagingKey(source, stream, partition, plan.to, index);
      await deps.objects.put(staging, bytes);
      outputs.push({
        staging,
        final: compactedFileKey(tableLocation(source, stream), partition, plan, index),
        rows: parquetRowCount(bytes),
        inputs: run.map((f) => f.key),
      });
    }
  }
  for (const key of plan.kept) {
    const rows = parquetRowCount(await mustGet(deps, key));
    inputs.push({ key, rows });
    outputs.push({ final: `${toLocation}${key.slice(location.length)}`, rows, inputs: [key] });
  }
  await phase('staged');
  const planned: CompactionManifest = {
    format: 'compaction/1',
    source,
    stream,
    partition,
    from: plan.from,
    to: plan.to,
    fromLocation: location,
    toLocation,
    inputs,
    outputs,
    rows: inputs.reduce((sum, i) => sum + i.rows, 0),
    state: 'planned',
    createdAt: clock().toISOString(),
  };
  if (outputs.reduce((sum, o) => sum + o.rows, 0) !== planned.rows) {
    throw new CompactionError(
      `rewrite of ${partition} of ${source}.${stream} produced ${outputs.reduce((s, o) => s + o.rows, 0)} rows from ${planned.rows}`,
    );
  }
  options.signal?.throwIfAborted();
  await deps.objects.put(manifestKey, encoder.encode(JSON.stringify(planned)));
  await phase('manifest-written');
  await publishAndSwitch(deps, planned, location, options, phase);
  return {
    ...ref,
    outcome: CompactionOutcome.compacted,
    version: plan.to,
    filesBefore: listing.length,
    filesAfter: outputs.length,
    rows: planned.rows,
    recovered,
  };
}

/** Steps 4 and 5: move, copy, check, switch, mark. Idempotent. */
async function publishAndSwitch(
  deps: SyncDeps,
  manifest: CompactionManifest,
  location: string,
  options: CompactionJobOptions,
  phase: (name: CompactionPhase) => Promise<void>,
): Promise<void> {
  const { source, stream, partition } = manifest;
  if (location !== manifest.toLocation) {
    for (const output of manifest.outputs) {
      if (output.staging !== undefined) {
        await deps.objects.move(output.staging, output.final);
      } else {
        await deps.objects.put(output.final, await mustGet(deps, output.inputs[0] as string));
      }
    }
    const problem = await verify(deps, manifest);
    if (problem !== undefined) {
      // The location never moved: undo, so the next run plans again from what readers see.
      await rollBack(deps, manifest);
      throw new CompactionError(`${problem}: not switched, rolled back`);
    }
    await phase('published');
    options.signal?.throwIfAborted();
    await deps.catalog.switchPartition(source, stream, partition, manifest.fromLocation, manifest.toLocation);
  }
  await phase('switched');
  const clock = deps.clock ?? (() => new Date());
  const switched: CompactionManifest = { ...manifest, state: 'switched', switchedAt: clock().toISOString() };
  await deps.objects.put(
    compactionManifestKey(source, stream, partition),
    encoder.encode(JSON.stringify(switched)),
  );
  await phase('marked');
}

/** What is wrong with the new version, if anything: it must hold exactly the planned files, with the rows of the old one. */
async function verify(deps: SyncDeps, manifest: CompactionManifest): Promise<string | undefined> {
  const present = (await deps.objects.list(manifest.toLocation))
    .filter((o) => o.key.endsWith('.parquet'))
    .map((o) => o.key)
    .sort();
  const planned = manifest.outputs.map((o) => o.final).sort();
  if (JSON.stringify(present) !== JSON.stringify(planned)) {
    return `${manifest.toLocation} holds ${present.length} files, the plan ${planned.length}`;
  }
  let rows = 0;
  for (const key of planned) rows += parquetRowCount(await mustGet(deps, key));
  if (rows !== manifest.rows) {
    return `${manifest.toLocation} holds ${rows} rows, ${manifest.fromLocation} ${manifest.rows}`;
  }
  return undefined;
}

/** A planned manifest can finish when the partition is still at its source (or already switched) and every output exists somewhere. */
async function canRollForward(
  deps: SyncDeps,
  manifest: CompactionManifest,
  location: string,
): Promise<boolean> {
  if (location === manifest.toLocation) return true;
  if (location !== manifest.fromLocation) {
    throw new CompactionError(
      `partition ${manifest.partition} of ${manifest.source}.${manifest.stream} is at ${location}, ` +
        `but its compaction manifest moves it from ${manifest.fromLocation}: inspect the manifest`,
    );
  }
  for (const output of manifest.outputs) {
    const candidates =
      output.staging === undefined ? [output.final, ...output.inputs] : [output.staging, output.final];
    let found = false;
    for (const key of candidates) if (await exists(deps, key)) found = true;
    if (!found) return false;
  }
  return true;
}

/** Undoes a compaction that never switched: readers never left `from`, so its new version and staging go. */
async function rollBack(deps: SyncDeps, manifest: CompactionManifest): Promise<void> {
  await deps.objects.deletePrefix(manifest.toLocation);
  for (const output of manifest.outputs) if (output.staging) await deps.objects.delete(output.staging);
  await deps.objects.delete(compactionManifestKey(manifest.source, manifest.stream, manifest.partition));
}

/**
 * Publishes push batches that crashed after their commit point into this
 * partition, so none lands into the old version after the switch. Landers
 * into the day hold the partition's lease, which this run holds now.
 */
async function rollForwardLateBatches(deps: SyncDeps, ref: PartitionRef): Promise<void> {
  const marker = `/${ref.stream}/${ref.partition}/`;
  for (const object of await deps.objects.list(pendingManifestPrefix(ref.source))) {
    const manifest = await readManifest(deps.objects, object.key);
    if (!manifest || shardOfManifest(manifest) === undefined) continue;
    if (manifest.streams.some((s) => s.files.some((f) => f.final.includes(marker)))) {
      await publishPushManifest(deps, manifest);
    }
  }
}

async function currentLocation(deps: SyncDeps, ref: PartitionRef): Promise<string> {
  const found = (await deps.catalog.listPartitions(ref.source, ref.stream)).find(
    (p) => p.partition === ref.partition,
  );
  if (!found) {
    throw new CompactionError(`partition ${ref.partition} of ${ref.source}.${ref.stream} is not registered`);
  }
  return found.location;
}

async function readCompactionManifest(deps: SyncDeps, key: string): Promise<CompactionManifest | undefined> {
  const bytes = await deps.objects.get(key);
  if (!bytes) return undefined;
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as CompactionManifest;
  if (manifest.format !== 'compaction/1') {
    throw new CompactionError(
      `${key} is not a compaction manifest this version reads (${String(manifest.format)})`,
    );
  }
  return manifest;
}

async function mustGet(deps: SyncDeps, key: string): Promise<Uint8Array> {
  const bytes = await deps.objects.get(key);
  if (!bytes) throw new CompactionError(`${key} vanished during compaction`);
  return bytes;
}

async function exists(deps: SyncDeps, key: string): Promise<boolean> {
  return (await deps.objects.list(key)).some((o) => o.key === key);
}

/** Splits a group by schema (a column added between batches), each part in the group's order: one output per part. */
function sameSchemaRuns<T extends { bytes: Uint8Array }>(files: readonly T[]): T[][] {
  const runs = new Map<string, T[]>();
  for (const file of files) {
    const signature = schemaSignature(file.bytes);
    runs.set(signature, [...(runs.get(signature) ?? []), file]);
  }
  return [...runs.values()];
}

/** The footer's schema elements (names, types, repetition) as text: equal for files a concatenation can join. */
function schemaSignature(bytes: Uint8Array): string {
  const length = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
  const meta = decodeStruct(bytes.subarray(bytes.length - 8 - length, bytes.length - 8));
  const schema = meta.fields.find((f) => f.id === 2);
  return JSON.stringify(schema?.value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}
