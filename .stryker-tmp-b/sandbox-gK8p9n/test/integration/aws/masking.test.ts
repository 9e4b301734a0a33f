/**
 * Masking on the AWS tier (moto): the salt is created once in Secrets
 * Manager, referenced from the source in DynamoDB, resolved at sync; no
 * clear value of a masked field reaches S3, DynamoDB or the logs.
 */
// @ts-nocheck

import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import type { Connector, Logger, Stream } from '../../../connectors/sdk/types.js';
import { createRegistry, createSource, resolveSource } from '../../../engine/sources.js';
import { openAwsTestLake } from './lake.js';

const dynamodb = new DynamoDBClient(clientConfig(AwsService.dynamodb));

describe('masking on AWS', () => {
  it('hashes a pii field with a salt kept in Secrets Manager, so no clear value lands anywhere', async () => {
    // Prepare
    const tag = Math.random().toString(36).slice(2);
    const emails = Array.from({ length: 5 }, (_, i) => `person${i}.${tag}@example.com`);
    const connector = {
      type: 'personal',
      description: 'test connector with personal data',
      configSchema: { type: 'object', properties: {} },
      check: async () => ({ ok: true }),
      streams: () => [
        {
          name: 'people',
          primaryKey: ['id'],
          writeDisposition: 'append',
          async *read() {
            yield emails.map((email, id) => ({ id, email }));
          },
        } satisfies Stream,
      ],
    } as unknown as Connector<never>;
    const registry = createRegistry([connector]);
    const logged: string[] = [];
    const logger: Logger = {
      debug: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
      info: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
      warn: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
      error: (m, e) => logged.push(m, JSON.stringify(e ?? {})),
    };
    const bootstrap = await openAwsTestLake();
    const { state, secrets } = bootstrap.backend;
    const source = await createSource(
      { name: 'people_src', type: 'personal', config: {}, pii: { people: { email: 'hash' } } },
      { state, secrets, registry },
    );
    const resolved = await resolveSource(source, { secrets, registry });
    const lake = await openAwsTestLake({
      names: bootstrap.names,
      source,
      connector: resolved.connector,
      config: resolved.config,
      logger,
    });

    // Act
    const run = await lake.sync(resolved.piiSalt === undefined ? {} : { piiSalt: resolved.piiSalt });
    const rows = await lake.athenaRows('SELECT email FROM people_src__people');

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(source.piiSalt?.$secret).toMatch(/^arn:aws:secretsmanager:/);
    expect(resolved.piiSalt).toMatch(/^[0-9a-f]{64}$/);
    expect(rows.map((r) => String(r.email))).toHaveLength(emails.length);
    for (const row of rows) expect(String(row.email)).toMatch(/^[0-9a-f]{64}$/);
    const haystacks = [
      JSON.stringify((await dynamodb.send(new ScanCommand({ TableName: bootstrap.names.table }))).Items),
      logged.join('\n'),
      JSON.stringify(rows),
    ];
    for (const file of await lake.backend.objects.list('')) {
      haystacks.push(Buffer.from((await lake.backend.objects.get(file.key))!).toString('latin1'));
    }
    for (const email of emails) for (const text of haystacks) expect(text).not.toContain(email);
    for (const text of haystacks) expect(text).not.toContain(resolved.piiSalt);
  });
});
