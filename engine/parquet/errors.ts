/** Failures of the Parquet writer. */
export class ParquetError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ParquetError';
  }
}

/** A value cannot be converted to its column's type; names the column and the row. */
export class ParquetConversionError extends ParquetError {
  /** Index of the offending row in the rows passed to `write` or `writeRowGroup`. */
  public readonly rowIndex: number;
  public readonly column: string;
  public constructor(column: string, type: string, rowIndex: number, value: unknown, options?: ErrorOptions) {
    super(
      `Cannot convert ${preview(value)} to ${type} in column "${column}" at row ${rowIndex} of the rows written`,
      options,
    );
    this.name = 'ParquetConversionError';
    this.column = column;
    this.rowIndex = rowIndex;
  }
}

function preview(value: unknown): string {
  let text: string;
  try {
    // An invalid Date would print as JSON's null.
    if (value instanceof Date && Number.isNaN(value.getTime())) return 'an invalid Date';
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
