/**
 * The tests mutation testing runs (stryker.config.mjs): those that cover the
 * exactly-once core, fastest first. Stryker runs, per mutant, only the tests
 * that covered it. To extend the scope, add the new file's tests here.
 *
 * `SLUICE_MUTATION_TESTS=a.test.ts,b.test.ts` narrows a run to those files (a
 * per-file run with the fast tests that cover the file); a mutant that
 * survives them may still be killed by the slower ones, so such a score is a
 * lower bound of the score with the whole list.
 */
import { defineConfig } from 'vitest/config';

export const MUTATION_TESTS = [
  'test/unit/engine/commit.test.ts',
  'test/unit/engine/recovery.test.ts',
  'test/unit/engine/run.test.ts',
  'test/unit/engine/sync.test.ts',
  'test/unit/adapters/local/state-store.test.ts',
  'test/unit/adapters/local/lock.test.ts',
  'test/unit/engine/tie-keys.test.ts',
  'test/unit/engine/land-stream.test.ts',
  'test/unit/engine/retries.test.ts',
  'test/unit/engine/resume-after-advance.test.ts',
  'test/unit/engine/slices.test.ts',
  'test/unit/engine/fault-matrix-many-ties.test.ts',
  'test/unit/engine/fault-matrix.test.ts',
  'test/integration/aws/dynamodb-state-store.test.ts',
];

const narrowed = process.env.SLUICE_MUTATION_TESTS?.split(',')
  .map((file) => file.trim())
  .filter((file) => file !== '');
const include = narrowed !== undefined && narrowed.length > 0 ? narrowed : MUTATION_TESTS;

export default defineConfig({
  test: {
    include,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Only the DynamoDB tests need the emulator; the setup starts moto once for the run.
    globalSetup: include.some((file) => file.startsWith('test/integration/'))
      ? ['test/integration/setup/emulator.ts']
      : [],
  },
});
