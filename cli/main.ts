#!/usr/bin/env node
/**
 * `sluice` — the command line. Every command prints its result to stdout
 * (with `--json`, one JSON document and nothing else), progress and warnings
 * to stderr, and on failure one line `sluice: <reason>` with a non-zero exit
 * code. Commands import what they need when they run, so `--help` and
 * `--version` load nothing but this file and commander.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LeaseHeldError, ValidationError } from '../engine/errors.js';
import type { RunRecord } from '../engine/ports.js';
import type { CliContext, GlobalOptions } from './context.js';
import { jsonError, reasonOf } from './errors.js';
import { printJson } from './output.js';

/** Exit codes: 1 when a command failed, 2 when it was called wrongly. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

interface CliOptions extends GlobalOptions {
  readonly json?: boolean;
  /** The deployed API to call instead of opening a backend here. */
  readonly api?: string;
}

/** The commands that work against the HTTP API (`--api`). */
const REMOTE_COMMANDS = new Set(['sources add', 'sources list', 'sync', 'runs']);

/** The commands that land data in this process (unless `--api` sends them away): they restart with the allocator setting. */
const LANDING_COMMANDS = new Set(['dev', 'sync', 'serve']);

export interface MainOptions {
  /**
   * Set by the program's entry points (bin/sluice.mjs, `tsx cli/main.ts`): a
   * landing command may then replace this process (cli/allocator-restart.ts).
   * Never by tests that call main() inside their own process.
   */
  readonly entry?: boolean;
}

function commandPath(command: Command): string {
  const parent = command.parent;
  return parent?.parent ? `${parent.name()} ${command.name()}` : command.name();
}

/** The package version; the same file serves `cli/main.ts` (tsx) and `dist/cli/main.js` (built). */
function packageVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'sluice' && pkg.version) return pkg.version;
    } catch {
      // not at this level; try the next one up
    }
  }
  return 'unknown';
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

function positiveWholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

function globals(command: Command): CliOptions {
  return command.optsWithGlobals<CliOptions>();
}

async function context(command: Command): Promise<CliContext> {
  const { openContext } = await import('./context.js');
  return openContext(globals(command));
}

const json = (command: Command): boolean => globals(command).json ?? false;

/**
 * Prints a run: its report, or the record as JSON. A run whose stages did not
 * succeed prints its report (not the JSON, which the failure carries) and fails.
 */
async function printRun(run: RunRecord, command: Command): Promise<void> {
  const { formatRunReport } = await import('./format.js');
  if (run.status !== 'SUCCEEDED') {
    const { stagesFailed } = await import('./commands/stages.js');
    if (!json(command)) process.stdout.write(`${formatRunReport(run)}\n`);
    throw stagesFailed(run);
  }
  if (json(command)) printJson(run);
  else process.stdout.write(`${formatRunReport(run)}\n`);
}

/** The API client when `--api` is given, else undefined (the command opens a backend here). */
async function remote(command: Command) {
  const url = globals(command).api;
  if (url === undefined) return undefined;
  const remoteCommands = await import('./commands/remote.js');
  return { api: remoteCommands.apiClient(url), commands: remoteCommands };
}

export function buildProgram(options: MainOptions = {}): Command {
  const program = new Command();
  program
    .name('sluice')
    .description('Serverless ELT: land sources as Parquet in a lake, exactly once.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--home <dir>', 'local mode directory (default: $SLUICE_HOME or ./.sluice)')
    .addOption(
      new Option('--backend <backend>', 'where state and the lake live')
        .choices(['local', 'aws'])
        .default('local')
        .env('SLUICE_BACKEND'),
    )
    .addOption(
      new Option(
        '--api <url>',
        `call a deployed Sluice HTTP API (SigV4-signed with your AWS credentials) instead of a backend here; for ${[...REMOTE_COMMANDS].join(', ')}`,
      ).env('SLUICE_API_URL'),
    )
    .option('--json', 'print the result as JSON (a failure as {"error": {…}}); nothing else on stdout')
    .option('-v, --verbose', 'log more to stderr')
    .configureHelp({ showGlobalOptions: true })
    // Set before the subcommands are added, which copy them: failures are
    // reported by main(), as one line like every other failure.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .hook('preAction', (_program, action) => {
      const path = commandPath(action);
      if (globals(action).api !== undefined && !REMOTE_COMMANDS.has(path)) {
        // Say where the API came from: an exported SLUICE_API_URL is easy to forget.
        const how =
          program.getOptionValueSource('api') === 'env'
            ? 'while SLUICE_API_URL is set (unset it to use the backend here)'
            : 'with --api';
        throw new ValidationError(
          `"${path}" does not work ${how} (these do: ${[...REMOTE_COMMANDS].join(', ')})`,
          { field: 'api' },
        );
      }
    })
    .hook('preAction', async (_program, action) => {
      if (!options.entry || !LANDING_COMMANDS.has(commandPath(action)) || globals(action).api !== undefined)
        return;
      const { restartWithAllocatorSetting } = await import('./allocator-restart.js');
      // Returns only when the process was not replaced.
      const kept = restartWithAllocatorSetting();
      if (globals(action).verbose)
        process.stderr.write(`sluice: glibc's allocator settings as started: ${kept}\n`);
    });

  program
    .command('dev')
    .description('register the sample source "shop" if absent, sync it, print the run report and a query')
    .option('--rows <n>', 'orders in the sample source when it is first registered', wholeNumber, 20_000)
    .option('--no-query', 'skip the query after the sync')
    .action(async (options: { rows: number; query: boolean }, command: Command) => {
      const { dev } = await import('./commands/dev.js');
      await dev(await context(command), { ...options, json: json(command) });
    });

  const sources = program.command('sources').description('register, change and inspect sources');
  sources
    .command('add')
    .description(
      'register a source from a JSON definition {name, type, config, streams?, schedule?, slaMinutes?}; "streams" must name streams the connector has',
    )
    .requiredOption('-f, --file <path>', 'JSON file with the definition, or - for stdin')
    .action(async (options: { file: string }, command: Command) => {
      const api = await remote(command);
      if (api) return api.commands.addSourceRemote(api.api, options.file, json(command));
      const { addSource } = await import('./commands/sources.js');
      await addSource(await context(command), options.file, json(command));
    });
  sources
    .command('update')
    .description(
      "replace a source's definition (validated as by add; the type cannot change); takes what `sources show` prints, a redacted secret keeps the stored one; cursors and data stay",
    )
    .requiredOption('-f, --file <path>', 'JSON file with the definition, or - for stdin')
    .action(async (options: { file: string }, command: Command) => {
      const { updateSource } = await import('./commands/sources.js');
      await updateSource(await context(command), options.file, json(command));
    });
  sources
    .command('list')
    .description('list registered sources with their last run')
    .action(async (_options: unknown, command: Command) => {
      const api = await remote(command);
      if (api) return api.commands.listSourcesRemote(api.api, json(command));
      const { listSources } = await import('./commands/sources.js');
      await listSources(await context(command), json(command));
    });
  sources
    .command('show <name>')
    .description('show one source as JSON (secrets redacted)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { showSource } = await import('./commands/sources.js');
      await showSource(await context(command), name);
    });
  sources
    .command('remove <name>')
    .description(
      'remove a source and its secrets (landed data and cursors stay: re-adding the name resumes; `sluice reset` starts over)',
    )
    .action(async (name: string, _options: unknown, command: Command) => {
      const { removeSource } = await import('./commands/sources.js');
      await removeSource(await context(command), name, json(command));
    });

  program
    .command('check <source>')
    .description('check that a source can be reached with its config and that its selected streams exist')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { checkSource } = await import('./commands/check.js');
      await checkSource(await context(command), name, json(command));
    });

  program
    .command('sync <source>')
    .description('sync a source now: land new records from its streams (continues an interrupted sync)')
    .option('-s, --stream <name...>', 'only these streams')
    .option(
      '-w, --wait <seconds>',
      'when another run of the source holds its lease, wait up to this long for that run to finish (0: fail at once)',
      wholeNumber,
      0,
    )
    .option('--slice-seconds <seconds>', 'publish what has landed every this many seconds', positiveNumber)
    .option(
      '--slice-rows <rows>',
      'publish what has landed every this many rows (at the next point a stream may stop)',
      positiveWholeNumber,
    )
    .option('-q, --quiet', 'no progress lines')
    .option(
      '--no-stages',
      'skip the transform stages (quality checks, merge into current, models) after the run',
    )
    .option('--models <dir>', 'directory of SQL models (default: $SLUICE_MODELS, else ./models if it exists)')
    .action(
      async (
        name: string,
        options: {
          stream?: string[];
          wait: number;
          quiet?: boolean;
          sliceSeconds?: number;
          sliceRows?: number;
          stages: boolean;
          models?: string;
        },
        command: Command,
      ) => {
        const api = await remote(command);
        if (api) return api.commands.syncRemote(api.api, name, options.stream, json(command));
        const ctx = await context(command);
        const { syncSource } = await import('./commands/sync.js');
        let run: Awaited<ReturnType<typeof syncSource>>;
        try {
          run = await syncSource(ctx, name, {
            ...(options.stream ? { streams: options.stream } : {}),
            waitSeconds: options.wait,
            quiet: options.quiet ?? false,
            ...(options.sliceSeconds === undefined ? {} : { sliceSeconds: options.sliceSeconds }),
            ...(options.sliceRows === undefined ? {} : { sliceRows: options.sliceRows }),
          });
        } catch (error) {
          throw leaseHint(error, options.wait);
        }
        if (options.stages) {
          const { runSourceStages } = await import('./commands/stages.js');
          run = await runSourceStages(ctx, name, {
            runId: run.runId,
            waitSeconds: options.wait,
            ...(options.models ? { modelsDir: options.models } : {}),
          });
        }
        // A sync that failed has thrown already; a status other than SUCCEEDED here is a stage's.
        await printRun(run, command);
      },
    );

  program
    .command('lineage <table>')
    .description(
      'where a table (current table or model) got its rows: the tables, files and source runs behind it',
    )
    .action(async (table: string, _options: unknown, command: Command) => {
      const { showLineage } = await import('./commands/lineage.js');
      await showLineage(await context(command), table, json(command));
    });

  const stages = program.command('stages').description('the transform stages that run after each sync');
  stages
    .command('run <source>')
    .description(
      "run the stages (quality checks, merge into <source>__<stream>__current, models) for the source's latest run",
    )
    .option(
      '-w, --wait <seconds>',
      'wait up to this long for a run of the source holding its lease',
      wholeNumber,
      0,
    )
    .option('--models <dir>', 'directory of SQL models (default: $SLUICE_MODELS, else ./models if it exists)')
    .action(async (name: string, options: { wait: number; models?: string }, command: Command) => {
      const ctx = await context(command);
      const { runSourceStages } = await import('./commands/stages.js');
      const run = await runSourceStages(ctx, name, {
        waitSeconds: options.wait,
        ...(options.models ? { modelsDir: options.models } : {}),
      });
      await printRun(run, command);
    });
  stages
    .command('maintain <source>')
    .description(
      "compact the source's <source>__<stream>__current tables and expire old snapshots (OPTIMIZE + VACUUM on Athena)",
    )
    .option('--retain-hours <hours>', 'keep older snapshots this long (default: 120)', wholeNumber, 120)
    .option(
      '-w, --wait <seconds>',
      'wait up to this long for a run of the source holding its lease',
      wholeNumber,
      0,
    )
    .action(async (name: string, options: { retainHours: number; wait: number }, command: Command) => {
      const ctx = await context(command);
      const { maintainSource } = await import('./commands/stages.js');
      const done = await maintainSource(ctx, name, {
        retentionMs: options.retainHours * 3_600_000,
        waitSeconds: options.wait,
      });
      if (json(command)) printJson(done);
      else if (done.length === 0) process.stdout.write(`no current tables of "${name}" to maintain\n`);
      else
        for (const t of done)
          process.stdout.write(
            `${t.table}: compacted${t.rows === undefined ? '' : ` (${t.rows} rows)`}, ${t.expired.length} expired\n`,
          );
    });
  stages
    .command('list')
    .description('the stage list (name, kind, retry policy) in the order it runs')
    .action(async (_options: unknown, command: Command) => {
      const { STAGES } = await import('../engine/stages/declarations.js');
      if (json(command)) printJson(STAGES);
      else {
        for (const s of STAGES) {
          process.stdout.write(
            `${s.name} (${s.kind}): ${s.description}; ${s.retry.maxAttempts} attempts, ${s.retry.intervalMs} ms × ${s.retry.backoffRate}\n`,
          );
        }
      }
    });

  program
    .command('runs [source] [run]')
    .description(
      'list recent runs, newest first, with their streams and estimated cost; or one run (by id, or source and id)',
    )
    .option('-n, --limit <n>', 'how many', wholeNumber, 20)
    .action(
      async (
        source: string | undefined,
        run: string | undefined,
        options: { limit: number },
        command: Command,
      ) => {
        const api = await remote(command);
        if (api) {
          if (source === undefined) {
            throw new ValidationError('with --api, runs needs a source: sluice --api <url> runs <source>', {
              field: 'source',
            });
          }
          return api.commands.runsRemote(api.api, source, run, options.limit, json(command));
        }
        const { runsOf, showRun } = await import('./commands/runs.js');
        const ctx = await context(command);
        if (run !== undefined) return showRun(ctx, source, run, { json: json(command) });
        await runsOf(ctx, source, { limit: options.limit, json: json(command) });
      },
    );

  program
    .command('query <sql>')
    .description('run SQL over the landed tables (<source>.<stream>); --json prints the rows as an array')
    .action(async (sql: string, _options: unknown, command: Command) => {
      const { printQuery } = await import('./commands/query.js');
      await printQuery(await context(command), sql, json(command));
    });

  program
    .command('reset <source> [stream]')
    .description("backfill: move a source's (or one stream's) cursor back to its initial value")
    .action(async (name: string, stream: string | undefined, _options: unknown, command: Command) => {
      const { resetSource } = await import('./commands/reset.js');
      await resetSource(await context(command), name, stream, json(command));
    });

  program
    .command('serve')
    .description('serve the HTTP API on localhost (local backend), running due schedules')
    .option('-p, --port <port>', 'port to listen on', positiveWholeNumber, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }, command: Command) => {
      const { serve } = await import('./commands/serve.js');
      await serve(await context(command), options);
    });

  program
    .command('connectors')
    .description('list connector types and their config schemas (--json: with each full schema)')
    .action(async (_options: unknown, command: Command) => {
      const [{ registry }, { listConnectors }] = await Promise.all([
        import('../connectors/index.js'),
        import('./commands/connectors.js'),
      ]);
      listConnectors({ registry }, json(command));
    });

  return program;
}

/** A held lease says who holds it; add what `--wait` did or could do about it. */
function leaseHint(error: unknown, waitSeconds: number): unknown {
  if (!(error instanceof LeaseHeldError) || error.owner === undefined) return error;
  const hint =
    waitSeconds > 0
      ? `still held after waiting ${waitSeconds} s for that run to finish`
      : 'pass --wait <seconds> to wait for that run to finish';
  return new LeaseHeldError(
    { source: error.source, owner: error.owner, expiresAt: error.expiresAt },
    { message: `${error.message}; ${hint}`, cause: error },
  );
}

/** A usage error as commander words it, without its `error: ` prefix. */
function usageReason(error: CommanderError): string {
  if (error.code === 'commander.help') return 'a command is missing (see the usage above)';
  return `${error.message.replace(/^error: /, '')} (run with --help for usage)`;
}

function fail(reason: string, body: ReturnType<typeof jsonError>, asJson: boolean): void {
  process.stderr.write(`sluice: ${reason}\n`);
  if (asJson) printJson(body);
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const program = buildProgram(options);
  const args = argv.slice(2);
  if (args.includes('--json') && (args.includes('--version') || args.includes('-V'))) {
    printJson({ version: program.version() });
    return ExitCode.ok;
  }
  const asJson = (): boolean => program.opts<CliOptions>().json ?? args.includes('--json');
  try {
    await program.parseAsync(argv as string[]);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // `help` (and `sluice help <command>`) exits 0; help shown for a missing command exits 1.
      const asked = error.code === 'commander.help' && error.exitCode === 0;
      if (asked || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
        return ExitCode.ok;
      }
      const reason = usageReason(error);
      fail(reason, { error: { message: reason, name: 'UsageError' } }, asJson());
      return ExitCode.usage;
    }
    fail(reasonOf(error), jsonError(error), asJson());
    if (program.opts<CliOptions>().verbose && error instanceof Error) {
      process.stderr.write(`${error.stack ?? error.message}\n`);
    }
    return ExitCode.failed;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly || process.argv[1]?.endsWith('cli/main.ts')) {
  main(process.argv, { entry: true }).then((code) => {
    process.exitCode = code;
  });
}
