/**
 * The CLI's promises to scripts and people, through the built `bin/sluice.mjs`:
 * one-line errors, `--json` on every command (failures included) with nothing
 * else on stdout, `--version`, `SLUICE_BACKEND`, stream names checked when a
 * source is added, updated or checked, and `--wait` saying what it waits for.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalBackend } from '../../adapters/local/index.js';
import { type CliResult, runCli, SLUICE_BIN } from '../support/cli.js';
import { freePort } from '../support/net.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'sluice-contract-'));
  const added = await runCli(['sources', 'add', '--file', '-'], {
    home,
    input: JSON.stringify({ name: 'shop', type: 'sample', config: { rows: 40 } }),
  });
  expect(added.code, added.stderr).toBe(0);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

const add = (definition: Record<string, unknown>, ...flags: string[]): Promise<CliResult> =>
  runCli(['sources', 'add', '--file', '-', ...flags], { home, input: JSON.stringify(definition) });
const update = (definition: Record<string, unknown>, ...flags: string[]): Promise<CliResult> =>
  runCli(['sources', 'update', '--file', '-', ...flags], { home, input: JSON.stringify(definition) });

/** The failure contract: a non-zero exit and exactly one line `sluice: …` on stderr. */
function expectOneLineError(result: CliResult, code = 1): string {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^sluice: \S/);
  return lines[0]!.slice('sluice: '.length);
}

/** A REST source whose server refuses connections: its sync fails. */
async function addRefusingSource(name: string): Promise<void> {
  const port = await freePort();
  const result = await add({
    name,
    type: 'rest',
    config: {
      baseUrl: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
      backoffInitialMs: 1,
      streams: [{ name: 'items', path: '/items', recordsPath: 'items', primaryKey: ['id'] }],
    },
  });
  expect(result.code, result.stderr).toBe(0);
}

describe('errors', () => {
  it('prints a failed sync as one line naming the run and the reason, and exits 1', async () => {
    // Prepare
    await addRefusingSource('down');
    // Act
    const result = await runCli(['sync', 'down', '--quiet'], { home });
    // Assess: the retries may warn while the run goes on; the failure itself is said once, on one line.
    const lines = result.stderr.split('\n').filter((line) => line.length > 0);
    const failures = lines.filter((line) => !line.startsWith('warning: '));
    expect(result.code).toBe(1);
    expect(failures, result.stderr).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^sluice: run \S+ of source "down" failed: GET http:\/\/127\.0\.0\.1:\d+\/items failed/,
    );
    expect(result.stdout).toBe('');
  });

  it('gives a failed sync as a JSON error carrying the failed run record', async () => {
    await addRefusingSource('down_json');
    const result = await runCli(['sync', 'down_json', '--quiet', '--json'], { home });
    const body = JSON.parse(result.stdout) as {
      error: { name: string; run: { status: string; source: string } };
    };
    expect(result.code).toBe(1);
    expect(body.error.name).toBe('SyncError');
    expect(body.error.run).toMatchObject({ source: 'down_json', status: 'FAILED' });
  });

  it('says to build when the built CLI is missing', async () => {
    // Prepare: the bin alone, with no dist/ beside it.
    const dir = await mkdtemp(join(tmpdir(), 'sluice-unbuilt-'));
    await mkdir(join(dir, 'bin'));
    await copyFile(SLUICE_BIN, join(dir, 'bin', 'sluice.mjs'));
    try {
      // Act
      const result = spawnSync(process.execPath, [join(dir, 'bin', 'sluice.mjs'), '--help'], {
        encoding: 'utf8',
      });
      // Assess
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('sluice: the CLI is not built; run `npm run build` (or `npm ci`) first\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a usage error as one line and exits 2', async () => {
    const result = await runCli(['sync', 'shop', '--bogus'], { home });
    expect(expectOneLineError(result, 2)).toBe("unknown option '--bogus' (run with --help for usage)");
  });

  it('shows help with `help <command>` and exits 0; a missing command is a usage error', async () => {
    const help = await runCli(['help', 'sync'], { home });
    const missing = await runCli(['sources', '--json'], { home });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: sluice sync');
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: { message: 'a command is missing (see the usage above)', name: 'UsageError' },
    });
    expect(missing.stderr).toContain('Usage: sluice sources');
  });

  it('keeps a query error to its first paragraph on one line', async () => {
    const result = await runCli(['query', 'SELECT * FROM shop.missing'], { home });
    expect(expectOneLineError(result)).toMatch(/missing/);
  });
});

describe('--version', () => {
  it('prints the package version, and a JSON object with --json', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const plain = await runCli(['--version'], { home });
    const json = await runCli(['--version', '--json'], { home });
    expect(plain.stdout).toBe(`${version}\n`);
    expect(JSON.parse(json.stdout)).toEqual({ version });
  });
});

describe('--json', () => {
  it('prints one JSON document on stdout for every command', async () => {
    // Prepare: a file source definition to update with.
    const runs: [string[], string?][] = [
      [['connectors']],
      [['sources', 'list']],
      [['sources', 'show', 'shop']],
      [['check', 'shop']],
      [['sync', 'shop', '--quiet']],
      [['runs', 'shop']],
      [['query', 'SELECT count(*) AS n FROM shop.orders']],
      [['reset', 'shop', 'orders']],
      [
        ['sources', 'add', '--file', '-'],
        JSON.stringify({ name: 'json_src', type: 'sample', config: { rows: 5 } }),
      ],
      [
        ['sources', 'update', '--file', '-'],
        JSON.stringify({ name: 'json_src', type: 'sample', config: { rows: 6 } }),
      ],
      [['sources', 'remove', 'json_src']],
      [['dev', '--rows', '30', '--no-query']],
    ];
    for (const [args, input] of runs) {
      // Act
      const result = await runCli([...args, '--json'], { home, ...(input ? { input } : {}) });
      // Assess
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(() => JSON.parse(result.stdout), `${args.join(' ')}: ${result.stdout}`).not.toThrow();
    }
  });

  it('gives the data, not prose: the run record, the check and the reset', async () => {
    const sync = await runCli(['sync', 'shop', '--quiet', '--json'], { home });
    const check = await runCli(['check', 'shop', '--json'], { home });
    const reset = await runCli(['reset', 'shop', '--json'], { home });
    expect(JSON.parse(sync.stdout)).toMatchObject({ source: 'shop', status: 'SUCCEEDED' });
    expect(JSON.parse(check.stdout)).toMatchObject({
      source: 'shop',
      ok: true,
      available: ['customers', 'orders', 'events'],
    });
    expect(JSON.parse(reset.stdout)).toEqual({ source: 'shop', reset: ['customers', 'orders', 'events'] });
  });

  it('prints failures as a JSON error object on stdout, the one line on stderr', async () => {
    const cases: [string[], string, string][] = [
      [['sync', 'nope'], 'NotFoundError', 'source "nope" does not exist'],
      [['runs', 'nope'], 'NotFoundError', 'source "nope" does not exist'],
      [['sync', 'shop', '--bogus'], 'UsageError', "unknown option '--bogus'"],
      [['query', 'SELECT * FROM shop.missing'], 'Error', 'missing'],
      [['nope'], 'UsageError', "unknown command 'nope'"],
    ];
    for (const [args, name, message] of cases) {
      const result = await runCli([...args, '--json'], { home });
      expect(result.code, args.join(' ')).not.toBe(0);
      const body = JSON.parse(result.stdout) as { error: { name: string; message: string } };
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.message).toContain(message);
      if (name !== 'Error') expect(body.error.name).toBe(name);
      expect(result.stderr).toBe(`sluice: ${body.error.message}\n`);
    }
  });

  it('includes the field at fault when a definition is bad', async () => {
    const result = await add({ name: 'Bad Name', type: 'sample' }, '--json');
    expect(JSON.parse(result.stdout)).toEqual({
      error: { name: 'ValidationError', field: 'name', message: expect.stringContaining('snake_case') },
    });
  });
});

describe('SLUICE_BACKEND', () => {
  it('selects the AWS backend from the environment, which then names its missing setting', async () => {
    const aws = { SLUICE_BACKEND: 'aws', SLUICE_BUCKET: '', SLUICE_TABLE: '', SLUICE_GLUE_DATABASE: '' };
    const result = await runCli(['sources', 'list'], { home, env: aws });
    expect(expectOneLineError(result)).toMatch(/^SLUICE_BUCKET is not set: the AWS backend needs it/);
  });

  it('lets --backend win over the environment', async () => {
    const result = await runCli(['--backend', 'local', 'sources', 'list', '--json'], {
      home,
      env: { SLUICE_BACKEND: 'aws' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { name: string }[]).map((s) => s.name)).toContain('shop');
  });

  it('names the variable when its value is not a backend', async () => {
    const result = await runCli(['sources', 'list'], { home, env: { SLUICE_BACKEND: 'gcp' } });
    expect(expectOneLineError(result, 2)).toContain("'gcp' from env 'SLUICE_BACKEND' is invalid");
  });
});

describe('stream names', () => {
  it('rejects an unknown stream when a source is added, naming it and the available ones', async () => {
    const result = await add({
      name: 'typo',
      type: 'sample',
      config: { rows: 5 },
      streams: ['orders', 'ordres'],
    });
    const listed = await runCli(['sources', 'list', '--json'], { home });
    expect(expectOneLineError(result)).toBe(
      '"streams": source "typo" has no stream "ordres"; available: customers, orders, events',
    );
    expect(listed.stdout).not.toContain('typo');
  });

  it('adds a source whose streams cannot be listed yet, warning that check will check them', async () => {
    // Prepare: PostgreSQL lists its streams by discovering tables; nothing listens on this port.
    const port = await freePort();
    // Act
    const result = await add({
      name: 'pg_later',
      type: 'postgres',
      config: { host: '127.0.0.1', port, database: 'shop', user: 'sluice', password: 'pw' },
      streams: ['public_orders'],
    });
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('source "pg_later" added (connector postgres)');
    expect(result.stderr).toMatch(
      /^warning: could not list the streams of "pg_later" to check "streams" \(cannot connect to PostgreSQL.*\); `sluice check pg_later` checks them\n$/,
    );
  });

  it('updates a source, validating like add, keeping its cursors', async () => {
    // Prepare
    await add({ name: 'upd', type: 'sample', config: { rows: 20 }, streams: ['orders'] });
    const first = await runCli(['sync', 'upd', '--quiet', '--json'], { home });
    // Act
    const bad = await update({ name: 'upd', type: 'sample', config: { rows: 20 }, streams: ['nope'] });
    const retyped = await update({ name: 'upd', type: 'rest', config: {} });
    const missing = await update({ name: 'nobody', type: 'sample', config: {} });
    const good = await update({
      name: 'upd',
      type: 'sample',
      config: { rows: 20 },
      streams: ['orders', 'events'],
    });
    const shown = JSON.parse((await runCli(['sources', 'show', 'upd'], { home })).stdout) as {
      streams: string[];
    };
    const second = await runCli(['sync', 'upd', '--quiet', '--json'], { home });
    // Assess
    expect(JSON.parse(first.stdout).streams).toHaveProperty('orders');
    expect(expectOneLineError(bad)).toContain('has no stream "nope"; available: customers, orders, events');
    expect(expectOneLineError(retyped)).toContain('"type" of source "upd" is sample and cannot change');
    expect(expectOneLineError(missing)).toMatch(/^source "nobody" does not exist/);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('source "upd" updated (connector sample); changed: streams');
    expect(shown.streams).toEqual(['orders', 'events']);
    const streams = (JSON.parse(second.stdout) as { streams: Record<string, { incremental: boolean }> })
      .streams;
    expect(Object.keys(streams)).toEqual(['orders', 'events']);
    expect(streams.orders!.incremental).toBe(true);
  });

  it('refuses a mistyped --stream before a run starts, recording no run', async () => {
    // Prepare
    await add({ name: 'typo_run', type: 'sample', config: { rows: 10 } });

    // Act
    const result = await runCli(['sync', 'typo_run', '--stream', 'ordrs'], { home });
    const runs = await runCli(['runs', 'typo_run', '--json'], { home });

    // Assess
    expect(expectOneLineError(result)).toBe(
      '--stream: source "typo_run" has no stream "ordrs"; available: customers, orders, events',
    );
    expect(JSON.parse(runs.stdout)).toEqual([]);
  });

  it('refuses a schedule the local scheduler cannot run, storing nothing', async () => {
    // Act
    const negative = await add({ name: 'neg', type: 'sample', schedule: 'rate(-1 hour)' });
    const outOfRange = await add({ name: 'neg', type: 'sample', schedule: 'cron(99 99 * * ? *)' });
    const listed = await runCli(['sources', 'list', '--json'], { home });

    // Assess
    expect(expectOneLineError(negative)).toContain('"schedule"');
    expect(expectOneLineError(outOfRange)).toContain('out of range');
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((s) => s.name)).not.toContain('neg');
  });

  it('keeps paused and timezone through show and update, and names them when they change', async () => {
    // Prepare
    const definition = {
      name: 'held',
      type: 'sample',
      config: { rows: 20 },
      schedule: 'cron(0 6 * * ? *)',
      timezone: 'Europe/Berlin',
      paused: true,
    };
    await add(definition);
    const shown = (await runCli(['sources', 'show', 'held'], { home })).stdout;

    // Act
    const same = await runCli(['sources', 'update', '--file', '-'], { home, input: shown });
    const unpaused = await update({ ...definition, paused: false });
    const stored = JSON.parse((await runCli(['sources', 'show', 'held'], { home })).stdout);

    // Assess
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('nothing changed');
    expect(unpaused.stdout).toContain('changed: paused');
    expect(stored).toMatchObject({ timezone: 'Europe/Berlin', paused: false, schedule: 'cron(0 6 * * ? *)' });
  });

  it('keeps a stored secret when the update repeats the redaction sources show printed', async () => {
    // Prepare: a REST source with a bearer token, shown (redacted) and sent back with one change.
    const token = 'tok_keep_me_secret';
    await add({
      name: 'api_upd',
      type: 'rest',
      config: {
        baseUrl: 'http://127.0.0.1:9',
        auth: { type: 'bearer', token },
        streams: [{ name: 'items', path: '/items', recordsPath: 'items', primaryKey: ['id'] }],
      },
    });
    const shown = JSON.parse((await runCli(['sources', 'show', 'api_upd'], { home })).stdout) as Record<
      string,
      unknown
    >;
    // Act
    const result = await runCli(['sources', 'update', '--file', '-'], {
      home,
      input: JSON.stringify({ ...shown, schedule: 'rate(1 day)' }),
    });
    const placeholder = await update({
      name: 'api_upd',
      type: 'rest',
      config: {
        baseUrl: 'http://127.0.0.1:9',
        headers: { 'x-api-key': '********' },
        auth: { type: 'bearer', token: '********' },
        streams: [{ name: 'items', path: '/items', recordsPath: 'items', primaryKey: ['id'] }],
      },
    });
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('changed: schedule');
    expect(expectOneLineError(placeholder)).toBe(
      '"config.headers.x-api-key" is ********, but source "api_upd" has no stored secret there; give the value',
    );
    expect(JSON.stringify(shown)).not.toContain(token);
    const backend = await openLocalBackend(home);
    const stored = await backend.state.getSource('api_upd');
    const ref = (stored!.config.auth as { token: { $secret: string } }).token.$secret;
    const { LocalSecretStore } = await import('../../adapters/local/secret-store.js');
    expect(await new LocalSecretStore(home).get(ref)).toBe(token);
  });

  it('fails check when a stored selection names a stream the connector no longer has', async () => {
    // Prepare: a selection stored without the CLI, as an older version or another client could.
    const backend = await openLocalBackend(home);
    const now = new Date().toISOString();
    await backend.state.putSource({
      name: 'stale',
      type: 'sample',
      config: { rows: 5 },
      streams: ['orders', 'gone'],
      createdAt: now,
      updatedAt: now,
    });
    // Act
    const result = await runCli(['check', 'stale'], { home });
    const good = await runCli(['check', 'shop'], { home });
    // Assess
    expect(expectOneLineError(result)).toBe(
      '"streams": source "stale" has no stream "gone"; available: customers, orders, events',
    );
    expect(good.stdout).toBe('source "shop" is reachable; streams: customers, orders, events\n');
  });
});

describe('runs', () => {
  it('exits non-zero naming an unknown source', async () => {
    const result = await runCli(['runs', 'nope'], { home });
    expect(expectOneLineError(result)).toMatch(/^source "nope" does not exist \(sources: .*shop/);
  });

  it('still lists the runs of a removed source, saying it is removed', async () => {
    await add({ name: 'gone_src', type: 'sample', config: { rows: 5 } });
    await runCli(['sync', 'gone_src', '--quiet'], { home });
    await runCli(['sources', 'remove', 'gone_src'], { home });
    const result = await runCli(['runs', 'gone_src'], { home });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/gone_src\s+SUCCEEDED/);
    expect(result.stderr).toContain('source "gone_src" is not registered any more');
  });
});

describe('--wait', () => {
  it('says which run holds the lease, and how long it waited for it', async () => {
    // Prepare: another owner holds the source's lease.
    const backend = await openLocalBackend(home);
    await backend.state.acquireLease('shop', 'run-elsewhere', 60_000);
    try {
      // Act
      const now = await runCli(['sync', 'shop', '--quiet'], { home });
      const waited = await runCli(['sync', 'shop', '--quiet', '--wait', '1'], { home });
      const help = await runCli(['sync', '--help'], { home });
      // Assess
      expect(expectOneLineError(now)).toMatch(
        /^source "shop" is being synced by run run-elsewhere \(lease held until .+\); wait for it or retry later; pass --wait <seconds> to wait for that run to finish$/,
      );
      expect(expectOneLineError(waited)).toMatch(
        /run run-elsewhere .*; still held after waiting 1 s for that run to finish$/,
      );
      expect(help.stdout).toMatch(
        /--wait <seconds>\s+when another run of the source holds its lease,\s+wait/,
      );
    } finally {
      await backend.state.releaseLease('shop', 'run-elsewhere');
    }
  });
});

describe('connectors', () => {
  it('does not create a home just to list connector types', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'sluice-fresh-'));
    try {
      const result = await runCli(['connectors'], { home: join(fresh, 'home') });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^sample\s/m);
      expect(await readdir(fresh)).toEqual([]);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
