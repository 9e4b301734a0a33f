// @ts-nocheck
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { SecretsManagerSecretStore } from '../../../adapters/aws/secrets.js';
import { NotFoundError } from '../../../engine/errors.js';
import { uniqueName } from './support.js';

const client = new SecretsManagerClient(clientConfig(AwsService.secretsManager));

describe('SecretsManagerSecretStore', () => {
  const prefix = `${uniqueName('sluice-test')}/`;
  const store = new SecretsManagerSecretStore({ client, prefix });

  it('stores a secret and resolves its reference (an ARN) to the value', async () => {
    // Act
    const ref = await store.put('shop/api_key', 'sk_live_123');

    // Assess
    expect(ref).toMatch(/^arn:aws:secretsmanager:[^:]+:\d+:secret:/);
    expect(await store.get(ref)).toBe('sk_live_123');
    const described = await client.send(new DescribeSecretCommand({ SecretId: ref }));
    expect(described.Name).toBe(`${prefix}shop/api_key`);
    expect(described.Tags).toContainEqual({ Key: 'sluice:managed', Value: 'true' });
  });

  it('overwrites the value under the same reference when put again', async () => {
    // Prepare
    const first = await store.put('shop/password', 'one');

    // Act
    const second = await store.put('shop/password', 'two');

    // Assess
    expect(second).toBe(first);
    expect(await store.get(first)).toBe('two');
  });

  it('maps path characters Secrets Manager rejects to underscores', async () => {
    // Act
    const ref = await store.put('shop/keys[0] and more', 'k0');

    // Assess
    expect(store.secretName('shop/keys[0] and more')).toBe(`${prefix}shop/keys_0__and_more`);
    expect(await store.get(ref)).toBe('k0');
  });

  it('throws NotFoundError for a reference to nothing', async () => {
    await expect(store.get(`${prefix}never/stored`)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes a secret, and succeeds when it is already gone', async () => {
    // Prepare
    const ref = await store.put('shop/doomed', 'bye');

    // Act
    await store.delete(ref);
    await store.delete(ref);

    // Assess
    await expect(store.get(ref)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('restores and overwrites a secret deleted within its recovery window when the name is reused', async () => {
    // Prepare
    const ref = await store.put('shop/recycled', 'old');
    await store.delete(ref);

    // Act
    const again = await store.put('shop/recycled', 'new');

    // Assess
    expect(await store.get(again)).toBe('new');
  });

  it('deletes at once without a recovery window when configured so', async () => {
    // Prepare
    const immediate = new SecretsManagerSecretStore({ client, prefix, recoveryWindowDays: 0 });
    const ref = await immediate.put('shop/now', 'x');

    // Act
    await immediate.delete(ref);
    const fresh = await immediate.put('shop/now', 'y');

    // Assess
    expect(await immediate.get(fresh)).toBe('y');
  });

  it('keeps JSON values intact', async () => {
    const value = JSON.stringify({ user: 'u', password: 'p"w\n' });
    const ref = await store.put('shop/credentials', value);
    expect(JSON.parse(await store.get(ref))).toEqual({ user: 'u', password: 'p"w\n' });
  });
});
