/**
 * Parquet writer: streams rows into one standard Parquet file, a row group
 * at a time (see docs/adr/0002-parquet-writer.md).
 */
export type { ColumnData, FusedCheck, ParquetColumn } from './convert.js';
export type { ParquetCompression } from './encoder.js';
export { ENCODER_PLACE_VARIABLE, type EncoderPlace, encoderPlace } from './encoder-place.js';
export { keepEncoderWarm, warmEncoder } from './encoder-thread.js';
export { ParquetConversionError, ParquetError } from './errors.js';
export {
  createParquetWriter,
  type EncodedOn,
  type ParquetFileWriter,
  type ParquetWriterOptions,
} from './writer.js';
