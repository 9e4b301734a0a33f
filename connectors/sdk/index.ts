export { redactConfig, secretPaths, validateConfig } from './config.js';
export { compareCursor, cursorOf, lowerByLag, normalizeCursor } from './cursor.js';
export { ConfigError, ConnectorError, SystemError, TransientError } from './errors.js';
export { silentLogger } from './logger.js';
export type {
  CheckResult,
  ConfigProperty,
  ConfigSchema,
  Connector,
  CursorValue,
  Incremental,
  Logger,
  ReadContext,
  SourceRecord,
  Stream,
} from './types.js';
export { ColumnType, DELETED_FIELD, WriteDisposition } from './types.js';
