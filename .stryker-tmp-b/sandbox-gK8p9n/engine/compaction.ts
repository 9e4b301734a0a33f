/**
 * Compaction of small pushed files (ADR 0009, amendment): which files of a
 * partition version to rewrite, into which groups, and where the next
 * version lives. A partition's readers follow one location,
 * `dt=<date>/v<nnnnn>/`; compaction writes the next version beside the
 * current one and switches the location in one catalog call.
 *
 * This file holds the planning rules and the rewrite, shared by both tiers;
 * the switch (catalog partition locations, the scheduled handler) is not
 * built yet (docs/push.md, "Small files").
 */
// @ts-nocheck

import { type Table as ArrowTable, tableFromIPC, tableToIPC } from 'apache-arrow';
import {
  Compression,
  EnabledStatistics,
  readParquet,
  Table,
  WriterPropertiesBuilder,
  WriterVersion,
  writeParquet,
} from 'parquet-wasm';
import { ValidationError } from './errors.js';
import { ParquetError } from './parquet/errors.js';
import type { ObjectInfo } from './ports.js';

export interface CompactionOptions {
  /** Size a rewritten file aims for. @default 134217728 */
  readonly targetFileBytes?: number;
  /** A file below this is small. @default targetFileBytes / 4 */
  readonly smallFileBytes?: number;
  /** Fewer small files than this are left alone. @default 4 */
  readonly minFiles?: number;
}

export interface CompactionPlan {
  /** The version readers follow now. */
  readonly from: number;
  /** The version compaction writes and switches to. */
  readonly to: number;
  /** Small files, grouped so each group's bytes stay within the target (one output file per group). */
  readonly groups: readonly (readonly string[])[];
  /** Files left as they are (already big enough), carried into the new version by copy. */
  readonly kept: readonly string[];
}

const VERSION = /^v(\d{5})$/;

/** `dt=2026-11-27` + 3 → `dt=2026-11-27/v00003`: a version directory, with no `=` so no reader infers a column. */
export function partitionVersion(partition: string, version: number): string {
  if (!/^dt=\d{4}-\d{2}-\d{2}$/.test(partition)) {
    throw new ValidationError(`partition "${partition}" is not dt=yyyy-mm-dd`, { field: 'partition' });
  }
  if (!Number.isInteger(version) || version < 0 || version > 99_999) {
    throw new ValidationError(`partition version ${version} is not an integer in 0..99999`, {
      field: 'version',
    });
  }
  return `${partition}/v${String(version).padStart(5, '0')}`;
}

/** The version number of a partition location (`…/dt=…/v00003/`), or undefined for an unversioned one. */
export function versionOfLocation(location: string): number | undefined {
  const last = location.replace(/\/+$/, '').split('/').at(-1) ?? '';
  const match = VERSION.exec(last);
  return match ? Number(match[1]) : undefined;
}

/**
 * Plans the compaction of one partition version from its listing. Undefined
 * when there is nothing worth rewriting. Files are grouped in key order
 * (landing order), first fit, so a rerun of the same listing plans the same
 * groups and output keys.
 */
export function planCompaction(
  current: number,
  files: readonly ObjectInfo[],
  options: CompactionOptions = {},
): CompactionPlan | undefined {
  const target = options.targetFileBytes ?? 128 * 1024 * 1024;
  const small = options.smallFileBytes ?? Math.floor(target / 4);
  const minFiles = options.minFiles ?? 4;
  if (!(target > 0) || !(small > 0) || small > target) {
    throw new ValidationError(
      `compaction sizes are inconsistent: smallFileBytes ${small} must be in 1..targetFileBytes ${target}`,
      { field: 'smallFileBytes' },
    );
  }
  const parquet = [...files]
    .filter((f) => f.key.endsWith('.parquet'))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const smallFiles = parquet.filter((f) => f.size < small);
  if (smallFiles.length < Math.max(2, minFiles)) return undefined;
  const groups: string[][] = [];
  let group: string[] = [];
  let bytes = 0;
  for (const file of smallFiles) {
    if (group.length > 0 && bytes + file.size > target) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(file.key);
    bytes += file.size;
  }
  if (group.length > 0) groups.push(group);
  // A lone small file in a group of its own gains nothing; rewriting it is still correct, so it stays (simpler recovery).
  return {
    from: current,
    to: current + 1,
    groups,
    kept: parquet.filter((f) => f.size >= small).map((f) => f.key),
  };
}

/** The key of the `index`-th rewritten file of a plan: derived, so a retried rewrite overwrites the same keys. */
export function compactedFileKey(
  tableLocation: string,
  partition: string,
  plan: CompactionPlan,
  index: number,
): string {
  const base = tableLocation.endsWith('/') ? tableLocation : `${tableLocation}/`;
  return `${base}${partitionVersion(partition, plan.to)}/compact-v${String(plan.to).padStart(5, '0')}-${String(index).padStart(5, '0')}.parquet`;
}

/** What a column set looks like, to group only files a plain concatenation can join. */
function signatureOf(table: ArrowTable): string {
  return table.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`).join(',');
}

/**
 * Rewrites Parquet files into one, row for row (duplicates kept, order
 * kept), through Arrow so column types are carried over exactly. Files
 * written under different schemas (a column added between batches) are
 * refused: the caller groups by schema, or leaves such files alone.
 */
export function rewriteParquet(
  files: readonly Uint8Array[],
  compression: 'snappy' | 'zstd' = 'snappy',
): Uint8Array {
  if (files.length === 0) throw new ValidationError('nothing to rewrite: no files', { field: 'files' });
  const tables = files.map((bytes, index) => {
    try {
      return tableFromIPC(readParquet(bytes).intoIPCStream());
    } catch (cause) {
      throw new ParquetError(`file ${index} of the group is not readable Parquet`, { cause });
    }
  });
  const [first, ...rest] = tables as [ArrowTable, ...ArrowTable[]];
  const signature = signatureOf(first);
  rest.forEach((table, i) => {
    if (signatureOf(table) !== signature) {
      throw new ValidationError(
        `file ${i + 1} of the group has another schema (${signatureOf(table)}) than file 0 (${signature})`,
        { field: 'files' },
      );
    }
  });
  const joined = first.concat(...rest);
  const properties = new WriterPropertiesBuilder()
    .setCompression(compression === 'zstd' ? Compression.ZSTD : Compression.SNAPPY)
    .setStatisticsEnabled(EnabledStatistics.Page)
    .setWriterVersion(WriterVersion.V1)
    .setMaxRowGroupSize(Math.max(1, joined.numRows))
    .build();
  try {
    return writeParquet(Table.fromIPCStream(tableToIPC(joined, 'stream')), properties);
  } catch (cause) {
    throw new ParquetError('parquet-wasm failed to encode the compacted file', { cause });
  }
}
