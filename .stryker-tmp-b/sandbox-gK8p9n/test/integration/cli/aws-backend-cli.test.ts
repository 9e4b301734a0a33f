/**
 * `SLUICE_BACKEND=aws` through the real `sluice` CLI, against the emulator the
 * integration setup started: the source, its run and its lake live in
 * DynamoDB and S3, and the local home stays empty.
 */
// @ts-nocheck

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAwsBackend } from '../../../adapters/aws/index.js';
import { runCli } from '../../support/cli.js';
import { type AwsLakeNames, createAwsLake } from '../aws/lake.js';

let home: string;
let names: AwsLakeNames;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-aws-cli-'));
  names = await createAwsLake();
  env = {
    SLUICE_BACKEND: 'aws',
    SLUICE_BUCKET: names.bucket,
    SLUICE_TABLE: names.table,
    SLUICE_GLUE_DATABASE: names.glueDatabase,
    SLUICE_LAKE_PREFIX: names.prefix,
  };
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('SLUICE_BACKEND=aws', () => {
  it('registers and syncs a source in DynamoDB and S3, leaving the local home empty', async () => {
    // Act
    const added = await runCli(['sources', 'add', '--file', '-'], {
      home,
      env,
      input: JSON.stringify({ name: 'shop', type: 'sample', config: { rows: 30 }, streams: ['orders'] }),
    });
    const synced = await runCli(['sync', 'shop', '--quiet', '--json'], { home, env });
    const runs = await runCli(['runs', 'shop', '--json'], { home, env });

    // Assess
    expect(added.code, added.stderr).toBe(0);
    expect(synced.code, synced.stderr).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({
      status: 'SUCCEEDED',
      streams: { orders: { rows: 30 } },
    });
    expect((JSON.parse(runs.stdout) as { status: string }[]).map((r) => r.status)).toEqual(['SUCCEEDED']);
    const backend = openAwsBackend(names);
    expect((await backend.state.getSource('shop'))?.streams).toEqual(['orders']);
    expect((await backend.objects.list('raw/shop/orders/')).length).toBeGreaterThan(0);
    expect(await readdir(home)).toEqual([]);
  });
});
