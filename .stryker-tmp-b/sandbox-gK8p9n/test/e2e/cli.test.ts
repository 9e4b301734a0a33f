/** The CLI end to end, in a temporary home, through real child processes. */
// @ts-nocheck

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { SampleOracle } from '../support/sample-oracle.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function rowsOf(stdout: string): number[] {
  return [...stdout.matchAll(/^(customers|orders|events)\s+\S+\s+([\d,]+)/gm)].map((m) =>
    Number(m[2]!.replace(/,/g, '')),
  );
}

describe('sluice dev', () => {
  it('registers the sample source, syncs it, prints a report and a query, then syncs incrementally', async () => {
    // Act
    const first = await runCli(['dev', '--rows', '2000'], { home });
    const second = await runCli(['dev', '--rows', '2000'], { home });
    // Assess
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('registered source "shop" (connector sample, 2,000 orders)');
    expect(rowsOf(first.stdout)).toEqual([200, 2000, 2000]);
    expect(first.stdout).toContain('first sync: 4,200 rows landed in 3 streams');
    expect(first.stdout).toMatch(/status\s+orders\s+amount/);
    expect(first.stdout).toMatch(/delivered\s+\d+\s+[\d.]+/);
    expect(first.stdout).toContain('(5 rows)');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('registered source');
    expect(second.stdout).toMatch(/incremental sync: [\d,]+ changed rows since the last run/);
    // The second sync lands the sample world's next day of changes, per stream, as the oracle counts them.
    const nextDay = await new SampleOracle({ rows: 2000, seed: 42, pageSize: 1000 }).rowsOfEpoch(1);
    expect(rowsOf(second.stdout)).toEqual([nextDay.customers, nextDay.orders, nextDay.events]);
    expect(nextDay.orders).toBeGreaterThan(0);
  });
});

describe('sluice commands', () => {
  it('lists runs, queries landed data and resets a stream for a backfill', async () => {
    const runs = await runCli(['runs', 'shop'], { home });
    const count = await runCli(['query', 'SELECT count(*) AS n FROM shop.orders', '--json'], { home });
    const reset = await runCli(['reset', 'shop', 'orders'], { home });
    const backfill = await runCli(['sync', 'shop', '--stream', 'orders', '--quiet'], { home });

    expect(runs.code).toBe(0);
    expect(runs.stdout.match(/SUCCEEDED/g)).toHaveLength(2);
    expect(count.code).toBe(0);
    const landed = (JSON.parse(count.stdout) as { n: number }[])[0]!.n;
    expect(landed).toBeGreaterThan(2000);
    expect(reset.stdout).toContain('reset orders; the next sync of "shop" reads from the initial cursor');
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(rowsOf(backfill.stdout)).toEqual([2000]);
  });

  it('adds a source from a file and lists it', async () => {
    const file = join(home, 'tiny.json');
    await writeFile(file, JSON.stringify({ name: 'tiny', type: 'sample', config: { rows: 50 } }));
    const added = await runCli(['sources', 'add', '--file', file], { home });
    const listed = await runCli(['sources', 'list'], { home });
    const synced = await runCli(['sync', 'tiny'], { home });
    expect(added.stdout).toContain('source "tiny" added (connector sample)');
    expect(listed.stdout).toMatch(/tiny\s+sample/);
    expect(synced.code, synced.stderr).toBe(0);
    expect(rowsOf(synced.stdout)).toEqual([10, 50, 50]);
  });

  it('lists connector types with their config schemas as JSON', async () => {
    const result = await runCli(['connectors', '--json'], { home });
    const types = (JSON.parse(result.stdout) as { type: string; configSchema: { type: string } }[]).map(
      (c) => c.type,
    );
    expect(types).toContain('sample');
  });

  it('lands once when two CLI syncs of one source start together', async () => {
    await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: JSON.stringify({ name: 'twice', type: 'sample', config: { rows: 3000 } }),
    });
    const [a, b] = await Promise.all([
      runCli(['sync', 'twice', '--wait', '60', '--quiet'], { home }),
      runCli(['sync', 'twice', '--wait', '60', '--quiet'], { home }),
    ]);
    const dupes = await runCli(
      ['query', 'SELECT count(*) - count(DISTINCT (id, updated_at)) AS d FROM twice.orders', '--json'],
      { home },
    );
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(dupes.stdout)).toEqual([{ d: 0 }]);
  });
});

describe('sluice errors', () => {
  it('exits non-zero with one line naming the field when a source definition is bad', async () => {
    const result = await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: JSON.stringify({ name: 'Bad Name', type: 'sample' }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('sluice: "name" must be snake_case');
  });

  it('names the config field at fault and creates nothing', async () => {
    const result = await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: JSON.stringify({ name: 'bad_rows', type: 'sample', config: { rows: -1 } }),
    });
    const listed = await runCli(['sources', 'list', '--json'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"rows" must be at least 1');
    expect(listed.stdout).not.toContain('bad_rows');
  });

  it('says which source is unknown', async () => {
    const result = await runCli(['sync', 'nope'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sluice: source "nope" does not exist \(sources: .*shop/);
  });

  it('rejects SQL errors with the engine message', async () => {
    const result = await runCli(['query', 'SELECT * FROM shop.missing'], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sluice: .*missing/);
  });

  it('prints help for every command', async () => {
    for (const args of [['--help'], ['sync', '--help'], ['sources', 'add', '--help'], ['query', '--help']]) {
      const result = await runCli(args, { home });
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toContain('Usage: sluice');
    }
  });
});
