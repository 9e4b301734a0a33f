/**
 * How every Lambda handler is bundled (NodejsFunction's esbuild options), in
 * one place so the bundle test builds exactly what `cdk deploy` ships.
 *
 * - ESM (`index.mjs`): the engine uses `import.meta.url`, which a CJS bundle
 *   cannot evaluate. The banner gives bundled CommonJS packages the
 *   `require`, `__filename` and `__dirname` they expect.
 * - The AWS SDK is bundled, not taken from the runtime: versions are pinned
 *   by our lockfile and the bundle runs from an empty directory.
 * - Handlers that write Parquet get the encoder worker as a second file
 *   (`parquet-worker.cjs`, CommonJS so it loads whatever the directory's
 *   package.json says) and parquet-wasm's `.wasm` beside it; the `define`
 *   tells engine/parquet/encoder-thread.ts where the worker is.
 */
// @ts-nocheck

import { join } from 'node:path';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The file name of the bundled Parquet encoder worker, beside `index.mjs`. */
export const PARQUET_WORKER_FILE = 'parquet-worker.cjs';
/** parquet-wasm's Node build reads this file from its own directory (`__dirname`). */
export const PARQUET_WASM_FILE = 'parquet_wasm_bg.wasm';
/** esbuild target: runs on the nodejs22.x runtime and on the Node ≥ 20 the tests use. */
export const BUNDLE_TARGET = 'node20';

const BANNER = [
  "import { createRequire as __sluiceCreateRequire } from 'node:module';",
  "import { fileURLToPath as __sluiceFileURLToPath } from 'node:url';",
  "import { dirname as __sluiceDirname } from 'node:path';",
  'const require = __sluiceCreateRequire(import.meta.url);',
  'const __filename = __sluiceFileURLToPath(import.meta.url);',
  'const __dirname = __sluiceDirname(__filename);',
].join(' ');

export interface HandlerBundlingProps {
  /**
   * Ship the Parquet encoder worker and parquet-wasm's `.wasm` with the handler.
   * @default false
   */
  readonly parquet?: boolean;
}

/** Shell commands that put the encoder worker and the `.wasm` into the bundle's directory. */
export function parquetAssetCommands(inputDir: string, outputDir: string): string[] {
  const wasm = join(inputDir, 'node_modules', 'parquet-wasm', 'node', PARQUET_WASM_FILE);
  const worker = join(inputDir, 'engine', 'parquet', 'worker.ts');
  return [
    `cp "${wasm}" "${join(outputDir, PARQUET_WASM_FILE)}"`,
    [
      'npx --no-install esbuild',
      `"${worker}"`,
      '--bundle',
      '--platform=node',
      '--format=cjs',
      `--target=${BUNDLE_TARGET}`,
      '--minify',
      '--keep-names',
      '--log-level=warning',
      `--outfile="${join(outputDir, PARQUET_WORKER_FILE)}"`,
    ].join(' '),
  ];
}

/** NodejsFunction bundling options for a Sluice handler. */
export function handlerBundling(props: HandlerBundlingProps = {}): BundlingOptions {
  const parquet = props.parquet ?? false;
  return {
    format: OutputFormat.ESM,
    target: BUNDLE_TARGET,
    externalModules: [],
    minify: true,
    keepNames: true,
    sourceMap: false,
    banner: BANNER,
    define: parquet ? { 'process.env.SLUICE_PARQUET_WORKER_FILE': JSON.stringify(PARQUET_WORKER_FILE) } : {},
    ...(parquet
      ? {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => parquetAssetCommands(inputDir, outputDir),
          },
        }
      : {}),
  };
}
