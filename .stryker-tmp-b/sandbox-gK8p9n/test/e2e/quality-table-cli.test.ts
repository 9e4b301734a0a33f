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

interface QualityRow {
  run_id: string;
  stream: string;
  check_name: string;
  severity: string;
  passed: boolean;
  failing_rows: number;
}

describe('the _quality table', () => {
  it('holds every run’s check results, queryable, with a re-run replacing its run’s results', async () => {
    // Prepare
    home = await mkdtemp(join(tmpdir(), 'sluice-quality-'));
    await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: source({
        orders: [
          { type: 'accepted_values', column: 'status', values: ['pending'] },
          { type: 'unique', severity: 'warn' },
        ],
      }),
    });
    const query = async (): Promise<QualityRow[]> => {
      const result = await runCli(
        [
          'query',
          'SELECT run_id, stream, check_name, severity, passed, failing_rows FROM tiny__sluice_quality ORDER BY run_id, check_name',
          '--json',
        ],
        { home: home! },
      );
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as QualityRow[];
    };

    // Act
    const failed = await runCli(['sync', 'tiny', '--quiet'], { home });
    const afterFailure = await query();
    await runCli(['sources', 'update', '--file', '-'], {
      home,
      input: source({ orders: [{ type: 'unique' }] }),
    });
    const rerun = await runCli(['stages', 'run', 'tiny', '--json'], { home });
    const afterRerun = await query();

    // Assess
    expect(failed.code).toBe(1);
    const runId = afterFailure[0]!.run_id;
    expect(afterFailure.map((r) => [r.check_name, r.severity, r.passed])).toEqual([
      ['accepted_values(status)', 'error', false],
      ['unique(id)', 'warn', true],
    ]);
    expect(afterFailure[0]!.failing_rows).toBeGreaterThan(0);
    expect(rerun.code).toBe(0);
    expect(afterRerun).toEqual([
      {
        run_id: runId,
        stream: 'orders',
        check_name: 'unique(id)',
        severity: 'error',
        passed: true,
        failing_rows: 0,
      },
    ]);
  });
});
