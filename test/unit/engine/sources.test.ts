/** Registering a source: nothing half-created, secrets included. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretStore } from '../../../adapters/local/secret-store.js';
import { LocalStateStore } from '../../../adapters/local/state-store.js';
import { connectors } from '../../../connectors/index.js';
import type { ValidationError } from '../../../engine/errors.js';
import type { SecretStore } from '../../../engine/ports.js';
import { createRegistry, createSource, parseSourceInput } from '../../../engine/sources.js';

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

describe('parseSourceInput with pii', () => {
  const registry = createRegistry(connectors);
  const push = (pii: unknown) => ({
    name: 'hooks',
    type: 'push',
    config: { streams: [{ name: 'clicks', primaryKey: ['id'] }] },
    pii,
  });
  const fieldOf = (act: () => unknown): string | undefined => {
    try {
      act();
    } catch (error) {
      return (error as ValidationError).field;
    }
    return undefined;
  };

  it('refuses, when the config declares the streams, what every sync would refuse', () => {
    // Act + Assess: a redacted key, an unknown stream; a hashed key passes.
    expect(fieldOf(() => parseSourceInput(push({ clicks: { id: 'redact' } }), registry))).toBe(
      'pii.clicks.id',
    );
    expect(fieldOf(() => parseSourceInput(push({ clickz: { email: 'hash' } }), registry))).toBe('pii.clickz');
    expect(parseSourceInput(push({ clicks: { id: 'hash' } }), registry).pii).toEqual({
      clicks: { id: 'hash' },
    });
    // A PATCH touching neither config nor pii can still pause a source stored before this check.
    expect(
      parseSourceInput(push({ clicks: { id: 'redact' } }), registry, { checkPii: false }).pii,
    ).toBeDefined();
  });

  it('leaves a discovering connector’s pii to its syncs, reading nothing at registration', () => {
    // Act: the database does not exist; registering must not try to reach it.
    const parsed = parseSourceInput(
      {
        name: 'shop',
        type: 'postgres',
        config: { host: '127.0.0.1', port: 1, database: 'shop', user: 'loader', password: 'x' },
        pii: { 'public.customers': { email: 'hash' } },
      },
      registry,
    );

    // Assess
    expect(parsed.pii).toEqual({ 'public.customers': { email: 'hash' } });
  });
});
