import type { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { ConfigError, ConnectorError, TransientError } from '../sdk/errors.js';
import {
  checkpoint,
  type Logger,
  type ReadContext,
  ResumeUnavailableError,
  type SourceRecord,
  type Stream,
  type StreamItem,
  type StreamPosition,
} from '../sdk/types.js';
import { createClient, type ListedFile, listObjects, toConnectorError } from './client.js';
import type { ResolvedConfig, ResolvedStream } from './config.js';
import {
  CURSOR_FIELD,
  compareFileCursor,
  END_OF_FILE,
  endOfFileCursor,
  fileCursorPrefix,
  lineCursor,
  normalizeSince,
} from './cursor.js';
import { csvRows } from './formats/csv.js';
import { jsonlRows } from './formats/jsonl.js';
import { parquetRows, type RangeSource } from './formats/parquet.js';
import { decodeText, maybeGunzip, splitLines } from './formats/text.js';
import type { MalformedHandler, Row } from './formats/types.js';

/** Metadata fields every record carries (they win over data columns of the same name). */
export const FILE_KEY_FIELD = '_file_key';
export const FILE_LINE_FIELD = '_file_line';
export const FILE_MODIFIED_FIELD = '_file_modified_at';

/** Malformed lines logged one by one per file; the rest only in the file's summary. */
const LOGGED_MALFORMED_PER_FILE = 100;

/**
 * Where a read stands: the file (LastModified, key) and the last line (or
 * Parquet row) whose record was yielded, `eof` once the file is done, and how
 * many files the run has opened so far (for `maxFilesPerRun`). It is exactly
 * the record cursor `<LastModified>|<key>|<line>`, spelled out.
 */
export type S3FilesPosition = StreamPosition & {
  readonly modified: string;
  readonly key: string;
  readonly line: number | typeof END_OF_FILE;
  readonly files: number;
};

interface PendingFile extends ListedFile {
  /** `<ISO>|<escaped key>|`: every record cursor of the file starts with it. */
  readonly prefix: string;
}

export function buildStream(config: ResolvedConfig, stream: ResolvedStream): Stream {
  return {
    name: stream.name,
    primaryKey: stream.primaryKey,
    writeDisposition: stream.writeDisposition,
    incremental: { cursorField: CURSOR_FIELD, initialValue: config.startDate },
    // Files in (LastModified, key) order, lines in order, `eof` last: the cursor only grows.
    order: 'cursor-ascending',
    read: (ctx) => readStream(config, stream, ctx),
  };
}

/** The record cursor a position stands for; throws ResumeUnavailableError when it is not one of ours. */
function positionCursor(
  from: StreamPosition,
  stream: string,
): { cursor: string; files: number; midFile: boolean } {
  const p = from as Partial<S3FilesPosition>;
  const modified = typeof p.modified === 'string' ? Date.parse(p.modified) : Number.NaN;
  const lineOk = p.line === END_OF_FILE || (Number.isInteger(p.line) && (p.line as number) >= 0);
  if (Number.isNaN(modified) || typeof p.key !== 'string' || !lineOk || !Number.isInteger(p.files)) {
    throw new ResumeUnavailableError(
      `stream "${stream}" cannot resume from ${JSON.stringify(from)}: not an s3-files position (modified, key, line, files)`,
    );
  }
  const prefix = fileCursorPrefix(new Date(modified), p.key);
  const midFile = p.line !== END_OF_FILE;
  return {
    cursor: midFile ? lineCursor(prefix, p.line as number) : endOfFileCursor(prefix),
    files: p.files as number,
    midFile,
  };
}

/**
 * Lists the stream's files, keeps those with a record cursor after `since`
 * (see cursor.ts: a file whose `eof` cursor is `since` was landed whole and
 * is skipped), and reads them in (LastModified, key) order, one page of
 * records at a time, with a checkpoint after every page and at every file's
 * end. `resumeFrom` moves `since` forward to the position: the same rule then
 * skips the files before it and the lines of its file up to it.
 */
async function* readStream(
  config: ResolvedConfig,
  stream: ResolvedStream,
  ctx: ReadContext,
): AsyncGenerator<StreamItem> {
  let since = normalizeSince(ctx.since, config.startDate);
  let opened = 0;
  if (ctx.resumeFrom) {
    const resumed = positionCursor(ctx.resumeFrom, stream.name);
    if (compareFileCursor(resumed.cursor, since) > 0) since = resumed.cursor;
    // The file the position points into is listed again and counted once.
    opened = resumed.files - (resumed.midFile ? 1 : 0);
  }
  const client = createClient(config);
  const log = ctx.logger;
  try {
    const limit =
      config.maxFilesPerRun === undefined ? undefined : Math.max(0, config.maxFilesPerRun - opened);
    const files = await pendingFiles(client, config, stream, since, limit, ctx.signal, log);
    let records = 0;
    let malformed = 0;
    for (const file of files) {
      ctx.signal.throwIfAborted();
      opened += 1;
      const counts = { records: 0, malformed: 0 };
      yield* readFile(client, config, stream, file, since, ctx, counts, opened);
      records += counts.records;
      malformed += counts.malformed;
    }
    log.info('s3-files: read files', { stream: stream.name, files: files.length, records, malformed });
  } finally {
    client.destroy();
  }
}

async function pendingFiles(
  client: S3Client,
  config: ResolvedConfig,
  stream: ResolvedStream,
  since: string,
  limit: number | undefined,
  signal: AbortSignal,
  log: Logger,
): Promise<PendingFile[]> {
  const listPrefix = config.prefix + stream.glob.literalPrefix;
  const location = `s3://${config.bucket}/${listPrefix}`;
  // Files younger than the settle window may still be followed by uploads that carry an older
  // LastModified (multipart uploads are stamped at initiation); leave them for the next run.
  const settledBefore = config.settleSeconds > 0 ? Date.now() - config.settleSeconds * 1000 : undefined;
  const files: PendingFile[] = [];
  let unsettled = 0;
  try {
    for await (const page of listObjects(client, config.bucket, listPrefix, signal)) {
      for (const object of page) {
        if (object.key.endsWith('/')) continue; // folder marker
        if (!stream.glob.matches(object.key.slice(config.prefix.length))) continue;
        const prefix = fileCursorPrefix(object.lastModified, object.key);
        if (compareFileCursor(endOfFileCursor(prefix), since) <= 0) continue; // landed already
        if (settledBefore !== undefined && object.lastModified.getTime() > settledBefore) {
          unsettled++;
          continue;
        }
        files.push({ ...object, prefix });
      }
    }
  } catch (error) {
    signal.throwIfAborted();
    throw toConnectorError(error, `listing ${location}`, config);
  }
  files.sort((a, b) => compareFileCursor(a.prefix, b.prefix));
  const selected = limit !== undefined && files.length > limit ? files.slice(0, limit) : files;
  log.info('s3-files: new files', {
    stream: stream.name,
    location,
    glob: stream.glob.pattern,
    after: since,
    files: selected.length,
    deferred: files.length - selected.length,
    unsettled,
  });
  return selected;
}

async function* readFile(
  client: S3Client,
  config: ResolvedConfig,
  stream: ResolvedStream,
  file: PendingFile,
  since: string,
  ctx: ReadContext,
  counts: { records: number; malformed: number },
  opened: number,
): AsyncGenerator<StreamItem> {
  const position = (line: S3FilesPosition['line']): S3FilesPosition => ({
    modified: file.lastModified.toISOString(),
    key: file.key,
    line,
    files: opened,
  });
  // Only a file `since` points into (a run that committed mid-file, or a resumed slice) has records to drop.
  const resumeInside = since.startsWith(file.prefix);
  const skipThrough = resumeInside ? Number(since.slice(file.prefix.length)) || 0 : 0;
  const uri = `s3://${config.bucket}/${file.key}`;
  const log = ctx.logger;
  const label = stream.format === 'csv' ? 'CSV' : stream.format === 'jsonl' ? 'JSON Lines' : 'Parquet';
  let malformedLogged = 0;
  const handler: MalformedHandler = {
    line: (line, reason) => {
      if (stream.onMalformed === 'fail') {
        throw new ConfigError(
          `Malformed ${label} in ${uri} at line ${line}: ${reason}; fix the file or set onMalformed to "skip".`,
        );
      }
      counts.malformed++;
      if (malformedLogged++ < LOGGED_MALFORMED_PER_FILE) {
        log.warn('s3-files: skipped a malformed line', { stream: stream.name, key: file.key, line, reason });
      }
    },
    file: (line, reason) => {
      const at = line === undefined ? '' : ` at ${stream.format === 'parquet' ? 'row' : 'line'} ${line}`;
      if (stream.onMalformed === 'fail') {
        throw new ConfigError(
          `Malformed ${label} in ${uri}${at}: ${reason}; fix the file or set onMalformed to "skip".`,
        );
      }
      counts.malformed++;
      log.warn('s3-files: skipped the rest of a malformed file', {
        stream: stream.name,
        key: file.key,
        line,
        reason,
      });
    },
  };

  const get = async (range?: string): Promise<GetObjectCommandOutput> =>
    client.send(
      new GetObjectCommand({
        Bucket: config.bucket,
        Key: file.key,
        // Read exactly the version that was listed; a newer one has a newer cursor and comes later.
        ...(file.etag ? { IfMatch: file.etag } : {}),
        ...(range ? { Range: range } : {}),
      }),
      { abortSignal: ctx.signal },
    );

  let yielded = false;
  let rows: AsyncIterable<Row[]>;
  try {
    if (stream.format === 'parquet') {
      const source: RangeSource = {
        size: file.size,
        read: async (start, end) => {
          const response = await get(`bytes=${start}-${end - 1}`);
          return response.Body!.transformToByteArray();
        },
      };
      // Row groups wholly before a resume position are not even fetched.
      rows = parquetRows(source, config.pageSize, handler, ctx.signal, skipThrough);
    } else {
      const response = await get();
      const body = response.Body as Readable;
      const gzip =
        stream.compression === 'gzip' ||
        (stream.compression === 'auto' && (file.key.endsWith('.gz') || response.ContentEncoding === 'gzip'));
      const encoding = stream.format === 'csv' ? stream.csv.encoding : 'utf-8';
      const lines = splitLines(decodeText(maybeGunzip(body, gzip), encoding));
      rows = stream.format === 'csv' ? csvRows(lines, stream.csv, handler) : jsonlRows(lines, handler);
    }

    // The last record is held back until the end of the file is known: it gets the `eof` cursor.
    let page: SourceRecord[] = [];
    for await (const batch of rows) {
      for (const row of batch) {
        const cursor = lineCursor(file.prefix, row.line);
        if (resumeInside && cursor <= since) continue;
        // The parsers build a fresh object per row: the metadata goes into it, not into a copy
        // (spreading every row cost ~2.5 µs and doubled the garbage). A file's own field of
        // the same name keeps its place and takes the metadata's value, as the spread did.
        const record = row.values;
        record[FILE_KEY_FIELD] = file.key;
        record[FILE_LINE_FIELD] = row.line;
        record[FILE_MODIFIED_FIELD] = file.lastModified;
        record[CURSOR_FIELD] = cursor;
        page.push(record);
        if (page.length > config.pageSize) {
          ctx.signal.throwIfAborted();
          const full = page.slice(0, config.pageSize);
          page = page.slice(config.pageSize);
          counts.records += full.length;
          yielded = true;
          yield full;
          yield checkpoint(position(full.at(-1)![FILE_LINE_FIELD] as number));
        }
      }
    }
    ctx.signal.throwIfAborted();
    if (page.length > 0) {
      page[page.length - 1]![CURSOR_FIELD] = endOfFileCursor(file.prefix);
      counts.records += page.length;
      yielded = true;
      yield page;
    }
    // Also after a file without records: a resumed read need not open it again.
    yield checkpoint(position(END_OF_FILE));
  } catch (error) {
    const e = error as {
      name?: string;
      code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    // An abort tears the connection down, which surfaces as a socket error: report the abort.
    ctx.signal.throwIfAborted();
    if (error instanceof ConnectorError || e.name === 'AbortError') throw error;
    const gone = e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
    const changed = e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412;
    if ((gone || changed) && !yielded) {
      // Deleted or replaced since the listing: nothing of it was read. A replacement has a newer
      // LastModified, so it sorts after everything read now and a later run reads it.
      log.warn('s3-files: file changed after listing, skipped', {
        stream: stream.name,
        key: file.key,
        reason: gone ? 'deleted' : 'replaced',
      });
      yield checkpoint(position(END_OF_FILE));
      return;
    }
    if (gone || changed) {
      throw new TransientError(`${uri} was ${gone ? 'deleted' : 'replaced'} while being read; run again.`, {
        cause: error,
      });
    }
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
      handler.file(undefined, `not valid gzip (${e.message})`);
      yield checkpoint(position(END_OF_FILE));
      return;
    }
    throw toConnectorError(error, `reading ${uri}`, config);
  } finally {
    if (counts.malformed > 0) {
      log.warn('s3-files: skipped malformed records in file', {
        stream: stream.name,
        key: file.key,
        malformed: counts.malformed,
      });
    }
  }
}
