/**
 * The local Glue Data Catalog: one JSON file per table under
 * `<home>/catalog/<source>/<stream>.json` (definition and schema versions),
 * and the data files each run committed under
 * `<home>/catalog/<source>/_files/<stream>/<runId>.json`.
 *
 * The recorded files are bookkeeping (what a run landed), not what a query
 * sees: like Athena, the query engine reads everything under the table's
 * location — or, for a table with registered partitions (push tables),
 * everything under each partition's registered location, kept in
 * `<home>/catalog/<source>/_partitions/<stream>.json` and replaced by one
 * atomic file write (the local UpdatePartition).
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConflictError, ValidationError } from '../../engine/errors.js';
import type { Catalog, PartitionLocation, TableDefinition } from '../../engine/ports.js';
import {
  listNames,
  readJson,
  removeFile,
  runFileName,
  validateName,
  validateRunId,
  writeJsonAtomic,
} from './fs.js';
import { FileLock, type FileLockOptions } from './lock.js';

export interface LocalCatalogOptions {
  /** Tuning of the cross-process locks. */
  readonly lock?: FileLockOptions;
}

interface RunFiles {
  readonly runId: string;
  readonly keys: readonly string[];
}

const FILES_DIR = '_files';
const PARTITIONS_DIR = '_partitions';

/** Partition → lake prefix of one table. */
type PartitionMap = Readonly<Record<string, string>>;

export class LocalCatalog implements Catalog {
  /** Absolute path of the catalog directory. */
  public readonly dir: string;
  private readonly lockOptions: FileLockOptions;

  public constructor(dir: string, options: LocalCatalogOptions = {}) {
    this.dir = resolve(dir);
    this.lockOptions = options.lock ?? {};
  }

  public async getTable(source: string, stream: string): Promise<TableDefinition | undefined> {
    return readJson<TableDefinition>(this.tablePath(source, stream));
  }

  /** Sorted by source, then stream. */
  public async listTables(source?: string): Promise<TableDefinition[]> {
    const sources =
      source === undefined
        ? (await listNames(this.dir)).filter((name) => !name.startsWith('_'))
        : [validateName('source', source)];
    const tables: TableDefinition[] = [];
    for (const name of sources) {
      const files = await listNames(join(this.dir, name), '.json');
      const found = await Promise.all(
        files.map((file) => readJson<TableDefinition>(join(this.dir, name, file))),
      );
      for (const table of found) if (table !== undefined) tables.push(table);
    }
    return tables;
  }

  public async putTable(table: TableDefinition): Promise<void> {
    const path = this.tablePath(table.source, table.stream);
    validateTable(table);
    await this.lock(table.source, table.stream).withLock(async () => {
      const current = await readJson<TableDefinition>(path);
      if (current !== undefined && JSON.stringify(current) === JSON.stringify(table)) return;
      await writeJsonAtomic(path, table);
    });
  }

  public async addFiles(
    source: string,
    stream: string,
    runId: string,
    keys: readonly string[],
  ): Promise<void> {
    const path = this.runFilesPath(source, stream, runId);
    await this.lock(source, stream).withLock(async () => {
      const current = await readJson<RunFiles>(path);
      const known = new Set(current?.keys ?? []);
      const added = keys.filter((key) => !known.has(key));
      if (current !== undefined && added.length === 0) return;
      const merged: RunFiles = { runId, keys: [...known, ...new Set(added)].sort() };
      await writeJsonAtomic(path, merged);
    });
  }

  /** The data files recorded for a table, per run id (sorted by run id). Not part of the port. */
  public async listFiles(source: string, stream: string): Promise<RunFiles[]> {
    const dir = join(this.dir, validateName('source', source), FILES_DIR, validateName('stream', stream));
    const names = await listNames(dir, '.json');
    const found = await Promise.all(names.map((name) => readJson<RunFiles>(join(dir, name))));
    return found
      .filter((entry): entry is RunFiles => entry !== undefined)
      .sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  }

  public async deleteTable(source: string, stream: string): Promise<void> {
    const path = this.tablePath(source, stream);
    await this.lock(source, stream).withLock(async () => {
      await removeFile(path);
      await removeFile(this.partitionsPath(source, stream));
      await rm(join(this.dir, source, FILES_DIR, stream), { recursive: true, force: true });
    });
  }

  public async listPartitions(source: string, stream: string): Promise<PartitionLocation[]> {
    const map = (await readJson<PartitionMap>(this.partitionsPath(source, stream))) ?? {};
    return Object.keys(map)
      .sort()
      .map((partition) => ({ partition, location: map[partition] as string }));
  }

  public async ensurePartition(
    source: string,
    stream: string,
    partition: string,
    location: string,
  ): Promise<string> {
    validatePartition(partition, location);
    if ((await this.getTable(source, stream)) === undefined) {
      throw new ConflictError(`table ${source}.${stream} does not exist: create it before its partitions`);
    }
    const path = this.partitionsPath(source, stream);
    return this.lock(source, stream).withLock(async () => {
      const map = (await readJson<PartitionMap>(path)) ?? {};
      const existing = map[partition];
      if (existing !== undefined) return existing;
      await writeJsonAtomic(path, { ...map, [partition]: location });
      return location;
    });
  }

  public async switchPartition(
    source: string,
    stream: string,
    partition: string,
    from: string,
    to: string,
  ): Promise<void> {
    validatePartition(partition, to);
    const path = this.partitionsPath(source, stream);
    await this.lock(source, stream).withLock(async () => {
      const map = (await readJson<PartitionMap>(path)) ?? {};
      const current = map[partition];
      if (current === to) return;
      if (current !== from) {
        throw new ConflictError(
          `partition ${partition} of ${source}.${stream} is at ${current ?? '(not registered)'}, not ${from}: another writer moved it`,
        );
      }
      await writeJsonAtomic(path, { ...map, [partition]: to });
    });
  }

  private partitionsPath(source: string, stream: string): string {
    return join(
      this.dir,
      validateName('source', source),
      PARTITIONS_DIR,
      `${validateName('stream', stream)}.json`,
    );
  }

  private lock(source: string, stream: string): FileLock {
    return new FileLock(join(this.dir, '_locks', `${source}.${stream}`), this.lockOptions);
  }

  private tablePath(source: string, stream: string): string {
    return join(this.dir, validateName('source', source), `${validateName('stream', stream)}.json`);
  }

  private runFilesPath(source: string, stream: string, runId: string): string {
    return join(
      this.dir,
      validateName('source', source),
      FILES_DIR,
      validateName('stream', stream),
      runFileName(validateRunId(runId)),
    );
  }
}

function validateTable(table: TableDefinition): void {
  if (typeof table.location !== 'string' || table.location === '' || table.location.includes('..')) {
    throw new ValidationError(`table location must be a lake prefix, got ${JSON.stringify(table.location)}`, {
      field: 'location',
    });
  }
  if (!Array.isArray(table.schemaVersions)) {
    throw new ValidationError('table schemaVersions must be an array', { field: 'schemaVersions' });
  }
}

function validatePartition(partition: string, location: string): void {
  if (!/^dt=\d{4}-\d{2}-\d{2}$/.test(partition)) {
    throw new ValidationError(`partition "${partition}" is not dt=yyyy-mm-dd`, { field: 'partition' });
  }
  if (location === '' || location.includes('..') || !location.endsWith('/')) {
    throw new ValidationError(
      `partition location must be a lake prefix ending in /, got ${JSON.stringify(location)}`,
      {
        field: 'location',
      },
    );
  }
}
