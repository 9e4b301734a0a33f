/**
 * Vitest global setup: builds the CLI into dist/ once before the tests, so
 * the end-to-end tests run `bin/sluice.mjs` as a user would, never a stale build.
 */
// @ts-nocheck

import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
