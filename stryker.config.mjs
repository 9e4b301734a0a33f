// @ts-check
/**
 * Mutation testing of the exactly-once core: `npm run test:mutation`.
 * Not part of `npm test` or CI's default path; see docs/testing.md.
 *
 * To extend the scope: add a file (or `file:startLine-endLine` for a part of
 * one) to MUTATE, and the tests that cover it to vitest.mutation.config.ts.
 * Prefer whole files; the DynamoDB ranges are found by markers (linesBetween).
 * One-off narrower runs: `npm run test:mutation -- --mutate engine/commit.ts`,
 * with only the fast tests that cover it:
 * `SLUICE_MUTATION_TESTS=test/unit/engine/commit.test.ts npm run test:mutation -- --mutate engine/commit.ts`.
 */

import { readFileSync } from 'node:fs';

/**
 * `file:start-end` for the lines from the one containing `from` up to (not
 * including) the one containing `to`, found when the config loads, so the
 * range follows the code when lines above it change. Throws if a marker is
 * gone, rather than mutating the wrong lines.
 */
function linesBetween(file, from, to) {
  const lines = readFileSync(new URL(file, import.meta.url), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.includes(from));
  const end = lines.findIndex((line, index) => index > start && line.includes(to));
  if (start < 0 || end < 0) throw new Error(`stryker.config.mjs: ${file} no longer has "${from}" … "${to}"`);
  return `${file}:${start + 1}-${end}`;
}

/** The files (or line ranges) whose mutants must be killed. */
const MUTATE = [
  'engine/commit.ts',
  'engine/sync.ts',
  // The run in slices: begin/slice/finish, landing a stream's part of a slice, recovery.
  'engine/run.ts',
  'engine/land-stream.ts',
  'engine/recovery.ts',
  'adapters/local/state-store.ts',
  'adapters/local/lock.ts',
  // DynamoDB state store: commitCursor (compare-and-set) and the lease methods only.
  linesBetween('adapters/aws/dynamodb-state-store.ts', 'public async commitCursor(', '// ---------- runs'),
  linesBetween('adapters/aws/dynamodb-state-store.ts', 'public async acquireLease(', '// ---------- helpers'),
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  checkers: ['typescript'],
  // The mutated files and what they import, not tests or infra: the checker type-checks each mutant.
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: MUTATE,
  coverageAnalysis: 'perTest',
  // Reruns only test mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  // Two cores shared with others: one sandbox, and a mutant that hangs is cut off soon
  // (timeout = covering tests' time × timeoutFactor + timeoutMS).
  concurrency: 1,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  ignorePatterns: ['.stryker-tmp*', 'cdk.out', '.sluice', 'reports', 'coverage', 'bench/results'],
};
