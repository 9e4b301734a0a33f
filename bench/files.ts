/**
 * The files workload of the benchmark: N synthetic order rows (bench/pool.ts)
 * as one CSV, one JSON Lines and one Parquet object in a private moto_server
 * bucket, each landed through the `s3-files` connector by the engine (in a
 * child process, as a user's `sluice sync` would), beside DuckDB reading the
 * same file from local disk into Parquet on one thread.
 */
import { createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3FilesConnector } from '../connectors/s3-files/index.js';
import { type EngineLoad, timedEngineLoad } from './local-load.js';
import { buildPool, pages } from './pool.js';

export const FILE_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export const FILES_BUCKET = 'sluice-bench-files';

export interface FileFixture {
  /** The same rows in each format, on local disk (DuckDB's input). */
  readonly paths: Readonly<Record<FileFormat, string>>;
  readonly bytes: Readonly<Record<FileFormat, number>>;
}

/** RFC 4180 field: quoted when it holds a delimiter, quote or line break; null is empty. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function writeLines(
  path: string,
  rows: number,
  line: (row: Record<string, unknown>) => string,
  head = '',
) {
  const out = createWriteStream(path);
  out.write(head);
  for (const page of pages(buildPool(), rows)) {
    let text = '';
    for (const row of page) text += line(row);
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/**
 * Writes the rows as CSV (with a header), JSON Lines and Parquet (DuckDB's
 * `COPY` from the JSON Lines, its default row groups) under `dir`, and puts
 * each into the bucket of the moto_server that AWS_ENDPOINT_URL names.
 */
export async function prepareFiles(rows: number, dir: string): Promise<FileFixture> {
  const columns = Object.keys([...pages(buildPool(), 1)][0]![0]!);
  const paths = {
    csv: join(dir, 'orders.csv'),
    jsonl: join(dir, 'orders.jsonl'),
    parquet: join(dir, 'orders.parquet'),
  };
  await writeLines(
    paths.csv,
    rows,
    (row) => `${columns.map((c) => csvField(row[c])).join(',')}\n`,
    `${columns.join(',')}\n`,
  );
  await writeLines(paths.jsonl, rows, (row) => `${JSON.stringify(row)}\n`);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const duck = await DuckDBInstance.create(':memory:');
  const db = await duck.connect();
  await db.run(`COPY (SELECT * FROM read_json('${paths.jsonl}')) TO '${paths.parquet}' (FORMAT parquet)`);
  db.closeSync();
  duck.closeSync();

  const client = new S3Client({ forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: FILES_BUCKET }));
    for (const format of FILE_FORMATS) {
      await client.send(
        new PutObjectCommand({
          Bucket: FILES_BUCKET,
          Key: `orders/orders.${format}`,
          Body: await readFile(paths[format]),
        }),
      );
    }
  } finally {
    client.destroy();
  }
  const bytes = {
    csv: (await stat(paths.csv)).size,
    jsonl: (await stat(paths.jsonl)).size,
    parquet: (await stat(paths.parquet)).size,
  };
  return { paths, bytes };
}

/** DuckDB's own read of the file → Parquet, as the yardstick's SQL. */
export function duckdbCopy(format: FileFormat, path: string, out: string): string {
  const reader = { csv: 'read_csv', jsonl: 'read_json', parquet: 'read_parquet' }[format];
  return `COPY (SELECT * FROM ${reader}('${path}')) TO '${out}' (FORMAT parquet)`;
}

export type FilesEngineRun = EngineLoad;

/** One full load of the format's object through the `s3-files` connector into a fresh local lake, in this process. */
export async function filesEngineRun(
  format: FileFormat,
  rows: number,
  options: { readonly rowGroupBytes?: number } = {},
): Promise<FilesEngineRun> {
  const config = {
    bucket: FILES_BUCKET,
    forcePathStyle: true,
    streams: [{ name: 'orders', glob: `orders/*.${format}`, format }],
  };
  return timedEngineLoad({
    source: `files${format}`,
    type: 's3-files',
    connector: s3FilesConnector as never,
    config,
    stream: 'orders',
    rows,
    ...options,
  });
}
