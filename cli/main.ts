#!/usr/bin/env node
/**
 * `sluice` — the command line. Every command prints its result to stdout,
 * progress and warnings to stderr, and on failure one line saying why,
 * with a non-zero exit code.
 */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { redactConfig } from '../connectors/sdk/config.js';
import { NotFoundError, SluiceError, ValidationError } from '../engine/errors.js';
import { formatCount, formatDuration, formatRunReport, renderTable } from '../engine/report.js';
import { resetCursors } from '../engine/reset.js';
import { secretRefs } from '../engine/secrets.js';
import { createSource, resolveSource } from '../engine/sources.js';
import { SyncError } from '../engine/sync.js';
import { dev } from './commands/dev.js';
import { printQuery } from './commands/query.js';
import { syncSource } from './commands/sync.js';
import { type GlobalOptions, openContext } from './context.js';

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function readJsonFile(path: string): Promise<unknown> {
  const text =
    path === '-'
      ? await readStdin()
      : await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new ValidationError(
            `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
            {
              field: 'file',
            },
          );
        });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON: ${(error as Error).message}`, { field: 'file' });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`expected a whole number, got "${value}"`);
  return n;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sluice')
    .description('Serverless ELT: land sources as Parquet in a lake, exactly once.')
    .option('--home <dir>', 'local mode directory (default: $SLUICE_HOME or ./.sluice)')
    .addOption(
      new Option('--backend <backend>', 'where state and the lake live')
        .choices(['local', 'aws'])
        .default('local'),
    )
    .option('-v, --verbose', 'log more to stderr')
    .showHelpAfterError('(run with --help for usage)');
  const context = () => openContext(program.opts<GlobalOptions>());

  program
    .command('dev')
    .description('register the sample source "shop" if absent, sync it, print the run report and a query')
    .option('--rows <n>', 'orders in the sample source when it is first registered', positiveInt, 20_000)
    .option('--no-query', 'skip the query after the sync')
    .action(async (options: { rows: number; query: boolean }) => {
      await dev(await context(), options);
    });

  const sources = program.command('sources').description('register and inspect sources');
  sources
    .command('add')
    .description(
      'register a source from a JSON definition {name, type, config, streams?, schedule?, slaMinutes?}',
    )
    .requiredOption('-f, --file <path>', 'JSON file with the definition, or - for stdin')
    .action(async (options: { file: string }) => {
      const ctx = await context();
      const source = await createSource(await readJsonFile(options.file), ctx);
      print(
        `source "${source.name}" added (connector ${source.type}); sync it with: sluice sync ${source.name}`,
      );
    });
  sources
    .command('list')
    .description('list registered sources')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const ctx = await context();
      const all = await ctx.state.listSources();
      if (options.json) return print(JSON.stringify(all, null, 2));
      if (all.length === 0) return print('no sources yet; add one with: sluice sources add --file <json>');
      const rows = await Promise.all(
        all.map(async (s) => {
          const last = (await ctx.state.listRuns(s.name, 1))[0];
          return [
            s.name,
            s.type,
            s.schedule ?? '-',
            last ? `${last.status} ${last.startedAt}` : 'never synced',
          ];
        }),
      );
      print(renderTable(['name', 'type', 'schedule', 'last run'], rows));
    });
  sources
    .command('show <name>')
    .description('show one source (secrets redacted)')
    .action(async (name: string) => {
      const ctx = await context();
      const source = await ctx.state.getSource(name);
      if (!source) throw new NotFoundError(`source "${name}" does not exist`);
      const connector = ctx.registry.get(source.type);
      const config = connector ? redactConfig(connector.configSchema, source.config) : source.config;
      print(JSON.stringify({ ...source, config }, null, 2));
    });
  sources
    .command('remove <name>')
    .description(
      'remove a source and its secrets (landed data and cursors stay: re-adding the name resumes; `sluice reset` starts over)',
    )
    .action(async (name: string) => {
      const ctx = await context();
      const source = await ctx.state.getSource(name);
      if (!source) throw new NotFoundError(`source "${name}" does not exist`);
      await ctx.state.deleteSource(name);
      for (const ref of secretRefs(source.config)) await ctx.secrets.delete(ref);
      print(`source "${name}" removed; its data stays under raw/${name}/ and its cursors are kept`);
    });

  program
    .command('check <source>')
    .description('check that a source can be reached with its config')
    .action(async (name: string) => {
      const ctx = await context();
      const source = await ctx.state.getSource(name);
      if (!source) throw new NotFoundError(`source "${name}" does not exist`);
      const { connector, config } = await resolveSource(source, ctx);
      const result = await connector.check(config as never);
      if (!result.ok) throw new SluiceError(`check of "${name}" failed: ${result.message}`);
      for (const warning of result.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
      print(`source "${name}" is reachable`);
    });

  program
    .command('sync <source>')
    .description('sync a source now: land new records from its streams')
    .option('-s, --stream <name...>', 'only these streams')
    .option(
      '-w, --wait <seconds>',
      'wait this long if another run of the source is in progress',
      positiveInt,
      0,
    )
    .option('--json', 'print the run record as JSON')
    .option('-q, --quiet', 'no progress lines')
    .action(
      async (name: string, options: { stream?: string[]; wait: number; json?: boolean; quiet?: boolean }) => {
        const ctx = await context();
        const run = await syncSource(ctx, name, {
          ...(options.stream ? { streams: options.stream } : {}),
          waitSeconds: options.wait,
          quiet: options.quiet ?? false,
        });
        print(options.json ? JSON.stringify(run, null, 2) : formatRunReport(run));
      },
    );

  program
    .command('runs [source]')
    .description('list recent runs, newest first')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .option('--json', 'print JSON')
    .action(async (source: string | undefined, options: { limit: number; json?: boolean }) => {
      const ctx = await context();
      const runs = await ctx.state.listRuns(source, options.limit);
      if (options.json) return print(JSON.stringify(runs, null, 2));
      if (runs.length === 0) return print(source ? `no runs of "${source}" yet` : 'no runs yet');
      const rows = runs.map((r) => {
        const streams = Object.values(r.streams);
        const duration = r.endedAt ? formatDuration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : '-';
        return [
          r.runId,
          r.source,
          r.status,
          r.startedAt,
          duration,
          formatCount(streams.reduce((s, x) => s + x.rows, 0)),
          formatCount(streams.reduce((s, x) => s + x.files, 0)),
          r.error ?? '',
        ];
      });
      print(
        renderTable(['run', 'source', 'status', 'started', 'duration', 'rows', 'files', 'note'], rows, [
          false,
          false,
          false,
          false,
          true,
          true,
          true,
          false,
        ]),
      );
    });

  program
    .command('query <sql>')
    .description('run SQL over the landed tables (<source>.<stream>)')
    .option('--json', 'print rows as JSON')
    .action(async (sql: string, options: { json?: boolean }) => {
      await printQuery(await context(), sql, options.json ?? false);
    });

  program
    .command('reset <source> [stream]')
    .description("backfill: move a source's (or one stream's) cursor back to its initial value")
    .action(async (name: string, stream: string | undefined) => {
      const ctx = await context();
      const source = await ctx.state.getSource(name);
      if (!source) throw new NotFoundError(`source "${name}" does not exist`);
      const { connector, config } = await resolveSource(source, ctx);
      const streams = await connector.streams(config as never);
      const reset = await resetCursors(ctx, name, streams, stream ? [stream] : undefined);
      print(
        reset.length === 0
          ? 'nothing to reset: no committed cursor yet'
          : `reset ${reset.join(', ')}; the next sync of "${name}" reads from the initial cursor`,
      );
    });

  program
    .command('serve')
    .description('serve the HTTP API on localhost (local backend), running due schedules')
    .option('-p, --port <port>', 'port to listen on', positiveInt, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      const { serve } = await import('./commands/serve.js');
      await serve(await context(), options);
    });

  program
    .command('connectors')
    .description('list connector types and their config schemas')
    .option('--json', 'print JSON with each config schema')
    .action(async (options: { json?: boolean }) => {
      const ctx = await context();
      const list = ctx.registry.list();
      if (options.json) {
        return print(
          JSON.stringify(
            list.map((c) => ({ type: c.type, description: c.description, configSchema: c.configSchema })),
            null,
            2,
          ),
        );
      }
      print(
        renderTable(
          ['type', 'description', 'config fields (* required, secret marked 🔒)'],
          list.map((c) => [
            c.type,
            c.description,
            Object.entries(c.configSchema.properties)
              .map(
                ([k, p]) => `${k}${c.configSchema.required?.includes(k) ? '*' : ''}${p.secret ? '🔒' : ''}`,
              )
              .join(', '),
          ]),
        ),
      );
    });

  return program;
}

function reasonOf(error: unknown): string {
  if (error instanceof SyncError) return `${error.message}\n${formatRunReport(error.run)}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    }
    const reason = reasonOf(error);
    const [first, ...rest] = reason.split('\n');
    process.stderr.write(`sluice: ${first}\n`);
    if (rest.length > 0 && error instanceof SyncError) process.stderr.write(`${rest.join('\n')}\n`);
    if (program.opts<GlobalOptions>().verbose && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    return 1;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly || process.argv[1]?.endsWith('cli/main.ts')) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
