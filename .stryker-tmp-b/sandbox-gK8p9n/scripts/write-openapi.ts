/** Writes docs/openapi.json from the API's schemas: `npx tsx scripts/write-openapi.ts`. */
// @ts-nocheck

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registry } from '../connectors/index.js';
import { openApiDocument } from '../functions/api/openapi.js';

const path = join(import.meta.dirname, '..', 'docs', 'openapi.json');
writeFileSync(path, `${JSON.stringify(openApiDocument(registry), null, 2)}\n`);
process.stdout.write(`wrote ${path}\n`);
