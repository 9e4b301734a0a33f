/** Transform stages: the stage list (data), its local runner, and the merge into `current`. */
// @ts-nocheck

export {
  DEFAULT_RETRY,
  type RetryPolicy,
  retryDelayMs,
  STAGES,
  type StageDeclaration,
  StageKind,
  validateStages,
} from './declarations.js';
export { ModelError, QualityFailedError, StageError } from './errors.js';
export {
  type LineageNode,
  type LineageRecord,
  lineageKey,
  lineageOf,
  recordLineage,
  traceLineage,
} from './lineage.js';
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
  type RunStagesOptions,
  runStages,
  type StageDeps,
  type StagePhase,
  type StagePhaseDetail,
} from './runner.js';
export { advanceWatermark, readWatermark, type Watermark, watermarkKey } from './watermark.js';
