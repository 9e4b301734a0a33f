// @ts-nocheck
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let home: string | undefined;
afterEach(async () => {
  if (home) await rm(home, { recursive: true, force: true });
  home = undefined;
});

const source = (quality: unknown) =>
  JSON.stringify({ name: 'tiny', type: 'sample', config: { rows: 200, seed: 3 }, quality });

describe('sluice stages', () => {
  it('merges into current after sync, and a failing error check fails the sync naming it', async () => {
    // Prepare
    home = await mkdtemp(join(tmpdir(), 'sluice-stages-'));
    await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: source({ orders: [{ type: 'accepted_values', column: 'status', values: ['pending'] }] }),
    });

    // Act
    const failed = await runCli(['sync', 'tiny', '--quiet'], { home });
    const runs = await runCli(['runs', 'tiny'], { home });
    await runCli(['sources', 'update', '--file', '-'], {
      home,
      input: source({ orders: [{ type: 'unique' }] }),
    });
    const rerun = await runCli(['stages', 'run', 'tiny', '--json'], { home });
    const current = await runCli(['query', 'SELECT count(*) AS n FROM tiny__orders__current', '--json'], {
      home,
    });
    const lineage = await runCli(['lineage', 'tiny__orders__current'], { home });
    const unknown = await runCli(['lineage', 'no_such_table'], { home });

    // Assess
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('QUALITY_FAILED');
    expect(failed.stdout).toMatch(/error orders accepted_values\(status\): \d+ of \d+ rows · keys /);
    expect(runs.stdout).toContain('QUALITY_FAILED');
    expect(runs.stdout).toContain('0/1 passed');
    expect(rerun.code).toBe(0);
    const record = JSON.parse(rerun.stdout) as {
      runId: string;
      status: string;
      stages: { name: string; status: string }[];
    };
    expect(record.status).toBe('SUCCEEDED');
    expect(record.stages.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect((JSON.parse(current.stdout) as { n: number }[])[0]!.n).toBeGreaterThan(0);
    expect(lineage.code).toBe(0);
    expect(lineage.stdout).toContain('└─ tiny__orders (raw table, landed by source runs)');
    expect(lineage.stdout).toContain(`source runs: ${record.runId}`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no lineage for "no_such_table"');
  });
});
