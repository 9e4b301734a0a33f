/**
 * `sluice serve`: the HTTP API of functions/api on localhost, on the local
 * backend, with a local scheduler that runs due schedules and a runner that
 * syncs in this process (where AWS has Step Functions), and pushed events
 * landed in this process (where AWS has Kinesis). Unauthenticated:
 * it listens on loopback by default.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalEventSink } from '../../adapters/local/event-sink.js';
import { LocalScheduler } from '../../adapters/local/scheduler.js';
import { ValidationError } from '../../engine/errors.js';
import { newRunId } from '../../engine/layout.js';
import { resolveSource } from '../../engine/sources.js';
import { runSync } from '../../engine/sync.js';
import type { ApiRequest } from '../../functions/api/http.js';
import type { StartedSync, SyncTrigger } from '../../functions/api/ports.js';
import { createApi } from '../../functions/api/routes.js';
import type { CliContext } from '../context.js';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  /** The scheduler's clock. @default () => new Date() */
  readonly clock?: () => Date;
}

export interface RunningServer {
  readonly url: string;
  readonly scheduler: LocalScheduler;
  /** Stops the scheduler, aborts running syncs (they release their leases), closes the server. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ValidationError('the body is larger than 1 MiB', { field: 'body' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the API; resolves once it listens. */
export async function startServer(ctx: CliContext, options: ServeOptions): Promise<RunningServer> {
  if (ctx.backend !== 'local') {
    throw new ValidationError(
      'serve runs on the local backend; on AWS the API is deployed (docs/deploy.md)',
      {
        field: 'backend',
      },
    );
  }
  const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();

  // Where AWS starts a Step Functions execution: a sync in this process, in the background.
  const trigger: SyncTrigger = {
    start: async (name, runId, streams): Promise<StartedSync> => {
      const source = await ctx.state.getSource(name);
      if (!source) throw new ValidationError(`source "${name}" does not exist`, { field: 'source' });
      const { connector, config, piiSalt } = await resolveSource(source, ctx);
      const controller = new AbortController();
      const done = runSync(
        { objects: ctx.objects, state: ctx.state, catalog: ctx.catalog, logger: ctx.logger },
        {
          source,
          connector,
          config,
          ...(piiSalt === undefined ? {} : { piiSalt }),
          runId,
          signal: controller.signal,
          ...(streams ? { streams } : {}),
        },
      )
        .then((run) => ctx.logger.info(`run ${run.runId} of ${name}: ${run.status}`))
        .catch((error: unknown) =>
          ctx.logger.warn(`run ${runId} of ${name} failed: ${(error as Error).message}`),
        )
        .finally(() => running.delete(runId));
      running.set(runId, { controller, done });
      return { runId };
    },
  };
  const scheduler = new LocalScheduler({
    ...(options.clock ? { clock: options.clock } : {}),
    onDue: (name) => {
      trigger.start(name, newRunId(new Date())).catch((error: unknown) => {
        ctx.logger.warn(`scheduled sync of ${name} did not start: ${(error as Error).message}`);
      });
    },
  });
  for (const source of await ctx.state.listSources()) {
    if (source.schedule === undefined) continue;
    try {
      await scheduler.put(source.name, {
        expression: source.schedule,
        timezone: source.timezone ?? 'UTC',
        enabled: source.paused !== true,
      });
    } catch (error) {
      ctx.logger.warn(`schedule of ${source.name} is ignored: ${(error as Error).message}`);
    }
  }

  // Pushed events land in this process through engine/push.ts (AWS puts them on Kinesis).
  const events = new LocalEventSink({
    objects: ctx.objects,
    state: ctx.state,
    catalog: ctx.catalog,
    secrets: ctx.secrets,
    logger: ctx.logger,
  });
  const api = createApi(
    { ...ctx, scheduler, trigger, events },
    { onError: (error) => ctx.logger.error(`request failed: ${(error as Error)?.stack ?? String(error)}`) },
  );
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // A request line no URL parser takes (`GET //[`) is the client's error, not a crash of the server.
      const error = {
        code: 'ValidationError',
        message: `the request path is not a URL: ${req.url}`,
        requestId,
      };
      res.writeHead(400, { 'content-type': 'application/json', 'x-request-id': requestId });
      res.end(`${JSON.stringify({ error })}\n`);
      req.resume();
      return;
    }
    readBody(req)
      .then(async (body) => {
        const request: ApiRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: Object.fromEntries(
            Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
          ),
          body: body === '' ? undefined : body,
          requestId,
        };
        return api.handle(request);
      })
      .catch((error: unknown) => ({
        statusCode: 413,
        headers: { 'content-type': 'application/json' },
        body: `${JSON.stringify({ error: { code: 'ValidationError', message: (error as Error).message, field: 'body', requestId } })}\n`,
      }))
      .then((response) => {
        res.writeHead(response.statusCode, { ...response.headers, 'x-request-id': requestId });
        res.end(response.body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  scheduler.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    scheduler,
    close: async () => {
      scheduler.stop();
      for (const { controller } of running.values()) controller.abort(new Error('the server is stopping'));
      await Promise.all([...running.values()].map((r) => r.done));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The command: serve until SIGINT/SIGTERM. */
export async function serve(ctx: CliContext, options: ServeOptions): Promise<void> {
  const server = await startServer(ctx, options);
  process.stderr.write(`sluice API on ${server.url} (local backend at ${ctx.location}); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
}
