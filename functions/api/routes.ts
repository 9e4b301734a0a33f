/**
 * The HTTP API's routes, on the engine's ports and the API's own
 * (ports.ts). Runtime-neutral: the Lambda (index.ts) and `sluice serve`
 * both call `createApi(deps).handle(request)`.
 *
 * Nothing is half-created: a request is validated whole before anything is
 * written, and a later step that fails undoes the earlier ones (secrets,
 * source, schedule).
 */
import { secretPaths, validateConfig } from '../../connectors/sdk/config.js';
import { ConfigError } from '../../connectors/sdk/errors.js';
import type { Connector } from '../../connectors/sdk/types.js';
import { ConflictError, NotFoundError, ValidationError } from '../../engine/errors.js';
import { newRunId } from '../../engine/layout.js';
import type { RunPosition, SourceDefinition } from '../../engine/ports.js';
import { resetCursors } from '../../engine/reset.js';
import { assertNoSecretRefs, discardSecrets, isSecretRef, secretRefs } from '../../engine/secrets.js';
import { parseSourceInput, resolveSource, writeSourceSecrets } from '../../engine/sources.js';
import { lineageOfTable } from '../../engine/stages/lineage.js';
import { checkStreamSelection, streamNames } from '../../engine/stream-selection.js';
import { syncSourceAlarm } from './alarms.js';
import { pushEvents } from './events.js';
import {
  type ApiRequest,
  type ApiResponse,
  errorResponse,
  json,
  MethodNotAllowedError,
  parseBody,
  RouteNotFoundError,
} from './http.js';
import { openApiDocument } from './openapi.js';
import type { ApiDeps, ScheduleSpec } from './ports.js';

type Params = Readonly<Record<string, string>>;
type RouteHandler = (request: ApiRequest, params: Params) => Promise<ApiResponse>;

interface Route {
  readonly pattern: RegExp;
  readonly template: string;
  readonly methods: Readonly<Record<string, RouteHandler>>;
}

/** What a source looks like in responses: secret values never, only whether each is set. */
export interface SourceView extends Omit<SourceDefinition, 'clientToken'> {
  readonly secrets: Readonly<Record<string, 'set' | 'unset'>>;
}

export const PAGE_DEFAULT = 25;
export const PAGE_MAX = 100;
const CLIENT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const PATCHABLE = [
  'config',
  'streams',
  'schedule',
  'timezone',
  'paused',
  'slaMinutes',
  'sla',
  'quality',
  'pii',
] as const;

export interface Api {
  handle(request: ApiRequest): Promise<ApiResponse>;
}

export interface ApiOptions {
  /** Called with every 5xx error (the detail stays out of the response). */
  readonly onError?: (error: unknown, request: ApiRequest) => void;
}

export function createApi(deps: ApiDeps, options: ApiOptions = {}): Api {
  const clock = deps.clock ?? (() => new Date());

  const connectorOf = (type: string): Connector<never> => {
    const connector = deps.registry.get(type);
    if (!connector)
      throw new NotFoundError(`connector type "${type}" does not exist`, { what: `connector ${type}` });
    return connector;
  };

  const sourceOf = async (name: string): Promise<SourceDefinition> => {
    const source = await deps.state.getSource(name);
    if (!source) throw new NotFoundError(`source "${name}" does not exist`, { what: `source ${name}` });
    return source;
  };

  const view = (source: SourceDefinition): SourceView => {
    const { clientToken: _token, piiSalt: _salt, ...rest } = source;
    const connector = deps.registry.get(source.type);
    const secrets: Record<string, 'set' | 'unset'> = {};
    for (const path of connector ? secretPaths(connector.configSchema) : []) {
      secrets[path] = secretRefs(valueAt(source.config, path)).length > 0 ? 'set' : 'unset';
    }
    return { ...rest, config: withoutSecrets(source.config) as Record<string, unknown>, secrets };
  };

  const undo = (refs: readonly string[]): Promise<void> => discardSecrets(deps.secrets, refs);

  const scheduleOf = (source: SourceDefinition): ScheduleSpec | undefined =>
    source.schedule === undefined
      ? undefined
      : { expression: source.schedule, timezone: source.timezone ?? 'UTC', enabled: source.paused !== true };

  // ---------- sources ----------

  const createSourceRoute: RouteHandler = async (request) => {
    const body = parseBody(request);
    const token = request.headers['idempotency-key'];
    if (token !== undefined && !CLIENT_TOKEN.test(token)) {
      throw new ValidationError('the Idempotency-Key header must be 1-64 letters, digits, - or _', {
        field: 'Idempotency-Key',
      });
    }
    const parsed = parseSourceInput(body, deps.registry);
    const existing = await deps.state.getSource(parsed.name);
    if (existing) {
      // A retried create (same client token) gets the source it created, not a conflict.
      if (token !== undefined && existing.clientToken === token) return json(200, view(existing));
      throw new ConflictError(`source "${parsed.name}" already exists`, { what: `source ${parsed.name}` });
    }
    const connector = connectorOf(parsed.type);
    // The secrets this request writes, under names of its own (engine/secrets.ts): undoing them never
    // touches those of a concurrent create that won the name.
    const { config, piiSalt, written } = await writeSourceSecrets(
      connector,
      parsed,
      parsed.config,
      undefined,
      deps.secrets,
    );
    const undoSecrets = () => undo(written);
    const now = clock().toISOString();
    const source: SourceDefinition = {
      ...parsed,
      config,
      ...(piiSalt ? { piiSalt } : {}),
      ...(token === undefined ? {} : { clientToken: token }),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await deps.state.createSource(source);
    } catch (error) {
      await undoSecrets();
      // Lost a race to a create with the same client token (a retry sent before the first answered).
      if (error instanceof ConflictError && token !== undefined) {
        const winner = await deps.state.getSource(parsed.name);
        if (winner?.clientToken === token) return json(200, view(winner));
      }
      throw error;
    }
    const schedule = scheduleOf(source);
    if (schedule) {
      try {
        await deps.scheduler.put(source.name, schedule);
      } catch (error) {
        await deps.state.deleteSource(source.name).catch(() => undefined);
        await undoSecrets();
        throw error;
      }
    }
    try {
      await syncSourceAlarm(deps, undefined, source);
    } catch (error) {
      if (schedule) await deps.scheduler.delete(source.name).catch(() => undefined);
      await deps.state.deleteSource(source.name).catch(() => undefined);
      await undoSecrets();
      throw error;
    }
    return json(201, view(source));
  };

  const listSourcesRoute: RouteHandler = async (request) => {
    const page = pageOf(request, 'sources');
    const all = (await deps.state.listSources()).sort((a, b) => compareText(a.name, b.name));
    return json(
      200,
      pageByKey(all.map(view), page, (s) => s.name),
    );
  };

  const getSourceRoute: RouteHandler = async (_request, { name }) => json(200, view(await sourceOf(name!)));

  const patchSourceRoute: RouteHandler = async (request, { name }) => {
    const body = parseBody(request);
    const existing = await sourceOf(name!);
    for (const field of Object.keys(body)) {
      if (field === 'name' || field === 'type') {
        if (body[field] !== existing[field]) {
          throw new ValidationError(`"${field}" cannot change; create a new source instead`, { field });
        }
      } else if (!(PATCHABLE as readonly string[]).includes(field)) {
        throw new ValidationError(
          `"${field}" is not a field that can change (known: ${PATCHABLE.join(', ')})`,
          {
            field,
          },
        );
      }
    }
    if (
      body.config !== undefined &&
      (typeof body.config !== 'object' || body.config === null || Array.isArray(body.config))
    ) {
      throw new ValidationError('"config" must be an object', { field: 'config' });
    }
    // Checked before the merge below hides stored references behind a placeholder.
    assertNoSecretRefs(body.config);
    const connector = connectorOf(existing.type);
    // Config merges field by field: a secret left out keeps its stored value.
    const config = { ...existing.config, ...((body.config as Record<string, unknown> | undefined) ?? {}) };
    const next: Record<string, unknown> = {
      name: existing.name,
      type: existing.type,
      config: replaceSecretRefs(config),
    };
    // `quality` and `pii` are kept unless given: a PATCH that leaves `pii` out must not unmask the next sync.
    for (const field of [
      'streams',
      'schedule',
      'timezone',
      'paused',
      'slaMinutes',
      'quality',
      'pii',
    ] as const) {
      const value = field in body ? body[field] : existing[field];
      if (value !== undefined && value !== null) next[field] = value;
    }
    // `sla` ({"freshness": "PT2H"}) replaces the stored `slaMinutes`; `"sla": null` removes it, as
    // `"slaMinutes": null` does.
    if (body.sla === null) {
      if (body.slaMinutes !== undefined && body.slaMinutes !== null) {
        throw new ValidationError('give "sla" or "slaMinutes", not both', { field: 'sla' });
      }
      delete next.slaMinutes;
    } else if (body.sla !== undefined) {
      delete next.slaMinutes;
      next.sla = body.sla;
    }
    const parsed = parseSourceInput(next, deps.registry, {
      validateConfig: body.config !== undefined,
      checkPii: body.config !== undefined || body.pii !== undefined,
    });
    // Changed secrets go to new names (engine/secrets.ts): the stored ones stay as they are until
    // the definition pointing at the new ones is stored, so a PATCH that fails changes nothing.
    const {
      config: stored,
      piiSalt,
      written,
    } = await writeSourceSecrets(connector, parsed, config, existing, deps.secrets);
    const kept = new Set(secretRefs({ config: existing.config, piiSalt: existing.piiSalt }));
    const updated: SourceDefinition = {
      ...parsed,
      config: stored,
      ...(piiSalt ? { piiSalt } : {}),
      ...(existing.clientToken === undefined ? {} : { clientToken: existing.clientToken }),
      createdAt: existing.createdAt,
      updatedAt: clock().toISOString(),
    };
    const before = scheduleOf(existing);
    const after = scheduleOf(updated);
    try {
      if (after) await deps.scheduler.put(updated.name, after);
      else if (before) await deps.scheduler.delete(updated.name);
    } catch (error) {
      await undo(written);
      throw error;
    }
    try {
      await syncSourceAlarm(deps, existing, updated);
      // Only over the definition this PATCH read: a DELETE or another PATCH meanwhile is a 409.
      await deps.state.putSource(updated, { updatedAt: existing.updatedAt });
    } catch (error) {
      // This PATCH changed nothing stored: make the schedule and alarm match what is stored now (as
      // it was, another PATCH's, or nothing when a DELETE came first).
      const current = await deps.state.getSource(existing.name).catch(() => existing);
      const standing = current === undefined ? undefined : scheduleOf(current);
      if (standing) await deps.scheduler.put(existing.name, standing).catch(() => undefined);
      else if (before || after) await deps.scheduler.delete(existing.name).catch(() => undefined);
      await syncSourceAlarm(deps, updated, current).catch(() => undefined);
      await undo(written);
      throw error;
    }
    const now = new Set(secretRefs({ config: stored, piiSalt }));
    await undo([...kept].filter((ref) => !now.has(ref)));
    return json(200, view(updated));
  };

  const deleteSourceRoute: RouteHandler = async (request, { name }) => {
    const source = await sourceOf(name!);
    // Under the source's lease: a run in progress makes this a 409 instead of pulling its secrets away.
    const owner = `api-delete-${request.requestId}`;
    await deps.state.acquireLease(source.name, owner, 60_000);
    try {
      if (source.schedule !== undefined) await deps.scheduler.delete(source.name);
      await syncSourceAlarm(deps, source, undefined);
      await deps.state.deleteSource(source.name);
      for (const ref of secretRefs([source.config, source.piiSalt])) await deps.secrets.delete(ref);
    } finally {
      await deps.state.releaseLease(source.name, owner);
    }
    return json(200, {
      deleted: source.name,
      kept: `landed data under raw/${source.name}/, cursors and run history (re-adding the name resumes)`,
    });
  };

  // ---------- syncs, resets, runs ----------

  const syncRoute: RouteHandler = async (request, { name }) => {
    const body = parseBody(request, { optional: true });
    for (const field of Object.keys(body)) {
      if (field !== 'streams')
        throw new ValidationError(`"${field}" is not a sync field (known: streams)`, { field });
    }
    const streams = body.streams;
    if (streams !== undefined && (!Array.isArray(streams) || !streams.every((s) => typeof s === 'string'))) {
      throw new ValidationError('"streams" must be an array of stream names', { field: 'streams' });
    }
    const source = await sourceOf(name!);
    // A mistyped stream is refused here, before a run is started (and recorded FAILED) for it.
    if (Array.isArray(streams) && streams.length > 0) {
      const { connector, config } = await resolveSource(source, deps);
      checkStreamSelection(source.name, streams as string[], await streamNames(connector, config));
    }
    const runId = newRunId(clock());
    const started = await deps.trigger.start(source.name, runId, streams as string[] | undefined);
    return json(202, { source: source.name, ...started });
  };

  const resetRoute: RouteHandler = async (request, { name }) => {
    const body = parseBody(request, { optional: true });
    for (const field of Object.keys(body)) {
      if (field !== 'stream')
        throw new ValidationError(`"${field}" is not a reset field (known: stream)`, { field });
    }
    // An empty name must not read as "every stream": leaving `stream` out is how to ask for that.
    if (body.stream !== undefined && (typeof body.stream !== 'string' || body.stream === '')) {
      throw new ValidationError('"stream" must be a stream name (leave it out to reset every stream)', {
        field: 'stream',
      });
    }
    const source = await sourceOf(name!);
    const { connector, config } = await resolveSource(source, deps);
    const streams = await connector.streams(config as never);
    const stream = body.stream as string | undefined;
    if (stream !== undefined && !streams.some((s) => s.name === stream)) {
      throw new ValidationError(
        `"stream" must be one of ${streams.map((s) => s.name).join(', ')} (got "${stream}")`,
        { field: 'stream' },
      );
    }
    const reset = await resetCursors(deps, source.name, streams, stream === undefined ? undefined : [stream]);
    return json(200, { source: source.name, reset });
  };

  const runsRoute: RouteHandler = async (request, { name }) => {
    const page = pageOf(request, 'runs');
    const after = page.after === undefined ? undefined : runPositionOf(page.after);
    // One more than a page tells whether another page follows.
    const runs = await deps.state.listRuns(name!, page.limit + 1, after);
    if (runs.length === 0 && after === undefined && !(await deps.state.getSource(name!))) {
      throw new NotFoundError(`source "${name}" does not exist and has no runs`, { what: `source ${name}` });
    }
    const items = runs.slice(0, page.limit);
    const last = items[items.length - 1];
    return json(200, {
      items,
      ...(runs.length > page.limit && last
        ? { nextToken: tokenOf('runs', JSON.stringify([last.startedAt, last.runId])) }
        : {}),
    });
  };

  const runRoute: RouteHandler = async (_request, { id }) => {
    const run = await deps.state.findRun(id!);
    if (!run) throw new NotFoundError(`run "${id}" does not exist`, { what: `run ${id}` });
    return json(200, run);
  };

  const sourceRunRoute: RouteHandler = async (_request, { name, id }) => {
    const run = await deps.state.getRun(name!, id!);
    if (!run) {
      throw new NotFoundError(`run "${id}" of source "${name}" does not exist`, { what: `run ${id}` });
    }
    return json(200, run);
  };

  const lineageRoute: RouteHandler = async (_request, { name }) =>
    json(200, await lineageOfTable(deps, name!));

  // ---------- connectors ----------

  const connectorsRoute: RouteHandler = async (request) => {
    const page = pageOf(request, 'connectors');
    const items = deps.registry.list().map((c) => ({
      type: c.type,
      description: c.description,
      configSchema: c.configSchema,
      secretFields: secretPaths(c.configSchema),
    }));
    return json(
      200,
      pageByKey(items, page, (c) => c.type),
    );
  };

  const checkRoute: RouteHandler = async (request, { type }) => {
    const connector = connectorOf(type!);
    const body = parseBody(request);
    for (const field of Object.keys(body)) {
      if (field !== 'config')
        throw new ValidationError(`"${field}" is not a check field (known: config)`, { field });
    }
    let config: unknown;
    try {
      config = validateConfig(connector.configSchema, body.config ?? {});
    } catch (error) {
      if (error instanceof ConfigError)
        throw new ValidationError(error.message, { field: 'config', cause: error });
      throw error;
    }
    const result = await connector.check(config as never);
    return json(200, result);
  };

  const routes: Route[] = [
    route('/openapi.json', { GET: async () => json(200, openApiDocument(deps.registry)) }),
    route('/sources', { GET: listSourcesRoute, POST: createSourceRoute }),
    route('/sources/{name}', { GET: getSourceRoute, PATCH: patchSourceRoute, DELETE: deleteSourceRoute }),
    route('/sources/{name}/sync', { POST: syncRoute }),
    route('/sources/{name}/reset', { POST: resetRoute }),
    route('/sources/{name}/runs', { GET: runsRoute }),
    route('/sources/{name}/runs/{id}', { GET: sourceRunRoute }),
    route('/sources/{name}/events', { POST: (request, { name }) => pushEvents(deps, request, name!) }),
    route('/runs/{id}', { GET: runRoute }),
    route('/tables/{name}/lineage', { GET: lineageRoute }),
    route('/connectors', { GET: connectorsRoute }),
    route('/connectors/{type}/check', { POST: checkRoute }),
  ];

  return {
    handle: async (request) => {
      try {
        const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
        for (const candidate of routes) {
          const match = candidate.pattern.exec(path);
          if (!match) continue;
          const handler = candidate.methods[request.method.toUpperCase()];
          if (!handler) throw new MethodNotAllowedError(request.method, path, Object.keys(candidate.methods));
          const params = Object.fromEntries(
            Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeParam(k, v)]),
          );
          return await handler(request, params);
        }
        throw new RouteNotFoundError(request.method, path);
      } catch (error) {
        const { response } = errorResponse(error, request.requestId);
        if (response.statusCode >= 500) options.onError?.(error, request);
        return response;
      }
    },
  };
}

/** A path parameter, percent-decoded; malformed escapes (`%zz`, a cut-off `%E0%A4`) are the caller's error. */
function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (error) {
    throw new ValidationError(`the path parameter {${name}} is not valid percent-encoding: "${raw}"`, {
      field: name,
      cause: error,
    });
  }
}

function route(template: string, methods: Record<string, RouteHandler>): Route {
  const pattern = new RegExp(`^${template.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
  return { pattern, template, methods };
}

// ---------- pagination: `limit` and an opaque `nextToken` (a keyset cursor) ----------

/**
 * A page starts after the last item of the previous one (by its key in the
 * list's order), not at an offset: items created or deleted between two
 * requests neither repeat nor go missing. The token names its list, so a
 * runs token given to /sources is refused by name.
 */
interface Page {
  /** The list the token belongs to. */
  readonly list: string;
  readonly limit: number;
  /** The key of the last item already returned. */
  readonly after?: string;
}

function tokenOf(list: string, key: string): string {
  return Buffer.from(JSON.stringify({ l: list, k: key })).toString('base64url');
}

function pageOf(request: ApiRequest, list: string): Page {
  const { limit: limitText, nextToken } = request.query;
  let limit = PAGE_DEFAULT;
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) {
      throw new ValidationError(`"limit" must be a whole number from 1 to ${PAGE_MAX}`, { field: 'limit' });
    }
  }
  if (nextToken === undefined) return { list, limit };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const token = decoded as { l?: unknown; k?: unknown } | undefined;
  if (typeof token !== 'object' || token === null || token.l !== list || typeof token.k !== 'string') {
    throw new ValidationError(`"nextToken" is not a token this API returned for this list of ${list}`, {
      field: 'nextToken',
    });
  }
  return { list, limit, after: token.k };
}

function runPositionOf(key: string): RunPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(key);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !parsed.every((p) => typeof p === 'string')) {
    throw new ValidationError('"nextToken" is not a token this API returned for this list of runs', {
      field: 'nextToken',
    });
  }
  return { startedAt: parsed[0] as string, runId: parsed[1] as string };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One page of a list sorted ascending by `keyOf`. */
function pageByKey<T>(
  all: readonly T[],
  page: Page,
  keyOf: (item: T) => string,
): { items: T[]; nextToken?: string } {
  const rest = page.after === undefined ? all : all.filter((item) => keyOf(item) > (page.after as string));
  const items = rest.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items,
    ...(rest.length > page.limit && last !== undefined ? { nextToken: tokenOf(page.list, keyOf(last)) } : {}),
  };
}

// ---------- secrets in configs ----------

/** The config without secret references (their values live in the secret store). */
function withoutSecrets(value: unknown): unknown {
  if (isSecretRef(value)) return undefined;
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = withoutSecrets(v);
      if (kept !== undefined) out[k] = kept;
    }
    return out;
  }
  return value;
}

/** Stand-ins for stored secrets, so a merged config validates without reading secret values. */
function replaceSecretRefs(value: unknown): unknown {
  if (isSecretRef(value)) return 'stored-secret';
  if (Array.isArray(value)) return value.map(replaceSecretRefs);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecretRefs(v)]));
  }
  return value;
}

/** The value at `a.b` or `a[].b` (every element) inside a config. */
function valueAt(config: unknown, path: string): unknown {
  let values: unknown[] = [config];
  for (const part of path.split('.')) {
    const array = part.endsWith('[]');
    const key = array ? part.slice(0, -2) : part;
    values = values.flatMap((v) => {
      const child = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
      return array ? (Array.isArray(child) ? child : []) : [child];
    });
  }
  return values;
}
