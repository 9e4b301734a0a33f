/** A parsed row of a file and where it came from. */
// @ts-nocheck

export interface Row {
  readonly values: Record<string, unknown>;
  /** 1-based line the record starts on (CSV, JSON Lines) or row number (Parquet). */
  readonly line: number;
}

/**
 * Receives what cannot be parsed. In `fail` mode both methods throw a
 * ConfigError naming the file and line; in `skip` mode `line` logs and
 * counts, and `file` logs, counts and the reader stops reading that file.
 */
export interface MalformedHandler {
  line(line: number, reason: string): void;
  file(line: number | undefined, reason: string): void;
}
