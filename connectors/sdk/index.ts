export {
  type BatchColumn,
  batchRecord,
  batchRecords,
  batchValue,
  type ColumnBatch,
  type ColumnVector,
  columnBatch,
  isColumnBatch,
} from './column-batch.js';
export { decimalType, parseColumnType, parseDecimalType } from './column-types.js';
export { redactConfig, secretPaths, validateConfig } from './config.js';
export { compareCursor, cursorOf, lowerByLag, normalizeCursor } from './cursor.js';
export { ConfigError, ConnectorError, RetriesExhaustedError, SystemError, TransientError } from './errors.js';
export { silentLogger } from './logger.js';
export { PreciseDate } from './precise-date.js';
export { sleep } from './sleep.js';
export type {
  CheckResult,
  ConfigProperty,
  ConfigSchema,
  Connector,
  CursorValue,
  DecimalType,
  Incremental,
  Logger,
  PositionValue,
  ReadContext,
  SourceRecord,
  Stream,
  StreamCheckpoint,
  StreamItem,
  StreamPosition,
} from './types.js';
export {
  ColumnType,
  CursorType,
  checkpoint,
  DELETED_FIELD,
  isCheckpoint,
  MissingCursor,
  ReadOrder,
  ResumeUnavailableError,
  WriteDisposition,
} from './types.js';
