import type { Connector, Stream } from '../sdk/types.js';
import { checkS3Files } from './check.js';
import { configSchema, resolveConfig, type S3FilesConfig } from './config.js';
import { buildStream } from './read.js';

/**
 * Files in an S3 bucket (CSV, JSON Lines, Parquet) under a prefix: one
 * stream per glob, read incrementally in (LastModified, key) order so files
 * that share a timestamp are neither skipped nor read twice. Large files are
 * streamed (text) or read one row group at a time (Parquet).
 */
export const s3FilesConnector: Connector<S3FilesConfig> = {
  type: 's3-files',
  description:
    'CSV, JSON Lines and Parquet files in an S3 bucket, read incrementally by (LastModified, key).',
  configSchema,
  check: (config, signal) => checkS3Files(config, signal),
  streams: (config): Stream[] => {
    const resolved = resolveConfig(config);
    return resolved.streams.map((stream) => buildStream(resolved, stream));
  },
  staticStreams: true,
  validate: (config) => {
    resolveConfig(config);
  },
};

export type { S3FilesCheckResult } from './check.js';
export type {
  Compression,
  FileFormat,
  OnMalformed,
  S3FilesConfig,
  S3FilesCsvOptions,
  S3FilesStreamConfig,
} from './config.js';
export { configSchema as s3FilesConfigSchema, DEFAULT_PRIMARY_KEY } from './config.js';
export {
  CURSOR_FIELD,
  END_OF_FILE,
  endOfFileCursor,
  fileCursorPrefix,
  lineCursor,
  normalizeSince,
} from './cursor.js';
export { compileGlob, type Glob } from './glob.js';
export { FILE_KEY_FIELD, FILE_LINE_FIELD, FILE_MODIFIED_FIELD } from './read.js';
