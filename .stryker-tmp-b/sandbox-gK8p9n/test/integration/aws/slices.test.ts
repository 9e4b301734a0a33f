/**
 * Runs in slices on the AWS adapters: tiny slices land what one slice lands;
 * a failure or a SIGKILL between slices or inside a slice's publish loses at
 * most that slice, and what Athena would see equals a lake that never failed;
 * 2,000 keyless records at one cursor value never wedge the DynamoDB cursor.
 */
// @ts-nocheck

import { spawn } from 'node:child_process';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { failAt } from '../../support/fault-points.js';
import { keylessSource } from '../../support/keyless-connector.js';
import { SLICE_FAULT_POINTS, SLICE_ROWS, type SliceFaultPoint } from '../../support/slice-fault-points.js';
import { type AwsTestLake, CHILD_LEASE_TTL_MS, landedSampleRows, openAwsTestLake } from './lake.js';

const references = new Map<string, Promise<string[]>>();
/** A never-failed lake after `commits` one-slice runs, then `customersAgain` runs of customers alone. */
function reference(commits: number, customersAgain = 0): Promise<string[]> {
  const id = `${commits}+${customersAgain}`;
  let rows = references.get(id);
  if (!rows) {
    rows = (async () => {
      const clean = await openAwsTestLake();
      for (let i = 0; i < commits; i++) await clean.sync();
      for (let i = 0; i < customersAgain; i++) await clean.sync({ streams: ['customers'] });
      return landedSampleRows(clean);
    })();
    references.set(id, rows);
  }
  return rows;
}

async function leftovers(lake: AwsTestLake): Promise<string[]> {
  const runs = await lake.backend.objects.list('_runs/');
  return [...(await lake.leftovers()), ...runs.map((o) => o.key)];
}

function runChild(
  lake: AwsTestLake,
  point: SliceFaultPoint,
): Promise<{ signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/integration/aws/slice-sync-child.ts',
        lake.names.bucket,
        lake.names.table,
        lake.names.glueDatabase,
        point.phase,
        String(point.occurrence),
        String(SLICE_ROWS),
      ],
      { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, stdout, stderr }));
  });
}

describe('runs in slices on AWS', () => {
  it('lands in tiny slices what one slice lands', async () => {
    // Prepare
    const lake = await openAwsTestLake();
    // Act
    const run = await lake.sync({ sliceRows: SLICE_ROWS });
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.slices).toBeGreaterThan(5);
    expect(await landedSampleRows(lake)).toEqual(await reference(1));
    expect(await leftovers(lake)).toEqual([]);
  });

  for (const point of SLICE_FAULT_POINTS) {
    it(`keeps the published slices and lands every record once when a run fails ${point.name}`, async () => {
      // Prepare
      const lake = await openAwsTestLake();
      // Act
      await expect(
        lake.sync({ sliceRows: SLICE_ROWS, onPhase: failAt({ ...point, pastCommitPoint: true }) }),
      ).rejects.toThrow(`injected fault ${point.name}`);
      const retry = await lake.sync({ sliceRows: SLICE_ROWS });
      // Assess
      expect(retry.status).toBe('SUCCEEDED');
      expect(await landedSampleRows(lake)).toEqual(await reference(1, 1));
      const runs = await lake.backend.state.listRuns('shop');
      expect(runs.map((r) => r.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
      expect(await leftovers(lake)).toEqual([]);
    });
  }

  for (const point of [SLICE_FAULT_POINTS[0]!, SLICE_FAULT_POINTS[2]!]) {
    it(`continues a run killed ${point.name} once its lease expires, landing every record once`, async () => {
      // Prepare
      const lake = await openAwsTestLake();
      // Act
      const child = await runChild(lake, point);
      const killed = (await lake.backend.state.listRuns('shop'))[0]!;
      const retry = await lake.sync({ sliceRows: SLICE_ROWS, leaseWaitMs: CHILD_LEASE_TTL_MS * 3 });
      // Assess
      expect(child.signal, child.stderr).toBe('SIGKILL');
      expect(killed.status).toBe('RUNNING');
      expect(retry.runId).toBe(killed.runId);
      expect(retry.status).toBe('SUCCEEDED');
      expect(await landedSampleRows(lake)).toEqual(await reference(1));
      expect(await leftovers(lake)).toEqual([]);
    });
  }

  it('syncs, re-syncs and grows 2,000 keyless records sharing one cursor value without wedging', async () => {
    // Prepare
    const now = new Date().toISOString();
    const definition: SourceDefinition = {
      name: 'blobs_src',
      type: 'keyless',
      config: {},
      createdAt: now,
      updatedAt: now,
    };
    const source = keylessSource(2000);
    const lake = await openAwsTestLake({ source: definition, connector: source.connector, config: {} });
    // Act
    const first = await lake.sync({ sliceRows: 150 });
    const second = await lake.sync();
    source.count = 2100;
    const third = await lake.sync({ sliceRows: 150 });
    const { cursor } = await lake.backend.state.getCursor('blobs_src', 'blobs');
    const rows = await lake.athenaRows('SELECT count(*) AS n, count(DISTINCT n) AS d FROM blobs_src__blobs');
    // Assess
    expect(first.streams.blobs?.rows).toBe(2000);
    expect(second.streams.blobs?.rows).toBe(0);
    expect(third.streams.blobs?.rows).toBe(100);
    expect({ n: Number(rows[0]!.n), d: Number(rows[0]!.d) }).toEqual({ n: 2100, d: 2099 });
    expect(JSON.stringify(cursor).length).toBeLessThan(1024);
  });

  it('aborts an unfinished multipart upload a killed writer left in staging', async () => {
    // Prepare
    const lake = await openAwsTestLake();
    const s3 = new S3Client({ ...clientConfig(AwsService.s3), forcePathStyle: true });
    const Bucket = lake.names.bucket;
    await s3.send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key: `${lake.names.prefix}_staging/shop/20260101T000000000Z-abcdef/orders/00000.parquet`,
      }),
    );
    const before = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    // Act
    const run = await lake.sync();
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(before.Uploads?.length).toBe(1);
    expect(after.Uploads ?? []).toEqual([]);
  });
});
