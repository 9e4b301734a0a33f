/**
 * Builds a handler exactly as `cdk deploy` ships it: a one-function CDK app
 * with the project's bundling options (infra/bundling.ts), synthesised with
 * local esbuild, then the asset directory copied into an empty directory (no
 * node_modules anywhere up its tree).
 */
// @ts-nocheck

import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type HandlerBundlingProps, handlerBundling } from '../../infra/bundling.js';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

export interface BuiltHandler {
  /** The empty directory holding only the bundle's files. */
  readonly dir: string;
  /** File name → bytes. */
  readonly files: Readonly<Record<string, number>>;
  remove(): void;
}

export function buildHandler(entry: string, props: HandlerBundlingProps = {}): BuiltHandler {
  const outdir = mkdtempSync(join(tmpdir(), 'sluice-cdk-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundle');
    new NodejsFunction(stack, 'Handler', {
      entry: join(PROJECT_ROOT, entry),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: handlerBundling(props),
    });
    app.synth();
    const assets = readdirSync(outdir).filter(
      (name) => name.startsWith('asset.') && statSync(join(outdir, name)).isDirectory(),
    );
    if (assets.length !== 1)
      throw new Error(`expected one asset directory in ${outdir}, found ${assets.join(', ')}`);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-handler-'));
    cpSync(join(outdir, assets[0]!), dir, { recursive: true });
    const files = Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]));
    return { dir, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
