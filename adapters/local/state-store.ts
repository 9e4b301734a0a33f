/**
 * Sources, cursors, runs and leases as JSON files under `<home>/state/`:
 *
 *   sources/<name>.json
 *   cursors/<source>/<stream>.json   { cursor, version }
 *   runs/<source>/<runId>.json
 *   leases/<source>.json             { source, owner, expiresAt, pid, host }
 *   locks/<kind>/<key>/              cross-process mutexes (see lock.ts)
 *
 * Every write is atomic (temp file, fsync, rename), so a process killed at
 * any point leaves each file either old or new. Read-compare-write sections
 * (cursor compare-and-set, source creation, leases) run under a
 * cross-process lock, so several CLI processes can share one home.
 */
import { join, resolve } from 'node:path';
import { ConflictError, LeaseHeldError, ValidationError } from '../../engine/errors.js';
import {
  type CursorState,
  isAfter,
  type Lease,
  type RunPosition,
  type RunRecord,
  type RunStatus,
  type SourceDefinition,
  type StateStore,
  type VersionedCursor,
} from '../../engine/ports.js';
import {
  isProcessAlive,
  listNames,
  readJson,
  removeFile,
  runFileName,
  thisHost,
  validateName,
  validateRunId,
  writeJsonAtomic,
} from './fs.js';
import { FileLock, type FileLockOptions } from './lock.js';

export interface LocalStateStoreOptions {
  /** Tuning of the cross-process locks. */
  readonly lock?: FileLockOptions;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

interface CursorFile {
  readonly cursor: CursorState | null;
  readonly version: number;
  readonly committedAt: string;
}

interface LeaseFile extends Lease {
  /** Holder process, so a lease of a killed local process is free at once. */
  readonly pid: number;
  readonly host: string;
  readonly acquiredAt: number;
}

export class LocalStateStore implements StateStore {
  /** Absolute path of the state directory. */
  public readonly dir: string;
  private readonly lockOptions: FileLockOptions;
  private readonly now: () => number;

  public constructor(dir: string, options: LocalStateStoreOptions = {}) {
    this.dir = resolve(dir);
    this.lockOptions = options.lock ?? {};
    this.now = options.now ?? Date.now;
  }

  // ---------- sources ----------

  public async putSource(source: SourceDefinition, expected?: { readonly updatedAt: string }): Promise<void> {
    const name = validateName('name', source.name);
    await this.lock('sources', name).withLock(async () => {
      if (expected !== undefined) {
        const stored = await readJson<SourceDefinition>(this.sourcePath(name));
        if (JSON.stringify(stored) === JSON.stringify(source)) return;
        if (stored?.updatedAt !== expected.updatedAt) {
          throw new ConflictError(
            `source "${name}" was changed or deleted meanwhile; read it again and retry`,
            {
              what: `source ${name}`,
            },
          );
        }
      }
      await writeJsonAtomic(this.sourcePath(name), source);
    });
  }

  public async createSource(source: SourceDefinition): Promise<void> {
    const name = validateName('name', source.name);
    await this.lock('sources', name).withLock(async () => {
      const stored = await readJson<SourceDefinition>(this.sourcePath(name));
      if (JSON.stringify(stored) === JSON.stringify(source)) return;
      if (stored !== undefined) {
        throw new ConflictError(`source "${name}" already exists`, { what: `source ${name}` });
      }
      await writeJsonAtomic(this.sourcePath(name), source);
    });
  }

  public async getSource(name: string): Promise<SourceDefinition | undefined> {
    return readJson<SourceDefinition>(this.sourcePath(validateName('name', name)));
  }

  public async listSources(): Promise<SourceDefinition[]> {
    const names = await listNames(join(this.dir, 'sources'), '.json');
    const sources = await Promise.all(
      names.map((file) => readJson<SourceDefinition>(join(this.dir, 'sources', file))),
    );
    return sources.filter((source): source is SourceDefinition => source !== undefined);
  }

  /** Deletes the definition only; cursors, runs and catalog entries are the caller's to clean up. */
  public async deleteSource(name: string): Promise<void> {
    validateName('name', name);
    await this.lock('sources', name).withLock(async () => {
      await removeFile(this.sourcePath(name));
    });
  }

  // ---------- cursors ----------

  public async getCursor(source: string, stream: string): Promise<VersionedCursor> {
    const file = await readJson<CursorFile>(this.cursorPath(source, stream));
    if (file === undefined) return { cursor: undefined, version: 0 };
    return { cursor: file.cursor ?? undefined, version: file.version };
  }

  public async commitCursor(
    source: string,
    stream: string,
    expectedVersion: number,
    cursor: CursorState | undefined,
  ): Promise<void> {
    const path = this.cursorPath(source, stream);
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        field: 'expectedVersion',
      });
    }
    await this.lock('cursors', `${source}.${stream}`).withLock(async () => {
      const current = (await readJson<CursorFile>(path))?.version ?? 0;
      if (current !== expectedVersion) {
        throw new ConflictError(
          `cursor of ${source}.${stream} is at version ${current}, not ${expectedVersion}: another run committed first`,
          { what: `cursor ${source}/${stream}` },
        );
      }
      const next: CursorFile = {
        cursor: cursor ?? null,
        version: expectedVersion + 1,
        committedAt: new Date(this.now()).toISOString(),
      };
      await writeJsonAtomic(path, next);
    });
  }

  // ---------- runs ----------

  public async putRun(run: RunRecord): Promise<void> {
    await writeJsonAtomic(this.runPath(run.source, run.runId), run);
  }

  public async getRun(source: string, runId: string): Promise<RunRecord | undefined> {
    return readJson<RunRecord>(this.runPath(source, runId));
  }

  /** Looks the run file up in each source's folder (one file per source, no listing of runs). */
  public async findRun(runId: string): Promise<RunRecord | undefined> {
    const found: RunRecord[] = [];
    for (const name of await listNames(join(this.dir, 'runs'))) {
      const run = await readJson<RunRecord>(this.runPath(name, runId));
      if (run) found.push(run);
    }
    found.sort((a, b) => compareDesc(a.startedAt, b.startedAt));
    return found[0];
  }

  /** Newest first (by `startedAt`, then run id); all sources when `source` is absent. */
  public async listRuns(source?: string, limit?: number, after?: RunPosition): Promise<RunRecord[]> {
    const sources =
      source === undefined ? await listNames(join(this.dir, 'runs')) : [validateName('source', source)];
    const runs: RunRecord[] = [];
    for (const name of sources) {
      const dir = join(this.dir, 'runs', name);
      const files = await listNames(dir, '.json');
      const records = await Promise.all(files.map((file) => readJson<RunRecord>(join(dir, file))));
      for (const record of records) if (record !== undefined) runs.push(record);
    }
    runs.sort((a, b) => compareDesc(a.startedAt, b.startedAt) || compareDesc(a.runId, b.runId));
    const page = after === undefined ? runs : runs.filter((run) => isAfter(run, after));
    return limit === undefined ? page : page.slice(0, Math.max(0, limit));
  }

  /** Runs in one status across sources, newest first (the local store scans every run file). */
  public async listRunsByStatus(status: RunStatus, limit?: number): Promise<RunRecord[]> {
    const runs = (await this.listRuns()).filter((run) => run.status === status);
    return limit === undefined ? runs : runs.slice(0, Math.max(0, limit));
  }

  // ---------- leases ----------

  public async acquireLease(source: string, owner: string, ttlMs: number): Promise<Lease> {
    const path = this.leasePath(source);
    validateOwnerAndTtl(owner, ttlMs);
    return this.lock('leases', source).withLock(async () => {
      const current = await readJson<LeaseFile>(path);
      if (current !== undefined && current.owner !== owner && !this.isFree(current)) {
        throw new LeaseHeldError({ source, owner: current.owner, expiresAt: current.expiresAt });
      }
      return this.writeLease(path, source, owner, ttlMs);
    });
  }

  public async renewLease(source: string, owner: string, ttlMs: number): Promise<Lease> {
    const path = this.leasePath(source);
    validateOwnerAndTtl(owner, ttlMs);
    return this.lock('leases', source).withLock(async () => {
      const current = await readJson<LeaseFile>(path);
      if (current === undefined) {
        throw new LeaseHeldError({ source, owner: undefined, expiresAt: undefined });
      }
      // An expired lease nobody took over is still ours to extend (as a conditional write on owner would).
      if (current.owner !== owner) {
        throw new LeaseHeldError({ source, owner: current.owner, expiresAt: current.expiresAt });
      }
      return this.writeLease(path, source, owner, ttlMs);
    });
  }

  public async releaseLease(source: string, owner: string): Promise<void> {
    const path = this.leasePath(source);
    await this.lock('leases', source).withLock(async () => {
      const current = await readJson<LeaseFile>(path);
      if (current?.owner === owner) await removeFile(path);
    });
  }

  /** The lease as stored, with its holder's pid and host; undefined when nobody holds one. */
  public async getLease(source: string): Promise<Lease | undefined> {
    const current = await readJson<LeaseFile>(this.leasePath(source));
    if (current === undefined || this.isFree(current)) return undefined;
    return { source: current.source, owner: current.owner, expiresAt: current.expiresAt };
  }

  // ---------- internals ----------

  private isFree(lease: LeaseFile): boolean {
    if (lease.expiresAt <= this.now()) return true;
    return lease.host === thisHost && lease.pid !== process.pid && !isProcessAlive(lease.pid);
  }

  private async writeLease(path: string, source: string, owner: string, ttlMs: number): Promise<Lease> {
    const now = this.now();
    const lease: LeaseFile = {
      source,
      owner,
      expiresAt: now + ttlMs,
      pid: process.pid,
      host: thisHost,
      acquiredAt: now,
    };
    await writeJsonAtomic(path, lease);
    return { source, owner, expiresAt: lease.expiresAt };
  }

  private lock(kind: string, key: string): FileLock {
    return new FileLock(join(this.dir, 'locks', kind, key), this.lockOptions);
  }

  private sourcePath(name: string): string {
    return join(this.dir, 'sources', `${name}.json`);
  }

  private cursorPath(source: string, stream: string): string {
    return join(
      this.dir,
      'cursors',
      validateName('source', source),
      `${validateName('stream', stream)}.json`,
    );
  }

  private runPath(source: string, runId: string): string {
    return join(this.dir, 'runs', validateName('source', source), runFileName(validateRunId(runId)));
  }

  private leasePath(source: string): string {
    return join(this.dir, 'leases', `${validateName('source', source)}.json`);
  }
}

function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

function validateOwnerAndTtl(owner: string, ttlMs: number): void {
  if (typeof owner !== 'string' || owner.length === 0) {
    throw new ValidationError('lease owner must be a non-empty string', { field: 'owner' });
  }
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ValidationError(`lease ttlMs must be a positive number, got ${ttlMs}`, { field: 'ttlMs' });
  }
}
