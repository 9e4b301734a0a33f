// @ts-nocheck
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const homes: string[] = [];
afterEach(async () => {
  for (const home of homes.splice(0)) await rm(home, { recursive: true, force: true });
});

const source = (pii?: unknown) =>
  JSON.stringify({ name: 'tiny', type: 'sample', config: { rows: 200, seed: 3 }, ...(pii ? { pii } : {}) });

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every Parquet file's rows as text: compressed pages could hide a clear value from a byte grep. */
async function parquetText(home: string): Promise<string> {
  const files = (await filesUnder(home)).filter((f) => f.endsWith('.parquet'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let text = '';
  for (const file of files) {
    const reader = await connection.runAndReadAll(
      `SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`,
    );
    text += JSON.stringify(reader.getRowsJson());
  }
  connection.closeSync();
  return text;
}

describe('masking at landing', () => {
  it('keeps every clear value of a masked column out of the lake, state and output when pii is declared', async () => {
    // Prepare: the clear values, from a home without masking
    const clear = await mkdtemp(join(tmpdir(), 'sluice-clear-'));
    const masked = await mkdtemp(join(tmpdir(), 'sluice-masked-'));
    homes.push(clear, masked);
    await runCli(['sources', 'add', '--file', '-'], { home: clear, input: source() });
    await runCli(['sync', 'tiny', '--quiet'], { home: clear });
    await runCli(['sync', 'tiny', '--quiet'], { home: clear });
    const clearRows = JSON.parse(
      (
        await runCli(['query', 'SELECT email, name FROM tiny__customers WHERE email IS NOT NULL', '--json'], {
          home: clear,
        })
      ).stdout,
    ) as { email: string; name: string }[];
    const clearCurrent = JSON.parse(
      (
        await runCli(['query', 'SELECT count(*) AS n FROM tiny__customers__current', '--json'], {
          home: clear,
        })
      ).stdout,
    ) as { n: number }[];

    // Act: the same source with email hashed, name redacted and the key hashed; synced twice (updates, deletes)
    const outputs: string[] = [];
    const run = async (args: string[], input?: string) => {
      const result = await runCli(args, { home: masked, ...(input ? { input } : {}) });
      outputs.push(result.stdout, result.stderr);
      return result;
    };
    const added = await run(
      ['sources', 'add', '--file', '-'],
      source({ customers: { email: 'hash', name: 'redact', id: 'hash' } }),
    );
    const first = await run(['sync', 'tiny']);
    const second = await run(['sync', 'tiny', '--json']);
    const rows = JSON.parse(
      (
        await run([
          'query',
          'SELECT count(*) AS n, count(DISTINCT email) AS emails, count(name) AS names, min(length(email)) AS len FROM tiny__customers WHERE email IS NOT NULL',
          '--json',
        ])
      ).stdout,
    ) as { n: number; emails: number; names: number; len: number }[];
    const current = JSON.parse(
      (await run(['query', 'SELECT count(*) AS n FROM tiny__customers__current', '--json'])).stdout,
    ) as { n: number }[];

    // Assess
    expect(added.code).toBe(0);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(rows[0]).toEqual({
      n: clearRows.length,
      emails: new Set(clearRows.map((r) => r.email)).size,
      names: 0,
      len: 64,
    });
    // The merge keys on the hashed id: as many current rows as in the clear.
    expect(current[0]!.n).toBe(clearCurrent[0]!.n);
    const haystacks = [
      ...(await Promise.all((await filesUnder(masked)).map((f) => readFile(f, 'latin1')))),
      await parquetText(masked),
      outputs.join('\n'),
    ];
    const leaks: string[] = [];
    const values = new Set(clearRows.flatMap((r) => [r.email, r.name]));
    expect(values.size).toBeGreaterThan(10);
    for (const value of values) if (haystacks.some((h) => h.includes(value))) leaks.push(value);
    expect(leaks).toEqual([]);
  });

  it('refuses an unknown pii action naming the field', async () => {
    // Prepare
    const home = await mkdtemp(join(tmpdir(), 'sluice-masked-'));
    homes.push(home);

    // Act
    const result = await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: source({ customers: { email: 'scramble' } }),
    });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"pii.customers.email" must be "hash" or "redact"');
  });
});
