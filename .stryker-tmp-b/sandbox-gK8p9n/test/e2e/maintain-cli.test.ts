// @ts-nocheck
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let home: string | undefined;
afterEach(async () => {
  if (home) await rm(home, { recursive: true, force: true });
  home = undefined;
});

async function parquetFacts(file: string): Promise<{ ids: number[]; codecs: string[] }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const path = file.replaceAll("'", "''");
  const ids = (await connection.runAndReadAll(`SELECT id FROM read_parquet('${path}')`))
    .getRowsJson()
    .map((r) => Number(r[0]));
  const codecs = (
    await connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`)
  )
    .getRowsJson()
    .map((r) => String(r[0]));
  connection.closeSync();
  return { ids, codecs };
}

describe('sluice stages maintain', () => {
  it('rewrites the current snapshot with the same rows and expires snapshots past the retention', async () => {
    // Prepare
    home = await mkdtemp(join(tmpdir(), 'sluice-maintain-'));
    await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: JSON.stringify({ name: 'tiny', type: 'sample', config: { rows: 100, seed: 5 } }),
    });
    await runCli(['sync', 'tiny', '--quiet'], { home });
    await runCli(['sync', 'tiny', '--quiet'], { home });
    const rowsOf = async () =>
      (await runCli(['query', 'SELECT * FROM tiny__orders__current ORDER BY id', '--json'], { home: home! }))
        .stdout;
    const before = await rowsOf();
    const orders = join(home, 'lake', 'current', 'tiny', 'orders');
    const [live] = await readdir(orders);
    const stamp = new Date(Date.now() - 3_600_000).toISOString().replace(/[-:.]/g, '');
    const old = '20200101T000000000Z-aaaaaa-s00001';
    const recent = `${stamp}-bbbbbb-s00001`;
    for (const dir of [old, recent]) {
      await mkdir(join(orders, dir), { recursive: true });
      await writeFile(join(orders, dir, 'data.parquet'), 'left by a crashed merge');
    }

    // Act
    const result = await runCli(['stages', 'maintain', 'tiny', '--retain-hours', '2', '--json'], { home });
    const after = await rowsOf();
    const left = (await readdir(orders)).sort();
    const facts = await parquetFacts(join(orders, live!, 'data.parquet'));

    // Assess
    expect(result.code).toBe(0);
    const done = JSON.parse(result.stdout) as { table: string; rows: number; expired: string[] }[];
    expect(done.map((t) => t.table).sort()).toEqual([
      'tiny__customers__current',
      'tiny__events__current',
      'tiny__orders__current',
    ]);
    expect(done.find((t) => t.table === 'tiny__orders__current')!.expired).toEqual([
      `current/tiny/orders/${old}/data.parquet`,
    ]);
    expect(after).toBe(before);
    expect(left).toEqual([live, recent].sort());
    expect(facts.codecs).toEqual(['ZSTD']);
    expect(facts.ids).toEqual([...facts.ids].sort((a, b) => a - b));
  });
});
