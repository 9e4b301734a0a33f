// @ts-nocheck
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, SLUICE_BIN } from '../support/cli.js';
import { freePort } from '../support/net.js';

let home: string | undefined;
let server: ChildProcess | undefined;
afterEach(async () => {
  server?.kill();
  server = undefined;
  if (home) await rm(home, { recursive: true, force: true });
  home = undefined;
});

async function serve(dir: string): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [SLUICE_BIN, '--home', dir, 'serve', '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server = child;
  await new Promise<void>((resolve, reject) => {
    let said = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes('sluice API on')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`sluice serve exited with ${code}: ${said}`)));
  });
  return `http://127.0.0.1:${port}`;
}

describe('GET /tables/{name}/lineage', () => {
  it('answers what sluice lineage answers, and 404 for a table no stage wrote', async () => {
    // Prepare
    home = await mkdtemp(join(tmpdir(), 'sluice-lineage-api-'));
    await runCli(['sources', 'add', '--file', '-'], {
      home,
      input: JSON.stringify({ name: 'tiny', type: 'sample', config: { rows: 100, seed: 5 } }),
    });
    await runCli(['sync', 'tiny', '--quiet'], { home });
    await runCli(['sync', 'tiny', '--quiet'], { home });
    const cli = await runCli(['lineage', 'tiny__orders__current', '--json'], { home });
    const url = await serve(home);

    // Act
    const answer = await fetch(`${url}/tables/tiny__orders__current/lineage`);
    const body = (await answer.json()) as { sourceRuns: string[]; inputs: { table: string }[] };
    const missing = await fetch(`${url}/tables/no_such_table/lineage`);
    const missingBody = (await missing.json()) as { message?: string; error?: string };

    // Assess
    expect(answer.status).toBe(200);
    expect(body).toEqual(JSON.parse(cli.stdout));
    expect(body.sourceRuns).toHaveLength(2);
    expect(body.inputs.map((i) => i.table)).toEqual(['tiny__orders']);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missingBody)).toContain('no lineage for \\"no_such_table\\"');
  });
});
