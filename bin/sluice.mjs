#!/usr/bin/env node
// `sluice`: the CLI compiled to dist/ (`npm run build`, which `npm ci` runs through
// `prepare`), imported into this process, so signals reach the sync directly.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sluice: the CLI is not built; run `npm run build` (or `npm ci`) first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv, { entry: true });
