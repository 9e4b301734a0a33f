/**
 * `sluice sync` in slices through the real CLI: interrupted by SIGINT after
 * some slices, it says what it kept; the next `sluice sync` continues the
 * same run; the lake ends equal to one synced without interruption.
 */
// @ts-nocheck

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const homes: string[] = [];
beforeAll(async () => {
  for (let i = 0; i < 2; i++) homes.push(await mkdtemp(join(tmpdir(), 'sluice-slices-')));
});
afterAll(async () => {
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

const ROWS = `SELECT 'customers' AS s, CAST(id AS VARCHAR) AS k, CAST(updated_at AS VARCHAR) AS c FROM shop.customers
  UNION ALL SELECT 'orders', CAST(id AS VARCHAR), CAST(updated_at AS VARCHAR) FROM shop.orders
  UNION ALL SELECT 'events', id, CAST(occurred_at AS VARCHAR) FROM shop.events ORDER BY 1, 2, 3`;

async function addShop(home: string): Promise<void> {
  const file = join(home, 'shop.json');
  await writeFile(
    file,
    JSON.stringify({ name: 'shop', type: 'sample', config: { rows: 3000, seed: 5, pageSize: 100 } }),
  );
  const added = await runCli(['sources', 'add', '--file', file], { home });
  expect(added.code, added.stderr).toBe(0);
}

/** Starts `sluice sync`, sends SIGINT once `after` slices are published, and waits for the exit. */
function syncInterrupted(
  home: string,
  after: number,
): Promise<{ code: number | null; stderr: string; sentAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', '--home', home, 'sync', 'shop', '--slice-rows', '300'],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let sentAt = -1;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const published = [...stderr.matchAll(/^slice (\d+) published/gm)].length;
      if (sentAt < 0 && published >= after) {
        sentAt = published;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, sentAt }));
  });
}

describe('sluice sync in slices', () => {
  it('keeps what finished slices published when interrupted, and the next sync continues the run', async () => {
    // Prepare
    const [interruptedHome, cleanHome] = homes as [string, string];
    await addShop(interruptedHome);
    await addShop(cleanHome);
    // Act
    const interrupted = await syncInterrupted(interruptedHome, 3);
    const between = await runCli(['runs', 'shop', '--json'], { home: interruptedHome });
    // A stream selection cannot narrow a run that is already under way: it is said, not silently dropped.
    const continued = await runCli(['sync', 'shop', '--stream', 'orders'], { home: interruptedHome });
    const clean = await runCli(['sync', 'shop', '--quiet'], { home: cleanHome });
    const landed = await runCli(['query', ROWS, '--json'], { home: interruptedHome });
    const expected = await runCli(['query', ROWS, '--json'], { home: cleanHome });
    const runs = await runCli(['runs', 'shop', '--json'], { home: interruptedHome });
    const count = await runCli(['query', 'SELECT count(*) AS n FROM shop.orders', '--json'], {
      home: interruptedHome,
    });
    // Assess
    expect(interrupted.sentAt).toBeGreaterThanOrEqual(3);
    expect(interrupted.code).not.toBe(0);
    expect(interrupted.stderr).toMatch(
      /interrupted: run \S+ keeps the \d+ slices it published; `sluice sync shop` continues it/,
    );
    const [stopped] = JSON.parse(between.stdout) as { runId: string; status: string; slices: number }[];
    expect(stopped!.status).toBe('RUNNING');
    expect(stopped!.slices).toBeGreaterThanOrEqual(3);
    expect(continued.code, continued.stderr).toBe(0);
    expect(continued.stderr).toContain(
      `continuing run ${stopped!.runId} from slice ${stopped!.slices + 1} (${stopped!.slices} already published)`,
    );
    expect(continued.stderr).toContain(
      `--stream orders not applied: the unfinished run ${stopped!.runId} keeps its streams (customers, orders, events) and is finished first; run \`sluice sync shop --stream orders\` again afterwards`,
    );
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(landed.stdout)).toEqual(JSON.parse(expected.stdout));
    const [run] = JSON.parse(runs.stdout) as {
      runId: string;
      status: string;
      streams: Record<string, { rows: number }>;
    }[];
    expect(run!.runId).toBe(stopped!.runId);
    expect(run!.status).toBe('SUCCEEDED');
    expect(run!.streams.orders!.rows).toBe((JSON.parse(count.stdout) as { n: number }[])[0]!.n);
  });
});
