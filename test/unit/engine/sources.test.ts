/** Registering a source: nothing half-created, secrets included. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretStore } from '../../../adapters/local/secret-store.js';
import { LocalStateStore } from '../../../adapters/local/state-store.js';
import { connectors } from '../../../connectors/index.js';
import type { SecretStore } from '../../../engine/ports.js';
import { createRegistry, createSource } from '../../../engine/sources.js';

describe('createSource', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-sources-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('removes the secrets it wrote when a later write fails, storing no source', async () => {
    // Prepare: the second secret write (the pii salt, after the password) fails
    const local = new LocalSecretStore(home);
    let puts = 0;
    const secrets: SecretStore = {
      put: async (name, value) => {
        if (++puts === 2) throw new Error('secret store unavailable');
        return local.put(name, value);
      },
      get: (ref) => local.get(ref),
      delete: (ref) => local.delete(ref),
    };
    const state = new LocalStateStore(join(home, 'state'));
    const input = {
      name: 'pg',
      type: 'postgres',
      config: { host: 'localhost', database: 'shop', user: 'loader', password: 'hunter2' },
      pii: { public_customers: { email: 'hash' } },
    };

    // Act
    const created = createSource(input, { state, secrets, registry: createRegistry(connectors) });

    // Assess
    await expect(created).rejects.toThrow('secret store unavailable');
    expect(puts).toBe(2);
    expect(await readdir(join(home, 'secrets'))).toEqual([]);
    expect(await state.getSource('pg')).toBeUndefined();
  });
});
