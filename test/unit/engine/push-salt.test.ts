import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretStore } from '../../../adapters/local/secret-store.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { pushSalt } from '../../../engine/push.js';

describe('pushSalt', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-push-salt-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('reads a source’s salt from the secret store once, not for every batch', async () => {
    // Prepare: the real local store, counting its reads.
    const store = new LocalSecretStore(home);
    const ref = await store.put('hooks/pii-salt@1', 'the-salt');
    let reads = 0;
    const counting = {
      get: (r: string) => {
        reads++;
        return store.get(r);
      },
    };
    const source: SourceDefinition = {
      name: 'hooks',
      type: 'push',
      config: {},
      pii: { clicks: { email: 'hash' } },
      piiSalt: { $secret: ref },
      createdAt: '2026-11-28T00:00:00.000Z',
      updatedAt: '2026-11-28T00:00:00.000Z',
    };

    // Act
    const salts = [await pushSalt(source, counting), await pushSalt(source, counting)];

    // Assess
    expect(salts).toEqual(['the-salt', 'the-salt']);
    expect(reads).toBe(1);
  });
});
