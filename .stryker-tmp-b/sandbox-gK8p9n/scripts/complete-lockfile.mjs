#!/usr/bin/env node
// @ts-nocheck
// Adds lockfile entries for other platforms' optional native binaries (biome, duckdb) when the
// package mirror npm resolved against lacks them: without these entries `npm ci` refuses to run.
// The entries carry os/cpu, so npm never fetches them on a platform they are not for.
// Run after any `npm install` that changes dependencies: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const platform = /-(android|darwin|linux|win32|freebsd)-(arm64|x64|ia32|arm)(-(musl|gnu|msvc))?$/;
const added = [];
for (const meta of Object.values(lock.packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const match = platform.exec(name);
    if (lock.packages[key] || !match) continue;
    lock.packages[key] = {
      cpu: [match[2]],
      ...(meta.dev ? { dev: true } : {}),
      ...(match[4] === 'musl' ? { libc: ['musl'] } : {}),
      ...(meta.license ? { license: meta.license } : {}),
      optional: true,
      os: [match[1]],
      version: version.replace(/^[\^~]/, ''),
    };
    added.push(name);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length > 0 ? `added ${added.join(', ')}` : 'lockfile already complete');
