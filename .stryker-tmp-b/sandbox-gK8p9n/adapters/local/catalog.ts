/**
 * The local Glue Data Catalog: one JSON file per table under
 * `<home>/catalog/<source>/<stream>.json` (definition and schema versions),
 * and the data files each run committed under
 * `<home>/catalog/<source>/_files/<stream>/<runId>.json`.
 *
 * The recorded files are bookkeeping (what a run landed), not what a query
 * sees: like Athena, the query engine reads everything under the table's
 * location.
 */
// @ts-nocheck

import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ValidationError } from '../../engine/errors.js';
import type { Catalog, TableDefinition } from '../../engine/ports.js';
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
      await rm(join(this.dir, source, FILES_DIR, stream), { recursive: true, force: true });
    });
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
