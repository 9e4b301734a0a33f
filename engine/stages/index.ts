/** Transform stages: the stage list (data), its local runner, and the merge into `current`. */
export {
  DEFAULT_RETRY,
  FATAL_STAGE_ERRORS,
  type RetryPolicy,
  retryDelayMs,
  STAGES,
  type StageDeclaration,
  StageKind,
  stageNamed,
  validateStages,
} from './declarations.js';
export { ModelError, QualityFailedError, StageError, StageFatalError } from './errors.js';
export {
  type LineageNode,
  type LineageRecord,
  lineageKey,
  lineageOf,
  recordLineage,
  traceLineage,
} from './lineage.js';
export {
  athenaMaintenanceSql,
  DEFAULT_RETENTION_MS,
  type MaintainSourceOptions,
  maintainCurrentTables,
  maintainSource,
  type TableMaintenance,
} from './maintenance.js';
export { type MergeDeps, type MergePhase, mergeTable } from './merge.js';
export {
  CURRENT_SUFFIX,
  committedManifestIds,
  currentLocation,
  currentSnapshotKey,
  currentTableName,
  filesSince,
  type MergeFile,
  type MergePlan,
  planMerge,
} from './merge-plan.js';
export { duckDbType, hiveType, type RenderOptions, renderMerge } from './merge-sql.js';
export {
  LAKE_MODELS_PREFIX,
  loadLakeModels,
  type Model,
  type ModelFile,
  modelDataKey,
  modelPointerKey,
  orderModels,
  parseModel,
  renderModel,
  resolveRefs,
  runModels,
} from './models.js';
export {
  parseQuality,
  type QualityCheck,
  type QualityDeclarations,
  QualitySeverity,
  robustZ,
  runQuality,
} from './quality.js';
export {
  isRetryable,
  type RecordStageFailureOptions,
  type RunStageOptions,
  type RunStagesOptions,
  recordStageFailure,
  runStage,
  runStages,
  type StageAttempt,
  type StageDeps,
  type StagePhase,
  type StagePhaseDetail,
  type StageTarget,
} from './runner.js';
export { advanceWatermark, readWatermark, type Watermark, watermarkKey } from './watermark.js';
