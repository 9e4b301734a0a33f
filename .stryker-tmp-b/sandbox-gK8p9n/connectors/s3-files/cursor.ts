// @ts-nocheck
import { ConfigError } from '../sdk/errors.js';
import type { CursorValue } from '../sdk/types.js';

/**
 * The incremental cursor of s3-files streams, carried by every record as
 * `_file_cursor`:
 *
 *     <LastModified as toISOString()>|<key, "%" and "|" escaped>|<line>
 *
 * where <line> is the record's line (or Parquet row) number zero-padded to
 * 12 digits, or `eof` on the last record of a file. For example
 * `2026-03-01T10:00:00.000Z|landing/a.csv|000000000002` … `…|landing/a.csv|eof`.
 *
 * Ordering. `toISOString()` has a fixed width, the escaped key never holds a
 * `|`, and digits sort before `eof`, so comparing cursors as plain strings
 * (which is also what the SDK's `compareCursor` does: a cursor with a `|`
 * is not an ISO timestamp) orders records by (LastModified, key, line). Files
 * are read in exactly that order and a file's records never interleave with
 * another file's.
 *
 * Why the key: S3 stamps LastModified to the second, so many files share
 * one. With the timestamp alone a run that stops inside such a group would
 * either skip the rest of the group (`> since`) or read it all again
 * (`>= since`). With the key every file has its own position.
 *
 * Why a position inside the file, and `eof`: the engine passes `since` = the
 * last committed cursor, i.e. the largest `_file_cursor` it landed, and
 * keeps the keys of the records landed at exactly that value. With a cursor
 * per file that would be every line of the last file (millions of keys for a
 * large file); with a cursor per record it is one. It also keeps a resume
 * exact if a run ever commits in the middle of a file. A run lands and
 * commits atomically, so normally the committed cursor is an `eof`: that
 * file was landed completely and is skipped without being opened again
 * (the engine would drop its rows by key, but re-downloading a large file
 * to throw it away is waste). Files whose cursors all sort after `since` are
 * new and read whole; if `since` points inside a file, that file is read
 * again and its records at or before `since` are dropped here.
 *
 * A `since` that is a bare timestamp (the initial value, `startDate`, or a
 * reset to a timestamp) sorts before every cursor of that instant, so files
 * modified at that instant are read.
 */
export const CURSOR_FIELD = '_file_cursor';

const SEPARATOR = '|';
export const END_OF_FILE = 'eof';
const LINE_DIGITS = 12;

/** Escapes `%` and `|` so a key can never end the key part of a cursor early. */
function escapeKey(key: string): string {
  return key.replace(/%/g, '%25').replace(/\|/g, '%7C');
}

/** What every cursor of one file starts with: `<ISO>|<escaped key>|`. */
export function fileCursorPrefix(lastModified: Date, key: string): string {
  return `${lastModified.toISOString()}${SEPARATOR}${escapeKey(key)}${SEPARATOR}`;
}

export function lineCursor(prefix: string, line: number): string {
  return prefix + String(line).padStart(LINE_DIGITS, '0');
}

/** The last cursor a file can have: its records all sort at or before it. */
export function endOfFileCursor(prefix: string): string {
  return prefix + END_OF_FILE;
}

/**
 * `since` (or the initial value) with its timestamp normalised to the
 * `toISOString()` form the listing produces, so plain string comparison
 * holds. Records whose cursor sorts strictly after it are new.
 */
export function normalizeSince(since: CursorValue | undefined, initial: string): string {
  const value = since ?? initial;
  if (typeof value !== 'string') {
    throw new ConfigError(
      `s3-files cursor must be "<ISO timestamp>" or a "_file_cursor" value, got the number ${value}`,
    );
  }
  const separator = value.indexOf(SEPARATOR);
  const instant = separator < 0 ? value : value.slice(0, separator);
  const t = Date.parse(instant);
  if (Number.isNaN(t)) {
    throw new ConfigError(`s3-files cursor must start with an ISO-8601 timestamp, got "${value}"`);
  }
  const iso = new Date(t).toISOString();
  return separator < 0 ? iso : `${iso}${value.slice(separator)}`;
}

export function compareFileCursor(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
