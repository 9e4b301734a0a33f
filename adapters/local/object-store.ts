/**
 * The lake bucket on the local filesystem, rooted at `<home>/lake/`.
 *
 * Writes are atomic: bytes stream into a dot-prefixed temp file next to the
 * target, which is fsynced and renamed into place, so a reader (DuckDB
 * globbing `*.parquet`, or list()) never sees a partial object and a killed
 * process leaves at most a temp file that nothing lists. Empty directories
 * are pruned after deletes and moves, like prefixes vanish in S3.
 */
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { freeDisposableChunk } from '../../engine/disposable-chunks.js';
import { NotFoundError, ValidationError } from '../../engine/errors.js';
import type { ObjectInfo, ObjectStore } from '../../engine/ports.js';
import { completeAtomicWrite, fsyncDir, hasCode, isTempName, tempPathFor } from './fs.js';

/** Directory creation can race with pruning by another process; retry that many times. */
const MAX_ATTEMPTS = 5;

export class LocalObjectStore implements ObjectStore {
  /** Absolute path of the lake root. */
  public readonly root: string;

  public constructor(root: string) {
    this.root = resolve(root);
  }

  public async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<number> {
    const path = this.pathOf(key);
    const temp = tempPathFor(path);
    const handle = await this.openFresh(temp);
    let bytes = 0;
    await completeAtomicWrite(handle, temp, path, async (file) => {
      if (body instanceof Uint8Array) {
        await file.write(body);
        bytes = body.byteLength;
      } else {
        for await (const chunk of body) {
          await file.write(chunk);
          bytes += chunk.byteLength;
          freeDisposableChunk(chunk);
        }
      }
    });
    return bytes;
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const buffer = await readFile(this.pathOf(key));
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'EISDIR', 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  public async list(prefix: string): Promise<ObjectInfo[]> {
    validateKey(prefix, 'prefix', true);
    // Start at the deepest directory the prefix names; its last segment may be partial.
    const start =
      prefix === '' || prefix.endsWith('/') ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const found: ObjectInfo[] = [];
    await this.walk(start, prefix, found);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  public async move(from: string, to: string): Promise<void> {
    const source = this.pathOf(from);
    const target = this.pathOf(to);
    if (source === target) {
      if (!(await exists(source))) throw new NotFoundError(`object "${from}" does not exist`, { what: from });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(source, target);
        break;
      } catch (error) {
        if (!hasCode(error, 'ENOENT')) throw error;
        if (!(await exists(source))) {
          // Already moved by an earlier attempt (idempotent), or never there.
          if (await exists(target)) return;
          throw new NotFoundError(`cannot move "${from}" to "${to}": neither exists`, { what: from });
        }
        // The target directory was pruned between mkdir and rename: try again.
        if (attempt >= MAX_ATTEMPTS) throw error;
      }
    }
    await fsyncDir(dirname(target));
    await fsyncDir(dirname(source));
    await this.prune(dirname(source));
  }

  public async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await rm(path);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return;
      throw error;
    }
    await fsyncDir(dirname(path));
    await this.prune(dirname(path));
  }

  public async deletePrefix(prefix: string, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const deleted: string[] = [];
    for (const object of await this.list(prefix)) {
      if (keep.has(object.key)) continue;
      await this.delete(object.key);
      deleted.push(object.key);
    }
    // Temp files of writers killed mid-write: list() skips them, so look for them here.
    const start =
      prefix === '' || prefix.endsWith('/') ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
    await this.removeTemps(start, prefix);
    return deleted;
  }

  private async removeTemps(dirKey: string, prefix: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) return;
      throw error;
    }
    for (const entry of entries) {
      const key = dirKey + entry.name;
      if (entry.isDirectory() && !isTempName(entry.name)) {
        const childPrefix = `${key}/`;
        if (childPrefix.startsWith(prefix) || prefix.startsWith(childPrefix))
          await this.removeTemps(childPrefix, prefix);
      } else if (
        entry.isFile() &&
        isTempName(entry.name) &&
        key.startsWith(prefix.slice(0, prefix.lastIndexOf('/') + 1))
      ) {
        await rm(join(this.root, key), { force: true });
      }
    }
    await this.prune(join(this.root, dirKey));
  }

  public uri(key: string): string {
    validateKey(key, 'key', true);
    return key === '' ? this.root + sep : join(this.root, key);
  }

  private pathOf(key: string): string {
    validateKey(key, 'key', false);
    return join(this.root, key);
  }

  private async openFresh(temp: string): Promise<Awaited<ReturnType<typeof open>>> {
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(temp), { recursive: true });
      try {
        return await open(temp, 'wx');
      } catch (error) {
        if (!hasCode(error, 'ENOENT') || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async walk(dirKey: string, prefix: string, found: ObjectInfo[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) return;
      throw error;
    }
    for (const entry of entries) {
      if (isTempName(entry.name)) continue;
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        const childPrefix = `${key}/`;
        if (childPrefix.startsWith(prefix) || prefix.startsWith(childPrefix)) {
          await this.walk(childPrefix, prefix, found);
        }
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          const info = await stat(join(this.root, key));
          found.push({ key, size: info.size });
        } catch (error) {
          if (!hasCode(error, 'ENOENT')) throw error;
        }
      }
    }
  }

  /** Removes empty directories from `dir` up to (not including) the root. */
  private async prune(dir: string): Promise<void> {
    let current = dir;
    while (current !== this.root && relative(this.root, current).split(sep)[0] !== '..') {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or already gone, or raced with a writer): stop
      }
      current = dirname(current);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ENOTDIR')) return false;
    throw error;
  }
}

/**
 * Keys are `/`-separated relative paths. No empty, `.` or `..` segments, no
 * segment starting with `.` (reserved for temp files), no backslashes or NUL:
 * a key can never reach outside the lake root.
 */
function validateKey(key: string, field: string, allowPrefix: boolean): void {
  const fail = (why: string): never => {
    throw new ValidationError(`${field} ${JSON.stringify(key)} is not a valid object key: ${why}`, { field });
  };
  if (typeof key !== 'string') fail('not a string');
  if (key === '') {
    if (allowPrefix) return;
    fail('empty');
  }
  if (key.startsWith('/')) fail('must be relative (no leading "/")');
  if (key.includes('\\') || key.includes('\0')) fail('backslashes and NUL are not allowed');
  const segments = key.split('/');
  const last = segments.length - 1;
  segments.forEach((segment, index) => {
    if (segment === '') {
      if (index === last && allowPrefix) return;
      fail(index === last ? 'ends with "/"' : 'empty path segment');
    }
    if (segment.startsWith('.')) fail('path segments must not start with "."');
  });
}
