/**
 * Filesystem primitives shared by the local adapters: atomic durable writes
 * (temp file in the same directory, fsync, rename, fsync the directory),
 * tolerant reads, name validation and a same-machine liveness check.
 */
// @ts-nocheck

import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SluiceError, ValidationError } from '../../engine/errors.js';

/** Temp files start with a dot and end with `.tmp`: listings skip them and `*.parquet` globs never match them. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

export function isTempName(name: string): boolean {
  return name.startsWith('.');
}

export function hasCode(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    codes.includes(String((error as { code: unknown }).code))
  );
}

/** Makes a rename or unlink in `dir` durable. Some platforms cannot open directories; that is not fatal. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!hasCode(error, 'EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOENT')) throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `path` so that a reader (or a process killed at any instant) sees
 * either the old content or the new one, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  await completeAtomicWrite(await open(temp, 'wx'), temp, path, (handle) => handle.writeFile(data));
}

/**
 * The second half of every atomic write: fill the fresh temp file, fsync it,
 * rename it over `path`, fsync the directory. The temp file is removed when
 * any step fails, so a failed write leaves nothing behind.
 */
export async function completeAtomicWrite(
  handle: FileHandle,
  temp: string,
  path: string,
  fill: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  try {
    await fill(handle);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a JSON file; undefined when it does not exist. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new SluiceError(`state file ${path} is not valid JSON`, { cause: error });
  }
}

/** Names of the regular entries of `dir` (temp files excluded), sorted; empty when it does not exist. */
export async function listNames(dir: string, suffix = ''): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ENOTDIR')) return [];
    throw error;
  }
  return names.filter((name) => !isTempName(name) && name.endsWith(suffix)).sort();
}

export async function removeFile(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return false;
    throw error;
  }
}

const NAME = /^[a-z][a-z0-9_]{0,127}$/;

/**
 * Source and stream names become directory names, DuckDB schemas and Glue
 * tables: snake_case only, which also rules out path traversal.
 */
export function validateName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new ValidationError(
      `${field} must be snake_case (a lowercase letter, then lowercase letters, digits or _; at most 128 characters), got ${JSON.stringify(value)}`,
      { field },
    );
  }
  return value;
}

/** Run ids are opaque but must make a safe file name (they are URI-encoded on disk). */
export function validateRunId(value: unknown, field = 'runId'): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > 200 ||
    value === '.' ||
    value === '..' ||
    value.startsWith('.') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
    /[\u0000-\u001f]/.test(value)
  ) {
    throw new ValidationError(
      `${field} must be 1-200 printable characters not starting with ".", got ${JSON.stringify(value)}`,
      {
        field,
      },
    );
  }
  return value;
}

export function runFileName(runId: string): string {
  return `${encodeURIComponent(runId)}.json`;
}

export const thisHost = hostname();

/** True unless `pid` certainly no longer runs on this machine. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return !hasCode(error, 'ESRCH');
  }
}
