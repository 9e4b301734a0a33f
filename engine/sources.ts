/**
 * Registering and resolving sources: the validation every entry point (CLI,
 * HTTP API) shares, so bad input is rejected with the field named and
 * nothing half-created.
 */
import { validateConfig } from '../connectors/sdk/config.js';
import { ConfigError } from '../connectors/sdk/errors.js';
import type { Connector, Stream } from '../connectors/sdk/types.js';
import { ConflictError, ValidationError } from './errors.js';
import { checkPii, createSalt, type PiiDeclarations, parsePii } from './masking.js';
import type { SecretStore, SourceDefinition, StateStore } from './ports.js';
import {
  assertNoSecretRefs,
  discardSecrets,
  extractSecrets,
  recordingWrites,
  resolveSecrets,
} from './secrets.js';
import { slaMinutesOf } from './sla.js';
import { parseQuality, type QualityDeclarations } from './stages/quality.js';

export interface ConnectorRegistry {
  get(type: string): Connector<never> | undefined;
  list(): readonly Connector<never>[];
}

export function createRegistry(connectors: readonly Connector<never>[]): ConnectorRegistry {
  const byType = new Map(connectors.map((c) => [c.type, c]));
  return { get: (type) => byType.get(type), list: () => connectors };
}

/**
 * snake_case, at most 63 characters, with no `__` and no trailing `_`: the
 * Glue table `<source>__<stream>` then splits one way only (`a__b` + `c` and
 * `a` + `b__c` would both be `a__b__c`).
 */
export const SOURCE_NAME = /^(?=.{1,63}$)[a-z](?:_?[a-z0-9])*$/;

/**
 * A source is one DynamoDB item, and an item holds at most 400 KiB with its
 * attribute names and keys: the rest is headroom for those and for secret
 * references, which are longer than short secret values.
 */
export const MAX_SOURCE_BYTES = 350 * 1024;

export interface SourceInput {
  readonly name: string;
  readonly type: string;
  readonly config: Record<string, unknown>;
  readonly streams?: readonly string[];
  readonly schedule?: string;
  readonly timezone?: string;
  readonly paused?: boolean;
  readonly slaMinutes?: number;
  readonly quality?: QualityDeclarations;
  readonly pii?: PiiDeclarations;
}

const KNOWN_FIELDS = [
  'name',
  'type',
  'config',
  'streams',
  'schedule',
  'timezone',
  'paused',
  'slaMinutes',
  'quality',
  'sla',
  'pii',
];

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export interface ParseSourceOptions {
  /**
   * Run the connector's own `validate` on the config. A PATCH that leaves
   * `config` alone turns it off, so a source whose stored config no longer
   * passes can still be paused or unscheduled.
   * @default true
   */
  readonly validateConfig?: boolean;
  /**
   * Check `pii` against the streams the config declares. A PATCH that
   * changes neither turns it off, for the same reason.
   * @default true
   */
  readonly checkPii?: boolean;
}

/** Checks the shape of a source definition; the message names the field at fault. */
export function parseSourceInput(
  input: unknown,
  registry: ConnectorRegistry,
  options: ParseSourceOptions = {},
): SourceInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('a source definition must be a JSON object', { field: 'source' });
  }
  const body = input as Record<string, unknown>;
  const bytes = Buffer.byteLength(JSON.stringify(body));
  if (bytes > MAX_SOURCE_BYTES) {
    throw new ValidationError(
      `a source definition may hold at most ${MAX_SOURCE_BYTES / 1024} KiB of JSON; this one holds ${Math.ceil(bytes / 1024)} KiB`,
      { field: 'source' },
    );
  }
  for (const field of Object.keys(body)) {
    if (!KNOWN_FIELDS.includes(field)) {
      throw new ValidationError(`"${field}" is not a source field (known: ${KNOWN_FIELDS.join(', ')})`, {
        field,
      });
    }
  }
  const { name, type, config, streams, schedule, timezone, paused, sla, quality, pii } = body;
  if (sla !== undefined && body.slaMinutes !== undefined) {
    throw new ValidationError('give "sla" or "slaMinutes", not both', { field: 'sla' });
  }
  const slaMinutes = sla === undefined ? body.slaMinutes : slaMinutesOf(sla);
  if (typeof name !== 'string' || !SOURCE_NAME.test(name)) {
    throw new ValidationError(
      '"name" must be snake_case: a lowercase letter, then lowercase letters, digits or single _ between them (no "__", which separates source and stream in table names; at most 63)',
      { field: 'name' },
    );
  }
  if (typeof type !== 'string')
    throw new ValidationError('"type" is required (a connector type)', { field: 'type' });
  const connector = registry.get(type);
  if (!connector) {
    const known = registry
      .list()
      .map((c) => c.type)
      .join(', ');
    throw new ValidationError(`"type" ${JSON.stringify(type)} is not a connector type (known: ${known})`, {
      field: 'type',
    });
  }
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) {
    throw new ValidationError('"config" must be an object', { field: 'config' });
  }
  assertNoSecretRefs(config);
  if (streams !== undefined && (!Array.isArray(streams) || !streams.every((s) => typeof s === 'string'))) {
    throw new ValidationError('"streams" must be an array of stream names', { field: 'streams' });
  }
  if (schedule !== undefined && (typeof schedule !== 'string' || !/^(rate|cron)\(.+\)$/.test(schedule))) {
    throw new ValidationError('"schedule" must be a "rate(…)" or "cron(…)" expression', {
      field: 'schedule',
    });
  }
  if (timezone !== undefined && (typeof timezone !== 'string' || !isTimeZone(timezone))) {
    throw new ValidationError('"timezone" must be an IANA time zone such as "Europe/Berlin"', {
      field: 'timezone',
    });
  }
  if (paused !== undefined && typeof paused !== 'boolean') {
    throw new ValidationError('"paused" must be true or false', { field: 'paused' });
  }
  if (slaMinutes !== undefined && (typeof slaMinutes !== 'number' || !(slaMinutes > 0))) {
    throw new ValidationError('"slaMinutes" must be a positive number', { field: 'slaMinutes' });
  }
  let valid: unknown;
  try {
    // Not `validate?.(validateConfig(…))`: an optional call would skip the schema check with it.
    valid = validateConfig(connector.configSchema, config ?? {});
    if (options.validateConfig !== false) connector.validate?.(valid as never);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ValidationError(error.message, { field: 'config', cause: error });
    throw error;
  }
  const declarations = pii === undefined ? undefined : parsePii(pii);
  // Streams the config declares: what a sync would refuse about `pii` is refused now (a push source
  // would otherwise take events and fail every batch of them).
  if (declarations && connector.staticStreams && options.checkPii !== false) {
    let declared: readonly Stream[] | undefined;
    try {
      declared = connector.streams(valid as never) as readonly Stream[];
    } catch (error) {
      // A stored config the connector's own check was skipped for (a PATCH without config): nothing to check against.
      if (!(error instanceof ConfigError)) throw error;
      if (options.validateConfig !== false)
        throw new ValidationError(error.message, { field: 'config', cause: error });
    }
    if (declared) checkPii(name, declarations, declared);
  }
  return {
    name,
    type,
    config: (config ?? {}) as Record<string, unknown>,
    ...(streams ? { streams: streams as string[] } : {}),
    ...(schedule ? { schedule: schedule as string } : {}),
    ...(timezone ? { timezone: timezone as string } : {}),
    ...(paused !== undefined ? { paused: paused as boolean } : {}),
    ...(slaMinutes ? { slaMinutes: slaMinutes as number } : {}),
    ...(quality !== undefined ? { quality: parseQuality(quality) } : {}),
    ...(declarations !== undefined ? { pii: declarations } : {}),
  };
}

/**
 * Validates and stores a new source, its secrets in the secret store. When
 * storing the source fails, its secrets are removed again.
 */
export async function createSource(
  input: unknown,
  deps: { state: StateStore; secrets: SecretStore; registry: ConnectorRegistry; now?: Date },
): Promise<SourceDefinition> {
  const parsed = parseSourceInput(input, deps.registry);
  const connector = deps.registry.get(parsed.type)!;
  if (await deps.state.getSource(parsed.name)) {
    throw new ConflictError(`source "${parsed.name}" already exists`);
  }
  const { config, piiSalt, written } = await writeSourceSecrets(
    connector,
    parsed,
    parsed.config,
    undefined,
    deps.secrets,
  );
  const now = (deps.now ?? new Date()).toISOString();
  const source: SourceDefinition = {
    ...parsed,
    config,
    ...(piiSalt ? { piiSalt } : {}),
    createdAt: now,
    updatedAt: now,
  };
  try {
    await deps.state.createSource(source);
  } catch (error) {
    await discardSecrets(deps.secrets, written);
    throw error;
  }
  return source;
}

/**
 * Writes a definition's secrets: its secret config fields (each under a name
 * of its own, engine/secrets.ts) and a pii salt when the source first masks a
 * field. Returns the config with references, the salt, and `written`, every
 * secret this call wrote. A failure part-way removes what was written before
 * it is rethrown; the caller undoes `written` if a later step fails.
 */
export async function writeSourceSecrets(
  connector: Connector<never>,
  parsed: SourceInput,
  config: Record<string, unknown>,
  existing: SourceDefinition | undefined,
  store: SecretStore,
): Promise<{
  readonly config: Record<string, unknown>;
  readonly piiSalt: SourceDefinition['piiSalt'];
  readonly written: readonly string[];
}> {
  const secrets = recordingWrites(store);
  try {
    const stored = await extractSecrets(connector.configSchema, config, parsed.name, secrets.store);
    const piiSalt = await piiSaltFor(parsed, existing, secrets.store);
    return { config: stored, piiSalt, written: secrets.written };
  } catch (error) {
    await discardSecrets(store, secrets.written);
    throw error;
  }
}

/**
 * The salt reference a source keeps: the stored one (a salt is created once
 * per source and never rotated, or hashes would stop matching), else a new
 * one when the source masks any field.
 */
export async function piiSaltFor(
  parsed: { readonly name: string; readonly pii?: PiiDeclarations },
  existing: SourceDefinition | undefined,
  secrets: SecretStore,
): Promise<SourceDefinition['piiSalt']> {
  if (existing?.piiSalt) return existing.piiSalt;
  if (!parsed.pii || Object.keys(parsed.pii).length === 0) return undefined;
  return createSalt(parsed.name, secrets);
}

/** The connector, validated secret-resolved config and pii salt of a stored source. */
export async function resolveSource(
  source: SourceDefinition,
  deps: { secrets: SecretStore; registry: ConnectorRegistry },
): Promise<{ connector: Connector<never>; config: unknown; piiSalt?: string }> {
  const connector = deps.registry.get(source.type);
  if (!connector) {
    throw new ValidationError(
      `source "${source.name}" has type "${source.type}", which no connector provides`,
      { field: 'type' },
    );
  }
  const resolved = await resolveSecrets(source.config, deps.secrets);
  const piiSalt = source.piiSalt ? await deps.secrets.get(source.piiSalt.$secret) : undefined;
  return {
    connector,
    config: validateConfig(connector.configSchema, resolved),
    ...(piiSalt === undefined ? {} : { piiSalt }),
  };
}
