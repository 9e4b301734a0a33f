#!/usr/bin/env node
// @ts-nocheck
// Compiles the runtime sources (cli, engine, adapters, connectors, functions) file by file
// to dist/ with esbuild: same layout, so relative URLs (the Parquet worker)
// keep working, and `sluice` runs as one plain node process. No type check
// here: `npm run typecheck` does that. See docs/adr/0007-cli-packaging.md.
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
// functions/: `sluice serve` serves the API's routes (functions/api) from the built CLI.
const sources = ['cli', 'engine', 'adapters', 'connectors', 'functions'];

const entryPoints = [];
for (const dir of sources) {
  for (const entry of await readdir(join(root, dir), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      entryPoints.push(join(entry.parentPath, entry.name));
    }
  }
}

// Overwrite in place rather than delete dist/ first, so a `sluice` (or a test)
// running during a rebuild never finds the tree missing.
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
// A source file deleted since the last build must not linger as JavaScript.
for (const entry of await readdir(outdir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const built = join(entry.parentPath, entry.name);
  const source = join(root, built.slice(outdir.length + 1)).replace(/\.js$/, '.ts');
  if (!existsSync(source)) await rm(built);
}
process.stdout.write(`built ${entryPoints.length} files into dist/\n`);
