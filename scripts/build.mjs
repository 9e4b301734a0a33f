#!/usr/bin/env node
// Compiles the runtime sources (cli, engine, adapters, connectors) file by file
// to dist/ with esbuild: same layout, so relative URLs (the Parquet worker)
// keep working, and `sluice` runs as one plain node process. No type check
// here: `npm run typecheck` does that. See docs/adr/0007-cli-packaging.md.
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
const sources = ['cli', 'engine', 'adapters', 'connectors'];

const entryPoints = [];
for (const dir of sources) {
  for (const entry of await readdir(join(root, dir), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      entryPoints.push(join(entry.parentPath, entry.name));
    }
  }
}

// A clean tree: a source file deleted since the last build must not linger as JavaScript.
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints,
  outdir,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  logLevel: 'warning',
});
process.stdout.write(`built ${entryPoints.length} files into dist/\n`);
