// @ts-nocheck
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../../../connectors/index.js';
import { openApiDocument } from '../../../../functions/api/openapi.js';

describe('the OpenAPI document', () => {
  it('is committed as docs/openapi.json exactly as the API serves it', () => {
    // Prepare
    const committed = readFileSync(join(import.meta.dirname, '../../../../docs/openapi.json'), 'utf8');

    // Act
    const served = `${JSON.stringify(openApiDocument(registry), null, 2)}\n`;

    // Assess
    expect(committed, 'stale: run npx tsx scripts/write-openapi.ts').toBe(served);
  });

  it('describes every connector config with its secrets write-only', () => {
    const doc = openApiDocument(registry) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    for (const connector of registry.list())
      expect(doc.components.schemas[`${connector.type}Config`]).toBeDefined();
    expect(doc.components.schemas.postgresConfig?.properties?.password).toMatchObject({
      writeOnly: true,
      format: 'password',
    });
  });
});
