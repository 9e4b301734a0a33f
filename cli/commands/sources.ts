/** `sluice sources add|update|list|show|remove`. */
import { readFile } from 'node:fs/promises';
import { parseSchedule } from '../../adapters/local/scheduler.js';
import { redactConfig, validateConfig } from '../../connectors/sdk/config.js';
import type { Connector } from '../../connectors/sdk/types.js';
import { NotFoundError, ValidationError } from '../../engine/errors.js';
import type { SourceDefinition } from '../../engine/ports.js';
import { discardSecrets, isSecretRef, resolveSecrets, secretRefs } from '../../engine/secrets.js';
import {
  createSource,
  parseSourceInput,
  type SourceInput,
  writeSourceSecrets,
} from '../../engine/sources.js';
import { checkStreamSelection, streamNames } from '../../engine/stream-selection.js';
import type { CliContext } from '../context.js';
import { renderTable } from '../format.js';
import { printResult, warn } from '../output.js';

/** What `sources show` prints for a secret; `sources update` keeps the stored secret when it sees it. */
const REDACTED = '********';

/** Reads a JSON definition from a file, or from stdin for `-`. */
export async function readJsonFile(path: string): Promise<unknown> {
  const text =
    path === '-'
      ? await readStdin()
      : await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new ValidationError(
            `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
            { field: 'file' },
          );
        });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(
      `${path === '-' ? 'stdin' : path} is not valid JSON: ${(error as Error).message}`,
      {
        field: 'file',
      },
    );
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function sourceOrFail(ctx: CliContext, name: string): Promise<SourceDefinition> {
  const source = await ctx.state.getSource(name);
  if (source) return source;
  const known = (await ctx.state.listSources()).map((s) => s.name);
  throw new NotFoundError(
    `source "${name}" does not exist${known.length > 0 ? ` (sources: ${known.join(', ')})` : '; add one with `sluice sources add --file <json>`'}`,
    { what: `source ${name}` },
  );
}

/**
 * Checks a definition's stream selection against the streams its connector
 * declares. Listing streams may need the source (PostgreSQL discovers its
 * tables); when it cannot be reached the selection stays unchecked, with a
 * warning, and `sluice check` checks it later.
 */
async function checkStreams(
  connector: Connector<never>,
  parsed: SourceInput,
  config: unknown,
): Promise<void> {
  if (!parsed.streams || parsed.streams.length === 0) return;
  let available: string[];
  try {
    available = await streamNames(connector, validateConfig(connector.configSchema, config));
  } catch (error) {
    warn(
      `could not list the streams of "${parsed.name}" to check "streams" (${(error as Error).message}); \`sluice check ${parsed.name}\` checks them`,
    );
    return;
  }
  checkStreamSelection(parsed.name, parsed.streams, available);
}

function added(source: SourceDefinition, verb: 'added' | 'updated', changed?: readonly string[]): string {
  const what =
    changed === undefined
      ? ''
      : changed.length === 0
        ? '; nothing changed'
        : `; changed: ${changed.join(', ')}`;
  return `source "${source.name}" ${verb} (connector ${source.type})${what}; sync it with: sluice sync ${source.name}`;
}

function shown(ctx: CliContext, source: SourceDefinition): Omit<SourceDefinition, 'piiSalt'> {
  const connector = ctx.registry.get(source.type);
  // The salt's reference stays internal: `sources update` takes this output back, and keeps the stored salt.
  const { piiSalt: _salt, ...rest } = source;
  return {
    ...rest,
    config: connector ? redactConfig(connector.configSchema, source.config) : source.config,
  };
}

/**
 * Locally `sluice serve` runs schedules: one its scheduler cannot run is
 * refused here, not ignored with a warning at serve time. On AWS,
 * EventBridge Scheduler judges the expression when the API stores it.
 */
function checkLocalSchedule(ctx: CliContext, parsed: SourceInput): void {
  if (ctx.backend !== 'local' || parsed.schedule === undefined) return;
  parseSchedule({ expression: parsed.schedule, timezone: parsed.timezone ?? 'UTC', enabled: true });
}

export async function addSource(ctx: CliContext, file: string, json: boolean): Promise<void> {
  const input = await readJsonFile(file);
  const parsed = parseSourceInput(input, ctx.registry);
  checkLocalSchedule(ctx, parsed);
  await checkStreams(ctx.registry.get(parsed.type)!, parsed, parsed.config);
  const source = await createSource(input, ctx);
  printResult(json, shown(ctx, source), (s) => added(s, 'added'));
}

/** Puts back the stored reference wherever the new config repeats the redaction `sources show` printed. */
function keepRedactedSecrets(next: unknown, previous: unknown): unknown {
  if (next === REDACTED && isSecretRef(previous)) return previous;
  if (Array.isArray(next)) {
    return next.map((item, i) =>
      keepRedactedSecrets(item, Array.isArray(previous) ? previous[i] : undefined),
    );
  }
  if (typeof next === 'object' && next !== null) {
    const before = (typeof previous === 'object' && previous !== null ? previous : {}) as Record<
      string,
      unknown
    >;
    return Object.fromEntries(
      Object.entries(next as Record<string, unknown>).map(([k, v]) => [k, keepRedactedSecrets(v, before[k])]),
    );
  }
  return next;
}

/** Where a redaction is left that no stored secret replaced, e.g. `config.auth.token`. */
function redactedPath(value: unknown, path: string): string | undefined {
  if (value === REDACTED) return path;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = redactedPath(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * Replaces a source's definition, validated as `add` validates. Accepts what
 * `sources show` prints: its timestamps are ignored and a redacted secret keeps
 * the stored one. Cursors and landed data stay; the type cannot change.
 */
export async function updateSource(ctx: CliContext, file: string, json: boolean): Promise<void> {
  const input = await readJsonFile(file);
  const body =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? Object.fromEntries(Object.entries(input).filter(([k]) => k !== 'createdAt' && k !== 'updatedAt'))
      : input;
  // A changed type is the first thing to say: the config would not fit the new connector anyway.
  const { name, type } = (body ?? {}) as { name?: unknown; type?: unknown };
  const before = typeof name === 'string' ? await ctx.state.getSource(name) : undefined;
  if (before && type !== before.type) {
    throw new ValidationError(
      `"type" of source "${before.name}" is ${before.type} and cannot change; remove the source and add it again`,
      { field: 'type' },
    );
  }
  const parsed = parseSourceInput(body, ctx.registry);
  checkLocalSchedule(ctx, parsed);
  const existing = before ?? (await sourceOrFail(ctx, parsed.name));
  const connector = ctx.registry.get(parsed.type)!;
  const merged = keepRedactedSecrets(parsed.config, existing.config) as Record<string, unknown>;
  const placeholder = redactedPath(merged, 'config');
  if (placeholder) {
    throw new ValidationError(
      `"${placeholder}" is ${REDACTED}, but source "${parsed.name}" has no stored secret there; give the value`,
      { field: placeholder },
    );
  }
  const resolved = await resolveSecrets(merged, ctx.secrets);
  validateConfig(connector.configSchema, resolved);
  await checkStreams(connector, parsed, resolved);
  // Changed secrets go to new names: until the definition is stored, the old ones stand, and a
  // failure removes exactly what this update wrote.
  const { config, piiSalt, written } = await writeSourceSecrets(
    connector,
    parsed,
    merged,
    existing,
    ctx.secrets,
  );
  // Every field the file gives, as `add` stores them: one left out (say `paused`) is removed.
  const source: SourceDefinition = {
    ...parsed,
    config,
    ...(piiSalt ? { piiSalt } : {}),
    createdAt: existing.createdAt,
    updatedAt: new Date().toISOString(),
  };
  try {
    await ctx.state.putSource(source, { updatedAt: existing.updatedAt });
  } catch (error) {
    await discardSecrets(ctx.secrets, written);
    throw error;
  }
  const kept = new Set(secretRefs([source.config, source.piiSalt]));
  for (const ref of secretRefs([existing.config, existing.piiSalt])) {
    if (!kept.has(ref)) await ctx.secrets.delete(ref);
  }
  const changed = (
    ['config', 'streams', 'schedule', 'timezone', 'paused', 'slaMinutes', 'quality', 'pii'] as const
  ).filter((field) => JSON.stringify(existing[field]) !== JSON.stringify(source[field]));
  printResult(json, shown(ctx, source), (s) => added(s, 'updated', changed));
}

export async function listSources(ctx: CliContext, json: boolean): Promise<void> {
  const all = await ctx.state.listSources();
  if (json)
    return printResult(
      true,
      all.map((s) => shown(ctx, s)),
      () => '',
    );
  if (all.length === 0) {
    return printResult(false, all, () => 'no sources yet; add one with: sluice sources add --file <json>');
  }
  const rows = await Promise.all(
    all.map(async (s) => {
      const last = (await ctx.state.listRuns(s.name, 1))[0];
      return [s.name, s.type, s.schedule ?? '-', last ? `${last.status} ${last.startedAt}` : 'never synced'];
    }),
  );
  printResult(false, rows, (r) => renderTable(['name', 'type', 'schedule', 'last run'], r));
}

export async function showSource(ctx: CliContext, name: string): Promise<void> {
  // Always JSON: the definition is structured, and `sources update` takes it back.
  printResult(true, shown(ctx, await sourceOrFail(ctx, name)), () => '');
}

export async function removeSource(ctx: CliContext, name: string, json: boolean): Promise<void> {
  const source = await sourceOrFail(ctx, name);
  await ctx.state.deleteSource(name);
  for (const ref of secretRefs([source.config, source.piiSalt])) await ctx.secrets.delete(ref);
  printResult(
    json,
    { removed: name, dataPrefix: `raw/${name}/`, cursorsKept: true },
    () => `source "${name}" removed; its data stays under raw/${name}/ and its cursors are kept`,
  );
}
