/**
 * The engine's public surface: what handlers, the CLI and the benchmarks
 * use. Everything else under engine/ is internal and may change.
 */
// @ts-nocheck


export type { CommitPhase, ManifestFile, ManifestStream, RunManifest } from './commit.js';
export {
  ConflictError,
  LeaseHeldError,
  type LeaseHeldErrorDetails,
  NotFoundError,
  SluiceError,
  ValidationError,
} from './errors.js';
export { newRunId, tableLocation } from './layout.js';
export type {
  Backend,
  Catalog,
  Column,
  CursorState,
  Lease,
  ObjectInfo,
  ObjectStore,
  QualityResult,
  QueryEngine,
  QueryResult,
  RunRecord,
  SchemaVersion,
  SecretStore,
  SourceDefinition,
  StageOutcome,
  StateStore,
  StreamRunStats,
  TableDefinition,
  VersionedCursor,
} from './ports.js';
export { RunStatus, SqlDialect, StageStatus } from './ports.js';
export { type ResetDeps, resetCursors } from './reset.js';
export {
  type BeginRunOptions,
  beginRun,
  finishRun,
  type PhaseDetail,
  RunInterruptedError,
  type RunStepOptions,
  runSlice,
  type SliceOptions,
  type SyncDeps,
  SyncError,
  type SyncPhase,
  type SyncProgress,
  selectStreams,
} from './run.js';
export type { RunCheckpoint } from './run-state.js';
export { extractSecrets, isSecretRef, resolveSecrets, type SecretRef, secretRefs } from './secrets.js';
export {
  type ConnectorRegistry,
  createRegistry,
  createSource,
  parseSourceInput,
  resolveSource,
  SOURCE_NAME,
  type SourceInput,
} from './sources.js';
export * from './stages/index.js';
export { runSync, type SyncOptions } from './sync.js';
