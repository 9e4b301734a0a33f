// @ts-check
/**
 * Mutation testing of the exactly-once core: `npm run test:mutation`.
 * Not part of `npm test` or CI's default path; see docs/testing.md.
 *
 * To extend the scope: add a file (or `file:startLine-endLine` for a part of
 * one) to MUTATE, and the tests that cover it to vitest.mutation.config.ts.
 * Line ranges go stale when the file changes: re-check them after a merge.
 * One-off narrower runs: `npm run test:mutation -- --mutate engine/commit.ts`.
 */

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
  'adapters/aws/dynamodb-state-store.ts:165-210',
  'adapters/aws/dynamodb-state-store.ts:341-425',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: MUTATE,
  coverageAnalysis: 'perTest',
  // Reruns only test mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  // Two cores shared with others: one sandbox, and a mutant that hangs is cut off.
  concurrency: 1,
  timeoutMS: 30_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  ignorePatterns: ['cdk.out', '.sluice', 'reports', 'coverage', 'bench/results'],
};
