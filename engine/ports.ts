/**
 * Ports: the only way the engine reaches storage. Local adapters implement
 * them on the filesystem and DuckDB; AWS adapters on S3, DynamoDB, Glue and
 * Athena. The engine never imports an adapter.
 */
import type { ColumnType, CursorValue } from '../connectors/sdk/types.js';
import type { RunCost } from './cost.js';
import type { PiiDeclarations } from './masking.js';
import type { QualityDeclarations } from './stages/quality.js';

// ---------- object store (the lake bucket) ----------

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

export interface ObjectStore {
  /**
   * Writes (or overwrites) one object from a stream of chunks; returns bytes
   * written. A store may free a chunk marked disposable once it has written
   * it (engine/disposable-chunks.ts), so a caller never reads a chunk it
   * marked after passing it here.
   */
  put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<number>;
  /** Returns the object's bytes, or undefined if it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Lists every object under a prefix, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Copies then deletes; succeeds if `to` exists already and `from` is gone (idempotent). */
  move(from: string, to: string): Promise<void>;
  /** Deletes; succeeds if the object does not exist. */
  delete(key: string): Promise<void>;
  /**
   * Deletes every object under a prefix except the keys in `keep`, including
   * partial writes a killed writer left there (local temp files, unfinished
   * multipart uploads). Returns the keys of the objects it deleted.
   */
  deletePrefix(prefix: string, keep?: ReadonlySet<string>): Promise<string[]>;
  /** Where a query engine finds a key (a file path locally, `s3://bucket/key` on AWS). */
  uri(key: string): string;
}

// ---------- state store (sources, cursors, runs, leases) ----------

export interface SourceDefinition {
  /** snake_case name, unique. */
  readonly name: string;
  /** Connector type. */
  readonly type: string;
  /** Config with secret fields replaced by references (never plain secrets in state). */
  readonly config: Record<string, unknown>;
  /** Streams to sync; all when absent. */
  readonly streams?: readonly string[];
  /** Cron or rate expression for the scheduler. */
  readonly schedule?: string;
  /** IANA time zone the schedule's cron fields are read in. @default 'UTC' */
  readonly timezone?: string;
  /** A paused source keeps its schedule, disabled. */
  readonly paused?: boolean;
  /** The client token of the create request (a retried create with it returns this source). */
  readonly clientToken?: string;
  /** Freshness SLA in minutes. */
  readonly slaMinutes?: number;
  /** Data-quality checks per stream, run by the quality stage (engine/stages/quality.ts). */
  readonly quality?: QualityDeclarations;
  /** Fields masked at landing, per stream (engine/masking.ts). */
  readonly pii?: PiiDeclarations;
  /** The reference of the source's masking salt in the secret store; created once, with the first `pii`. */
  readonly piiSalt?: { readonly $secret: string };
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface CursorState {
  readonly value: CursorValue;
  /**
   * Tie keys of the records landed at exactly `value`, so a re-read of that
   * value (inclusive `since`) skips them: fixed-size hashes of the primary key
   * (of the whole record for keyless streams), never key values; one entry per
   * landed record. Capped in number (see `keysRef`).
   */
  readonly keysAtValue: readonly string[];
  /**
   * When more keys share the value than fit in a state item, they are kept in
   * the committed manifest at this key instead, and `keysAtValue` is empty.
   */
  readonly keysRef?: string;
}

export interface VersionedCursor {
  readonly cursor: CursorState | undefined;
  /** 0 when the stream has never committed. Every commit increments it. */
  readonly version: number;
}

export const RunStatus = {
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  /** Landed and committed, but an `error` data-quality check failed: not promoted into `current`. */
  qualityFailed: 'QUALITY_FAILED',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export interface StreamRunStats {
  readonly rows: number;
  readonly bytes: number;
  readonly files: number;
  readonly durationMs: number;
  /** Records the source re-sent that were already landed (cursor ties), dropped. */
  readonly skipped: number;
  readonly schemaChanges: readonly string[];
  readonly cursorFrom: CursorValue | null;
  readonly cursorTo: CursorValue | null;
  readonly incremental: boolean;
}

export interface RunRecord {
  readonly runId: string;
  readonly source: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly streams: Readonly<Record<string, StreamRunStats>>;
  readonly error?: string;
  /** Earlier unfinished runs this run rolled forward or back before it started. */
  readonly recovered?: readonly string[];
  /** Slices this run has published (runs in slices: docs/adr/0005). */
  readonly slices?: number;
  /** The transform stages run after the run committed, in order (docs/transforms.md). */
  readonly stages?: readonly StageOutcome[];
  /** Data-quality check results of the quality stage (every check, passing or not). */
  readonly quality?: readonly QualityResult[];
  /** What the run used and its estimated cost at list price (engine/cost.ts). */
  readonly cost?: RunCost;
}

export const StageStatus = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  skipped: 'SKIPPED',
} as const;
export type StageStatus = (typeof StageStatus)[keyof typeof StageStatus];

/** One stage's execution after a run (in the run record). */
export interface StageOutcome {
  readonly name: string;
  readonly status: StageStatus;
  readonly attempts: number;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly error?: string;
  /** What the stage did, one short line per table (e.g. `shop__orders__current: 3 files`). */
  readonly detail?: readonly string[];
}

/** The result of one data-quality check on one stream in one run. */
export interface QualityResult {
  readonly stream: string;
  /** `not_null(email)`, `unique(id)`, … */
  readonly check: string;
  readonly severity: 'error' | 'warn';
  readonly passed: boolean;
  /** Rows that failed the check (0 when it passed). */
  readonly failingRows: number;
  /** Rows the check looked at. */
  readonly rows: number;
  /** Up to five primary keys of failing rows, as JSON text. */
  readonly sampleKeys: readonly string[];
  readonly message: string;
}

/** Where a run sits in the newest-first order of runs: a keyset page cursor. */
export interface RunPosition {
  readonly startedAt: string;
  readonly runId: string;
}

/** True when `run` comes after `position` in the newest-first order (older, or as old with a smaller id). */
export function isAfter(run: RunPosition, position: RunPosition): boolean {
  return (
    run.startedAt < position.startedAt || (run.startedAt === position.startedAt && run.runId < position.runId)
  );
}

export interface Lease {
  readonly source: string;
  readonly owner: string;
  readonly expiresAt: number;
}

export interface StateStore {
  /**
   * Stores a definition. With `expected`, only over the one last stored at
   * that `updatedAt`: a source changed or deleted meanwhile is a
   * ConflictError, so an update never brings back a deleted source or
   * overwrites another update. Finding exactly `source` stored already is
   * success: a retried put whose first answer was lost.
   */
  putSource(source: SourceDefinition, expected?: { readonly updatedAt: string }): Promise<void>;
  /**
   * Creates only if absent; throws ConflictError if it exists. Finding
   * exactly `source` stored already is success: a retried create whose first
   * answer was lost.
   */
  createSource(source: SourceDefinition): Promise<void>;
  getSource(name: string): Promise<SourceDefinition | undefined>;
  listSources(): Promise<SourceDefinition[]>;
  deleteSource(name: string): Promise<void>;

  getCursor(source: string, stream: string): Promise<VersionedCursor>;
  /**
   * Sets the cursor only if its version is still `expectedVersion`; the new
   * version is `expectedVersion + 1`. Throws ConflictError otherwise.
   * `cursor: undefined` resets the stream to its initial value.
   */
  commitCursor(
    source: string,
    stream: string,
    expectedVersion: number,
    cursor: CursorState | undefined,
  ): Promise<void>;

  putRun(run: RunRecord): Promise<void>;
  getRun(source: string, runId: string): Promise<RunRecord | undefined>;
  /** A run by its id alone (a key lookup, no scan); the newest if two sources share the id. */
  findRun(runId: string): Promise<RunRecord | undefined>;
  /** Newest first; with `after`, only the runs that come after that one in this order (a page cursor). */
  listRuns(source?: string, limit?: number, after?: RunPosition): Promise<RunRecord[]>;
  /** Runs in one status across sources, newest first (e.g. the runs still RUNNING). */
  listRunsByStatus(status: RunStatus, limit?: number): Promise<RunRecord[]>;

  /** Takes the source's lease if free or expired; throws LeaseHeldError otherwise. */
  acquireLease(source: string, owner: string, ttlMs: number): Promise<Lease>;
  /** Extends a lease this owner holds; throws LeaseHeldError if it was lost. */
  renewLease(source: string, owner: string, ttlMs: number): Promise<Lease>;
  /** Releases if this owner holds it; no-op otherwise. */
  releaseLease(source: string, owner: string): Promise<void>;
  /** The source's lease, or undefined when there is none (one past `expiresAt` may still be returned). */
  getLease(source: string): Promise<Lease | undefined>;
}

// ---------- catalog (tables, schema versions, files) ----------

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /**
   * Set on a variant column (`amount__double`): the column whose values of
   * another type land here, because Athena cannot read them under its type.
   */
  readonly variantOf?: string;
}

export interface SchemaVersion {
  readonly version: number;
  readonly columns: readonly Column[];
  readonly changes: readonly string[];
  /**
   * Source field → column name, for every field whose column name differs
   * (normalised to what Glue stores, or renamed on a collision). Cumulative:
   * the latest version holds the whole mapping.
   */
  readonly names?: Readonly<Record<string, string>>;
  readonly runId: string;
  readonly createdAt: string;
}

export interface TableDefinition {
  readonly source: string;
  readonly stream: string;
  /** Lake prefix holding the table's partitions: `raw/<source>/<stream>/`. */
  readonly location: string;
  readonly primaryKey: readonly string[];
  readonly writeDisposition: string;
  /** Latest last. */
  readonly schemaVersions: readonly SchemaVersion[];
  /**
   * How readers find the table's partitions: `projected` (the default) from
   * the `dt=<date>/` directories; `registered` from per-partition locations
   * kept in the catalog (push tables, so compaction can switch a partition
   * to a new version in one call: ADR 0009, amendment).
   */
  readonly partitioning?: Partitioning;
}

export const Partitioning = {
  projected: 'projected',
  registered: 'registered',
} as const;
export type Partitioning = (typeof Partitioning)[keyof typeof Partitioning];

/** A registered partition: its `dt=<date>` and the lake prefix readers follow (`…/dt=<date>/v<nnnnn>/`). */
export interface PartitionLocation {
  readonly partition: string;
  readonly location: string;
}

export interface Catalog {
  getTable(source: string, stream: string): Promise<TableDefinition | undefined>;
  listTables(source?: string): Promise<TableDefinition[]>;
  /** Creates or updates the table to `table` (idempotent: same content is a no-op). */
  putTable(table: TableDefinition): Promise<void>;
  /** Records committed data files (idempotent). */
  addFiles(source: string, stream: string, runId: string, keys: readonly string[]): Promise<void>;
  deleteTable(source: string, stream: string): Promise<void>;
  /** The registered partitions of a table, sorted by partition; [] for a projected or unknown table. */
  listPartitions(source: string, stream: string): Promise<PartitionLocation[]>;
  /**
   * Registers a partition at `location` unless it is registered already
   * (idempotent); returns the location readers follow, which is the existing
   * one when it was registered before. The table must exist.
   */
  ensurePartition(source: string, stream: string, partition: string, location: string): Promise<string>;
  /**
   * Points a registered partition at `to` in one catalog write (compaction's
   * commit point). A no-op when it is at `to` already; ConflictError when it
   * is at neither `from` nor `to`, or not registered.
   */
  switchPartition(source: string, stream: string, partition: string, from: string, to: string): Promise<void>;
}

// ---------- query engine ----------

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
  /** The engine's type of each column, in `columns` order (`integer`, `bigint`, …), where the engine reports it (Athena, Trino). */
  readonly columnTypes?: readonly string[];
}

/** The SQL a query engine speaks: DuckDB locally, Athena (Trino) on AWS. */
export const SqlDialect = {
  duckdb: 'duckdb',
  athena: 'athena',
} as const;
export type SqlDialect = (typeof SqlDialect)[keyof typeof SqlDialect];

export interface QueryEngine {
  /** Which SQL the transform stages render for this engine. @default 'duckdb' */
  readonly dialect?: SqlDialect;
  /** Runs SQL over the committed raw tables, exposed as `<source>.<stream>`. */
  query(sql: string): Promise<QueryResult>;
  close(): Promise<void>;
}

// ---------- secret store ----------

/** Keeps connector secret fields out of the state store and logs. */
export interface SecretStore {
  /** Stores a secret value under a name; returns the reference kept in state. */
  put(name: string, value: string): Promise<string>;
  /** Resolves a reference to its value; throws NotFoundError when missing. */
  get(ref: string): Promise<string>;
  /** Deletes; succeeds when absent. */
  delete(ref: string): Promise<void>;
}

// ---------- backend ----------

/** Every port of one deployment: the local home or the AWS account. */
export interface Backend {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  readonly secrets: SecretStore;
  /** A query engine over the committed raw tables; close it when done. */
  openQueryEngine(): Promise<QueryEngine>;
}
