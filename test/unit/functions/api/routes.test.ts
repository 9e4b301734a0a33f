/**
 * The API's routes over real HTTP (`sluice serve` on the local backend):
 * racing creates, a PATCH that fails half-way, and input that used to get
 * past validation (an empty stream name, broken percent-encoding, a request
 * line that is no URL, a definition too large to store). The oracle for
 * secrets is the secret store itself, read through the stored definition.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../../cli/commands/serve.js';
import { type CliContext, openContext } from '../../../../cli/context.js';
import { resolveSecrets } from '../../../../engine/secrets.js';

const PG = (name: string, password: string) => ({
  name,
  type: 'postgres',
  config: { host: 'localhost', database: 'shop', user: 'loader', password },
});

describe('the API routes', () => {
  let home: string;
  let ctx: CliContext;
  let server: RunningServer;
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted on by shape
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  /** The stored source's config with its secrets resolved: what its next sync would use. */
  const resolvedConfig = async (name: string) => {
    const source = await ctx.state.getSource(name);
    return (await resolveSecrets(source?.config, ctx.secrets)) as Record<string, unknown>;
  };
  const secretFiles = async (source: string) =>
    (await readdir(join(home, 'secrets')).catch(() => [] as string[])).filter((f) =>
      decodeURIComponent(f).startsWith(`${source}/`),
    );

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-routes-'));
    ctx = await openContext({ home, backend: 'local' });
    server = await startServer(ctx, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  /** Holds every createSource back a while, so two creates surely both pass the "does it exist" check. */
  const slowCreates = async <T>(act: () => Promise<T>): Promise<T> => {
    const original = ctx.state.createSource.bind(ctx.state);
    ctx.state.createSource = async (source) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return original(source);
    };
    try {
      return await act();
    } finally {
      ctx.state.createSource = original;
    }
  };

  it('keeps the winner’s secret when two creates of one name race', async () => {
    // Act
    const replies = await slowCreates(() =>
      Promise.all([
        api('POST', '/sources', PG('racy', 'first-password'), { 'Idempotency-Key': 'one' }),
        api('POST', '/sources', PG('racy', 'second-password'), { 'Idempotency-Key': 'two' }),
      ]),
    );

    // Assess
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = replies.find((r) => r.status === 201)!;
    const password = winner === replies[0] ? 'first-password' : 'second-password';
    expect((await resolvedConfig('racy')).password).toBe(password);
    expect(await secretFiles('racy')).toHaveLength(1);
  });

  it('answers a retried create that races its first attempt with the source, not a conflict', async () => {
    // Act
    const replies = await slowCreates(() =>
      Promise.all([
        api('POST', '/sources', PG('retried', 'the-password'), { 'Idempotency-Key': 'same' }),
        api('POST', '/sources', PG('retried', 'the-password'), { 'Idempotency-Key': 'same' }),
      ]),
    );

    // Assess
    expect(replies.map((r) => r.status).sort()).toEqual([200, 201]);
    expect((await resolvedConfig('retried')).password).toBe('the-password');
    expect(await secretFiles('retried')).toHaveLength(1);
  });

  it('leaves the stored secret as it was when a PATCH fails after validating the config', async () => {
    // Prepare
    await api('POST', '/sources', PG('patched', 'old-password'));

    // Act: the local scheduler refuses `L`, after the new password has been written
    const failed = await api('PATCH', '/sources/patched', {
      config: { password: 'new-password' },
      schedule: 'cron(0 0 L * ? *)',
    });

    // Assess
    expect(failed).toMatchObject({ status: 400, body: { error: { field: 'schedule' } } });
    expect((await resolvedConfig('patched')).password).toBe('old-password');
    expect(await secretFiles('patched')).toHaveLength(1);
  });

  it('switches to a new secret when a PATCH succeeds, and removes the old one', async () => {
    // Prepare
    await api('POST', '/sources', PG('rotated', 'old-password'));
    const [before] = await secretFiles('rotated');

    // Act
    const patched = await api('PATCH', '/sources/rotated', { config: { password: 'new-password' } });

    // Assess
    expect(patched.status).toBe(200);
    expect((await resolvedConfig('rotated')).password).toBe('new-password');
    const after = await secretFiles('rotated');
    expect(after).toHaveLength(1);
    expect(after).not.toContain(before);
  });

  it('refuses a secret reference in a request, so no source can point at, or undo, another’s secret', async () => {
    // Prepare
    await api('POST', '/sources', PG('owner', 'owner-password'));
    await api('POST', '/sources', PG('thief', 'thief-password'));
    const ownerRef = (await ctx.state.getSource('owner'))?.config.password;

    // Act
    const patched = await api('PATCH', '/sources/thief', {
      config: { password: ownerRef },
      schedule: 'cron(0 0 L * ? *)',
    });
    const created = await api('POST', '/sources', {
      ...PG('thief_two', 'x'),
      config: { ...PG('x', 'x').config, password: ownerRef },
    });

    // Assess
    expect(patched).toMatchObject({ status: 400, body: { error: { field: 'config.password' } } });
    expect(created).toMatchObject({ status: 400, body: { error: { field: 'config.password' } } });
    expect((await resolvedConfig('owner')).password).toBe('owner-password');
    expect((await resolvedConfig('thief')).password).toBe('thief-password');
  });

  it('leaves no schedule and no new secret when a DELETE wins over a PATCH', async () => {
    // Prepare: the DELETE runs while the PATCH is setting the new schedule
    await api('POST', '/sources', { ...PG('contested', 'old-password'), schedule: 'rate(1 hour)' });
    const scheduler = server.scheduler;
    const original = scheduler.put.bind(scheduler);
    scheduler.put = async (source, spec) => {
      await original(source, spec);
      scheduler.put = original;
      expect((await api('DELETE', '/sources/contested')).status).toBe(200);
    };

    // Act
    const patched = await api('PATCH', '/sources/contested', {
      config: { password: 'new-password' },
      schedule: 'rate(2 hours)',
    });

    // Assess
    expect(patched).toMatchObject({ status: 409, body: { error: { code: 'ConflictError' } } });
    expect(await ctx.state.getSource('contested')).toBeUndefined();
    expect(scheduler.get('contested')).toBeUndefined();
    expect(await secretFiles('contested')).toEqual([]);
  });

  it('removes the SLA when a PATCH sets "sla" to null', async () => {
    // Prepare
    await api('POST', '/sources', { name: 'fresh', type: 'sample', sla: { freshness: 'PT2H' } });

    // Act
    const patched = await api('PATCH', '/sources/fresh', { sla: null });
    const both = await api('PATCH', '/sources/fresh', { sla: null, slaMinutes: 30 });

    // Assess
    expect(patched.status).toBe(200);
    expect(patched.body.slaMinutes).toBeUndefined();
    expect((await ctx.state.getSource('fresh'))?.slaMinutes).toBeUndefined();
    expect(both).toMatchObject({ status: 400, body: { error: { field: 'sla' } } });
  });

  it('refuses an empty or unknown stream name on reset instead of resetting every stream', async () => {
    // Prepare
    await api('POST', '/sources', { name: 'resettable', type: 'sample', config: { rows: 10 } });

    // Act
    const empty = await api('POST', '/sources/resettable/reset', { stream: '' });
    const unknown = await api('POST', '/sources/resettable/reset', { stream: 'nope' });
    const one = await api('POST', '/sources/resettable/reset', { stream: 'orders' });

    // Assess
    expect(empty).toMatchObject({ status: 400, body: { error: { field: 'stream' } } });
    expect(unknown).toMatchObject({ status: 400, body: { error: { field: 'stream' } } });
    expect(unknown.body.error.message).toContain('orders');
    // Never synced: nothing to reset, but the name is taken.
    expect(one).toMatchObject({ status: 200, body: { reset: [] } });
  });

  it('refuses a sync of a stream the source does not have, before a run starts', async () => {
    // Prepare
    await api('POST', '/sources', { name: 'selective', type: 'sample', config: { rows: 10 } });

    // Act
    const unknown = await api('POST', '/sources/selective/sync', { streams: ['orders', 'ordrs'] });

    // Assess
    expect(unknown).toMatchObject({ status: 400, body: { error: { field: 'streams' } } });
    expect(unknown.body.error.message).toContain('"ordrs"');
    expect(unknown.body.error.message).toContain('available: ');
    expect(await ctx.state.listRuns('selective')).toEqual([]);
  });

  it('answers 503 with the source’s own message when the database does not answer a reset', async () => {
    // Prepare: a port that takes the connection and never speaks, as a database behind a dropping firewall.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const definition = PG('unanswered', 'secret-password');
      await api('POST', '/sources', {
        ...definition,
        config: { ...definition.config, host: '127.0.0.1', port, connectTimeoutSeconds: 1 },
      });

      // Act
      const reset = await api('POST', '/sources/unanswered/reset', {});

      // Assess
      expect(reset).toMatchObject({ status: 503, body: { error: { code: 'TransientError' } } });
      expect(reset.body.error.message).toContain(`127.0.0.1:${port}`);
      expect(reset.body.error.message).not.toContain('secret-password');
    } finally {
      silent.close();
    }
  });

  it('answers 400 naming the parameter when a path has broken percent-encoding', async () => {
    // Act
    const source = await api('GET', '/sources/a%zz');
    const run = await api('GET', '/runs/%E0%A4%A');

    // Assess
    expect(source).toMatchObject({
      status: 400,
      body: { error: { code: 'ValidationError', field: 'name' } },
    });
    expect(run).toMatchObject({ status: 400, body: { error: { field: 'id' } } });
  });

  it('answers 400 to a request line that is no URL, and goes on serving', async () => {
    // Act
    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write('GET //[ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const after = await api('GET', '/sources');

    // Assess
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(raw).toContain('ValidationError');
    expect(after.status).toBe(200);
  });

  it('refuses a source definition too large to store, naming its size', async () => {
    // Act
    const streams = Array.from({ length: 30_000 }, (_, i) => `stream_number_${i}`);
    const reply = await api('POST', '/sources', { name: 'huge', type: 'sample', streams });

    // Assess
    expect(reply).toMatchObject({
      status: 400,
      body: { error: { code: 'ValidationError', field: 'source' } },
    });
    expect(reply.body.error.message).toMatch(/at most 350 KiB/);
    expect(await ctx.state.getSource('huge')).toBeUndefined();
  });

  it('refuses a config its connector could never sync, before storing anything', async () => {
    // Act
    const rest = await api('POST', '/sources', {
      name: 'badurl',
      type: 'rest',
      config: { baseUrl: 'not a url', streams: [{ name: 'items', path: '/items' }] },
    });
    const files = await api('POST', '/sources', {
      name: 'baddate',
      type: 's3-files',
      config: {
        bucket: 'lake',
        startDate: 'yesterday',
        streams: [{ name: 'events', glob: '*.csv', format: 'csv' }],
      },
    });
    await api('POST', '/sources', {
      name: 'goodurl',
      type: 'rest',
      config: { baseUrl: 'http://127.0.0.1:9', streams: [{ name: 'items', path: '/items' }] },
    });
    const patched = await api('PATCH', '/sources/goodurl', { config: { baseUrl: 'ftp:/nowhere' } });

    // Assess
    expect(rest).toMatchObject({ status: 400, body: { error: { field: 'config.baseUrl' } } });
    expect(files).toMatchObject({ status: 400, body: { error: { field: 'config.startDate' } } });
    expect(patched).toMatchObject({ status: 400, body: { error: { field: 'config.baseUrl' } } });
    expect(await ctx.state.getSource('badurl')).toBeUndefined();
    expect(await ctx.state.getSource('baddate')).toBeUndefined();
    expect((await ctx.state.getSource('goodurl'))?.config.baseUrl).toBe('http://127.0.0.1:9');
  });

  it('refuses a push stream declaring a column type the lake has no such type for, naming the column', async () => {
    // Prepare
    const orders = (columns: Record<string, string>) => ({ name: 'orders', columns });
    await api('POST', '/sources', {
      name: 'typed_push',
      type: 'push',
      config: { streams: [orders({ amount: 'double' })] },
    });

    // Act
    const created = await api('POST', '/sources', {
      name: 'float_push',
      type: 'push',
      config: { streams: [orders({ id: 'bigint', amount: 'float' })] },
    });
    const patched = await api('PATCH', '/sources/typed_push', {
      config: { streams: [orders({ amount: 'double' }), { name: 'refunds', columns: { total: 'money' } }] },
    });
    const badName = await api('POST', '/sources', {
      name: 'named_push',
      type: 'push',
      config: { streams: [{ name: 'Orders-2' }] },
    });

    // Assess
    expect(created).toMatchObject({
      status: 400,
      body: { error: { code: 'ValidationError', field: 'config.streams[0].columns.amount' } },
    });
    expect(created.body.error.message).toContain('got "float"');
    expect(patched).toMatchObject({
      status: 400,
      body: { error: { field: 'config.streams[1].columns.total' } },
    });
    expect(badName).toMatchObject({ status: 400, body: { error: { field: 'config.streams[0].name' } } });
    expect(await ctx.state.getSource('float_push')).toBeUndefined();
    expect(await ctx.state.getSource('named_push')).toBeUndefined();
    expect((await ctx.state.getSource('typed_push'))?.config.streams).toEqual([orders({ amount: 'double' })]);
  });

  it('still pauses a source stored before its connector refused such a config', async () => {
    // Prepare: stored as an older version would have stored it
    const now = new Date().toISOString();
    await ctx.state.createSource({
      name: 'legacy',
      type: 'rest',
      config: { baseUrl: 'not a url', streams: [{ name: 'items', path: '/items' }] },
      schedule: 'rate(1 hour)',
      createdAt: now,
      updatedAt: now,
    });

    // Act
    const paused = await api('PATCH', '/sources/legacy', { paused: true });
    const reconfigured = await api('PATCH', '/sources/legacy', { config: { maxAttempts: 2 } });

    // Assess: a change of config is checked whole; one that leaves it alone is not
    expect(paused.status).toBe(200);
    expect(reconfigured).toMatchObject({ status: 400, body: { error: { field: 'config.baseUrl' } } });
  });

  it('names "config" itself, not "config.config", when config is not an object', async () => {
    // Act
    const created = await api('POST', '/sources', { name: 'nulled', type: 'sample', config: null });
    const wrong = await api('POST', '/sources', { name: 'nulled', type: 'sample', config: { rows: 'ten' } });

    // Assess
    expect(created).toMatchObject({ status: 400, body: { error: { field: 'config' } } });
    expect(wrong).toMatchObject({ status: 400, body: { error: { field: 'config.rows' } } });
  });
});
