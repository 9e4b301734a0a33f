/**
 * Secrets in local mode: one file per secret under `<home>/secrets/`,
 * readable by the owner only. References look like `local:<name>`.
 */
// @ts-nocheck

import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '../../engine/errors.js';
import type { SecretStore } from '../../engine/ports.js';
import { completeAtomicWrite, tempPathFor } from './fs.js';

const PREFIX = 'local:';

export class LocalSecretStore implements SecretStore {
  private readonly dir: string;

  public constructor(home: string) {
    this.dir = join(home, 'secrets');
  }

  private fileOf(ref: string): string {
    if (!ref.startsWith(PREFIX)) throw new ValidationError(`"${ref}" is not a local secret reference`);
    return join(this.dir, `${encodeURIComponent(ref.slice(PREFIX.length))}.secret`);
  }

  public async put(name: string, value: string): Promise<string> {
    const ref = `${PREFIX}${name}`;
    const file = this.fileOf(ref);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = tempPathFor(file);
    // Created owner-only from the start: the value is never readable by others, even mid-write.
    await completeAtomicWrite(await open(temp, 'wx', 0o600), temp, file, (handle) => handle.writeFile(value));
    return ref;
  }

  public async get(ref: string): Promise<string> {
    try {
      return await readFile(this.fileOf(ref), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError(`secret ${ref} does not exist; register the source again with its secret`, {
          what: ref,
          cause: error,
        });
      }
      throw error;
    }
  }

  public async delete(ref: string): Promise<void> {
    await rm(this.fileOf(ref), { force: true });
  }
}
