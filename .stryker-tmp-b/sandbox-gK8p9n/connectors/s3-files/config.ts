// @ts-nocheck
import { validateConfig } from '../sdk/config.js';
import { ConfigError } from '../sdk/errors.js';
import type { ConfigSchema } from '../sdk/types.js';
import { WriteDisposition } from '../sdk/types.js';
import { compileGlob, type Glob } from './glob.js';

export const FileFormat = { csv: 'csv', jsonl: 'jsonl', parquet: 'parquet' } as const;
export type FileFormat = (typeof FileFormat)[keyof typeof FileFormat];

/** What to do with a line (CSV/JSON Lines) or a file (Parquet) that cannot be parsed. */
export const OnMalformed = { fail: 'fail', skip: 'skip' } as const;
export type OnMalformed = (typeof OnMalformed)[keyof typeof OnMalformed];

export const Compression = { auto: 'auto', none: 'none', gzip: 'gzip' } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

export interface S3FilesCsvOptions {
  /** The first non-empty line holds the column names. @default true */
  readonly header?: boolean;
  /** Column names; required to name columns when `header` is false (else `column_1`, `column_2`, …). Overrides the header line when both are given. */
  readonly columns?: readonly string[];
  /** @default "," */
  readonly delimiter?: string;
  /** One character; "" turns quoting off. @default '"' */
  readonly quote?: string;
  /** Escapes a quote inside a quoted field. @default the quote character (RFC 4180 `""`) */
  readonly escape?: string;
  /** Any WHATWG encoding label: utf-8, latin1, windows-1252, utf-16le, shift_jis, … @default "utf-8" */
  readonly encoding?: string;
  /** Field values that become null (e.g. `["", "NULL"]`). @default [] */
  readonly nullValues?: readonly string[];
}

export interface S3FilesStreamConfig {
  /** snake_case table name. */
  readonly name: string;
  /** Glob matched against keys relative to `prefix`, e.g. `orders/**\/*.csv`. */
  readonly glob: string;
  readonly format: FileFormat;
  readonly csv?: S3FilesCsvOptions;
  /** `auto` gunzips keys ending in `.gz` (CSV and JSON Lines). @default "auto" */
  readonly compression?: Compression;
  /** @default ["_file_key", "_file_line"] */
  readonly primaryKey?: readonly string[];
  /** @default "append" */
  readonly writeDisposition?: WriteDisposition;
  /** @default "fail" */
  readonly onMalformed?: OnMalformed;
}

export interface S3FilesConfig {
  readonly bucket: string;
  /** Folder under the bucket; keys are matched relative to it. A missing trailing "/" is added. @default "" */
  readonly prefix?: string;
  /** Defaults to the SDK's region chain (AWS_REGION, profile). */
  readonly region?: string;
  /** For emulators (LocalStack, moto, MinIO). Defaults to the SDK's (incl. AWS_ENDPOINT_URL). */
  readonly endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`); emulators usually need it. */
  readonly forcePathStyle?: boolean;
  /** With `secretAccessKey`; otherwise the SDK's default credential chain. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  /** Files last modified before this instant are ignored on the first run (ISO-8601). */
  readonly startDate?: string;
  /** Leave files younger than this for the next run, so uploads still in flight cannot be passed by the cursor. @default 0 */
  readonly settleSeconds?: number;
  /** Read at most this many files per run (oldest first); the rest follow in later runs. */
  readonly maxFilesPerRun?: number;
  /** Records per yielded page (and Parquet batch size). @default 1000 */
  readonly pageSize?: number;
  readonly streams: readonly S3FilesStreamConfig[];
}

export const DEFAULT_PRIMARY_KEY = ['_file_key', '_file_line'] as const;
export const EPOCH_ISO = '1970-01-01T00:00:00.000Z';

const csvSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'CSV options (format "csv" only).',
  properties: {
    header: {
      type: 'boolean',
      default: true,
      description: 'The first non-empty line holds the column names.',
    },
    columns: {
      type: 'array',
      items: { type: 'string' },
      description:
        'Column names. Needed when header is false (else column_1, column_2, …); overrides the header line.',
    },
    delimiter: { type: 'string', default: ',', description: 'Field delimiter (one or more characters).' },
    quote: { type: 'string', default: '"', description: 'Quote character; "" turns quoting off.' },
    escape: {
      type: 'string',
      description:
        'Escapes a quote inside a quoted field. Defaults to the quote character ("" inside quotes).',
    },
    encoding: {
      type: 'string',
      default: 'utf-8',
      description: 'WHATWG encoding label: utf-8, latin1 (= windows-1252), utf-16le, shift_jis, …',
    },
    nullValues: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Field values that become null, e.g. ["", "NULL"]. By default every value stays a string.',
    },
  },
} as const;

const streamSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'glob', 'format'],
  properties: {
    name: { type: 'string', description: 'snake_case table name.' },
    glob: {
      type: 'string',
      description: 'Glob over keys relative to the prefix: * ? ** [a-z] {a,b}; e.g. orders/**/*.csv.',
    },
    format: { type: 'string', enum: Object.values(FileFormat), description: 'csv, jsonl or parquet.' },
    csv: csvSchema,
    compression: {
      type: 'string',
      enum: Object.values(Compression),
      default: 'auto',
      description: 'auto gunzips keys ending in .gz (CSV and JSON Lines).',
    },
    primaryKey: {
      type: 'array',
      items: { type: 'string' },
      default: [...DEFAULT_PRIMARY_KEY],
      description: 'Fields forming the primary key; defaults to the file key and line.',
    },
    writeDisposition: {
      type: 'string',
      enum: Object.values(WriteDisposition),
      default: 'append',
      description: 'append, replace or merge (merge needs a primaryKey of data columns).',
    },
    onMalformed: {
      type: 'string',
      enum: Object.values(OnMalformed),
      default: 'fail',
      description:
        'fail: stop with an error naming the file and line; skip: skip the line (or Parquet file), log and count it.',
    },
  },
} as const;

export const configSchema: ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bucket', 'streams'],
  properties: {
    bucket: { type: 'string', description: 'Bucket name.' },
    prefix: {
      type: 'string',
      default: '',
      description: 'Folder in the bucket; globs match keys relative to it.',
    },
    region: { type: 'string', description: 'AWS region; defaults to the SDK chain (AWS_REGION, profile).' },
    endpoint: {
      type: 'string',
      description: 'S3 endpoint URL for emulators; defaults to the SDK (incl. AWS_ENDPOINT_URL).',
    },
    forcePathStyle: { type: 'boolean', description: 'Path-style addressing; emulators usually need it.' },
    accessKeyId: { type: 'string', description: 'Access key id; otherwise the default credential chain.' },
    secretAccessKey: { type: 'string', secret: true, description: 'Secret access key (with accessKeyId).' },
    sessionToken: { type: 'string', secret: true, description: 'Session token for temporary credentials.' },
    startDate: {
      type: 'string',
      description: 'ISO-8601 instant; files last modified before it are ignored on the first run.',
    },
    settleSeconds: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description:
        'Leave files modified in the last N seconds for the next run (set it when writers are slow).',
    },
    maxFilesPerRun: { type: 'integer', minimum: 1, description: 'Read at most this many files per run.' },
    pageSize: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description: 'Records per page.',
    },
    streams: { type: 'array', items: streamSchema, description: 'One stream (table) per glob.' },
  },
};

/** Everything a read needs, validated once, defaults applied. */
export interface ResolvedCsv {
  readonly header: boolean;
  readonly columns: readonly string[] | undefined;
  readonly delimiter: string;
  readonly quote: string;
  readonly escape: string;
  readonly encoding: string;
  readonly nullValues: ReadonlySet<string>;
}

export interface ResolvedStream {
  readonly name: string;
  readonly glob: Glob;
  readonly format: FileFormat;
  readonly csv: ResolvedCsv;
  readonly compression: Compression;
  readonly primaryKey: readonly string[];
  readonly writeDisposition: WriteDisposition;
  readonly onMalformed: OnMalformed;
}

export interface ResolvedConfig {
  readonly bucket: string;
  readonly prefix: string;
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean | undefined;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** ISO-8601 (`toISOString` form): the stream's initial cursor. */
  readonly startDate: string;
  readonly settleSeconds: number;
  readonly maxFilesPerRun: number | undefined;
  readonly pageSize: number;
  readonly streams: readonly ResolvedStream[];
}

const SNAKE_CASE = /^[a-z][a-z0-9_]*$/;

/** Validates the schema, then what a schema cannot say; every problem names the field. */
export function resolveConfig(input: S3FilesConfig): ResolvedConfig {
  const config = validateConfig<S3FilesConfig>(configSchema, input);
  const problems: string[] = [];
  if (config.bucket.trim() === '') problems.push('"bucket" must not be empty');
  if (Boolean(config.accessKeyId) !== Boolean(config.secretAccessKey)) {
    problems.push('"accessKeyId" and "secretAccessKey" go together: give both or neither');
  }
  if (config.endpoint !== undefined && !URL.canParse(config.endpoint)) {
    problems.push(`"endpoint" must be a URL such as http://localhost:4566`);
  }
  let startDate = EPOCH_ISO;
  if (config.startDate !== undefined) {
    const t = Date.parse(config.startDate);
    if (Number.isNaN(t)) problems.push('"startDate" must be an ISO-8601 date or timestamp');
    else startDate = new Date(t).toISOString();
  }
  let prefix = config.prefix ?? '';
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (config.streams.length === 0) problems.push('"streams" must list at least one stream');

  const names = new Set<string>();
  const streams: ResolvedStream[] = [];
  config.streams.forEach((stream, i) => {
    const at = `streams[${i}]`;
    if (!SNAKE_CASE.test(stream.name))
      problems.push(`"${at}.name" must be snake_case (got "${stream.name}")`);
    if (names.has(stream.name)) problems.push(`"${at}.name" repeats the stream name "${stream.name}"`);
    names.add(stream.name);
    let glob: Glob | undefined;
    try {
      glob = compileGlob(stream.glob);
    } catch (error) {
      problems.push(`"${at}.glob": ${(error as Error).message}`);
    }
    if (stream.csv !== undefined && stream.format !== 'csv') {
      problems.push(`"${at}.csv" only applies to format "csv" (this stream is "${stream.format}")`);
    }
    const csv = resolveCsv(stream.csv ?? {}, `${at}.csv`, problems);
    const primaryKey = stream.primaryKey ?? [...DEFAULT_PRIMARY_KEY];
    const writeDisposition = stream.writeDisposition ?? 'append';
    if (writeDisposition === 'merge' && primaryKey.length === 0) {
      problems.push(`"${at}.primaryKey" must name at least one field for writeDisposition "merge"`);
    }
    if (glob) {
      streams.push({
        name: stream.name,
        glob,
        format: stream.format,
        csv,
        compression: stream.compression ?? 'auto',
        primaryKey,
        writeDisposition,
        onMalformed: stream.onMalformed ?? 'fail',
      });
    }
  });
  if (problems.length > 0) throw new ConfigError(`invalid config: ${problems.join('; ')}`);
  return {
    bucket: config.bucket,
    prefix,
    region: config.region || undefined,
    endpoint: config.endpoint || undefined,
    forcePathStyle: config.forcePathStyle,
    credentials:
      config.accessKeyId && config.secretAccessKey
        ? {
            accessKeyId: config.accessKeyId,
            secretAccessKey: config.secretAccessKey,
            ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}),
          }
        : undefined,
    startDate,
    settleSeconds: config.settleSeconds ?? 0,
    maxFilesPerRun: config.maxFilesPerRun,
    pageSize: config.pageSize ?? 1000,
    streams,
  };
}

function resolveCsv(csv: S3FilesCsvOptions, at: string, problems: string[]): ResolvedCsv {
  const delimiter = csv.delimiter ?? ',';
  const quote = csv.quote ?? '"';
  const escapeChar = csv.escape ?? quote;
  const encoding = csv.encoding ?? 'utf-8';
  if (delimiter === '' || /[\r\n]/.test(delimiter)) {
    problems.push(`"${at}.delimiter" must be one or more characters other than line breaks`);
  }
  if (quote.length > 1 || /[\r\n]/.test(quote)) problems.push(`"${at}.quote" must be one character or ""`);
  if (quote !== '' && delimiter.includes(quote))
    problems.push(`"${at}.quote" must differ from the delimiter`);
  if (escapeChar.length > 1 || (quote !== '' && escapeChar.length === 0)) {
    problems.push(`"${at}.escape" must be one character`);
  }
  try {
    new TextDecoder(encoding);
  } catch {
    problems.push(`"${at}.encoding" "${encoding}" is not a known encoding (try utf-8, latin1 or utf-16le)`);
  }
  if (csv.columns !== undefined) {
    if (csv.columns.length === 0) problems.push(`"${at}.columns" must name at least one column`);
    const seen = new Set<string>();
    for (const column of csv.columns) {
      if (column === '' || seen.has(column)) {
        problems.push(`"${at}.columns" must be unique, non-empty names (check "${column}")`);
      }
      seen.add(column);
    }
  }
  return {
    header: csv.header ?? true,
    columns: csv.columns,
    delimiter,
    quote,
    escape: escapeChar,
    encoding,
    nullValues: new Set(csv.nullValues ?? []),
  };
}
