import { defineConfig } from 'vitest/config';

/**
 * The `trino` project (Athena SQL on a real Trino) joins `npm test` only when
 * SLUICE_TRINO=1; `npm run test:trino` selects it by name, and its setup fails
 * loudly when the variable is missing.
 */
const trino = process.env.SLUICE_TRINO === '1' || process.argv.includes('trino');

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Tests of the encoder thread must not depend on the runner's cores (auto picks inline on one);
    // encoder-place.test.ts covers auto with given core counts.
    env: { SLUICE_PARQUET_ENCODER: 'thread' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/infra/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/setup/emulator.ts', 'test/setup/build.ts'],
        },
      },
      ...(trino
        ? [
            {
              extends: true as const,
              test: {
                name: 'trino',
                include: ['test/trino/**/*.test.ts'],
                globalSetup: ['test/trino/setup.ts'],
                testTimeout: 300_000,
                hookTimeout: 300_000,
                // One Trino on 2 cores: files one at a time.
                fileParallelism: false,
              },
            },
          ]
        : []),
    ],
  },
});
