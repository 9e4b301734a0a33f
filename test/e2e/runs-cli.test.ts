/**
 * `sluice runs` as a user runs it after a local sync: each run with its
 * streams' rows, bytes, files and duration, and the cost column saying that
 * a local run was not billed; `sluice runs <id>` and `sluice runs <source> <id>`
 * show one run's report; `--json` keeps the run records' shape.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../engine/ports.js';
import { runCli } from '../support/cli.js';

let home: string | undefined;
afterEach(async () => {
  if (home) await rm(home, { recursive: true, force: true });
  home = undefined;
});

describe('sluice runs', () => {
  it('lists each run with its streams and cost, and shows one run by id', async () => {
    // Prepare: a local sync of two streams
    home = await mkdtemp(join(tmpdir(), 'sluice-runs-'));
    const definition = {
      name: 'shop',
      type: 'sample',
      config: { rows: 300, seed: 5 },
      streams: ['orders', 'customers'],
    };
    await runCli(['sources', 'add', '--file', '-'], { home, input: JSON.stringify(definition) });
    const synced = await runCli(['sync', 'shop', '--quiet', '--json'], { home });
    const run = JSON.parse(synced.stdout) as RunRecord;

    // Act
    const listed = await runCli(['runs'], { home });
    const json = await runCli(['runs', 'shop', '--json'], { home });
    const byId = await runCli(['runs', run.runId], { home });
    const bySource = await runCli(['runs', 'shop', run.runId, '--json'], { home });
    const missing = await runCli(['runs', 'shop', '20000101T000000000Z-000000'], { home });

    // Assess
    expect(synced.code, synced.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^run \/ stream\s+source\s+status\s+started\s+duration\s+rows\s+bytes\s+files\s+checks\s+cost\s+note$/,
    );
    const total = (field: 'rows' | 'files') =>
      Object.values(run.streams).reduce((sum, s) => sum + s[field], 0);
    expect(lines[2]).toContain(run.runId);
    expect(lines[2]).toMatch(
      new RegExp(
        `SUCCEEDED .* ${total('rows').toLocaleString('en-US')} .* ${total('files')} .* n/a \\(local\\)`,
      ),
    );
    for (const [i, name] of ['orders', 'customers'].entries()) {
      const stats = run.streams[name]!;
      expect(lines[3 + i]).toMatch(
        new RegExp(`^  ${name}\\s.*\\s${stats.rows.toLocaleString('en-US')}\\s.*\\s${stats.files}$`),
      );
    }
    expect(JSON.parse(json.stdout)).toEqual([run]);
    expect(byId.code).toBe(0);
    expect(byId.stdout).toContain(`run ${run.runId} · source shop · SUCCEEDED`);
    expect(byId.stdout).toMatch(/^orders\s+(full|incremental)\s/m);
    expect(byId.stdout).toContain('cost: n/a (local');
    expect(JSON.parse(bySource.stdout)).toEqual(run);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('run "20000101T000000000Z-000000" of source "shop" does not exist');
  });
});
