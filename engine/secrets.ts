/**
 * Secret config fields never reach the state store: on registration each
 * value marked `secret: true` in the connector's schema is stored in the
 * secret store and replaced by `{ "$secret": "<ref>" }`; a sync resolves the
 * references just before it reads.
 *
 * Every write goes to a name of its own (`<source>/<path>@<revision>`): a
 * request that fails, or loses a race for the source's name, deletes only
 * what it wrote, and a changed value takes effect only when the source
 * definition that points at it is stored.
 */
import { randomBytes } from 'node:crypto';
import type { ConfigProperty, ConfigSchema } from '../connectors/sdk/types.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { SecretStore } from './ports.js';

export interface SecretRef {
  readonly $secret: string;
}

export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).$secret === 'string' &&
    Object.keys(value).length === 1
  );
}

/** A fresh revision for secret names: 8 hex digits, so names stay short and never repeat in practice. */
export function newSecretRevision(): string {
  return randomBytes(4).toString('hex');
}

/** The secret-store name of one write of a source's secret at `path`. */
export function secretName(source: string, path: string, revision: string): string {
  return `${source}/${path}@${revision}`;
}

/**
 * Replaces secret values with references, storing each under
 * `secretName(source, path, revision)`. Values that are references already
 * (kept from a stored config) are left as they are.
 */
export async function extractSecrets(
  schema: ConfigSchema,
  config: Record<string, unknown>,
  source: string,
  store: SecretStore,
  revision: string = newSecretRevision(),
): Promise<Record<string, unknown>> {
  const walk = async (property: ConfigProperty, value: unknown, path: string): Promise<unknown> => {
    if (value === undefined || value === null || isSecretRef(value)) return value;
    if (property.secret) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return { $secret: await store.put(secretName(source, path, revision), text) } satisfies SecretRef;
    }
    if (property.type === 'object' && typeof value === 'object' && !Array.isArray(value)) {
      const out: Record<string, unknown> = {};
      for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
        const childSchema = property.properties?.[name];
        out[name] = childSchema ? await walk(childSchema, child, path ? `${path}.${name}` : name) : child;
      }
      return out;
    }
    if (property.type === 'array' && Array.isArray(value) && property.items) {
      const items = property.items;
      return Promise.all(value.map((item, i) => walk(items, item, `${path}[${i}]`)));
    }
    return value;
  };
  return (await walk(schema as ConfigProperty, config, '')) as Record<string, unknown>;
}

/**
 * Replaces every `{ "$secret": ref }` with the stored value. A missing secret
 * is named by its config field, not by its store reference (on AWS an ARN
 * with the account in it).
 */
export async function resolveSecrets(config: unknown, store: SecretStore, path = ''): Promise<unknown> {
  if (isSecretRef(config)) {
    try {
      return await store.get(config.$secret);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      const field = path === '' ? 'a secret field' : `config field "${path}"`;
      throw new NotFoundError(
        `the stored secret of ${field} does not exist (or was deleted); give its value again`,
        { what: `secret of ${path === '' ? 'config' : path}`, cause: error },
      );
    }
  }
  if (Array.isArray(config))
    return Promise.all(config.map((item, i) => resolveSecrets(item, store, `${path}[${i}]`)));
  if (typeof config === 'object' && config !== null && !(config instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(config))
      out[name] = await resolveSecrets(value, store, path === '' ? name : `${path}.${name}`);
    return out;
  }
  return config;
}

/**
 * A view of `store` that notes the reference of every secret written through
 * it, so a request that fails removes exactly what it wrote, even when it
 * failed half-way through writing.
 */
export function recordingWrites(store: SecretStore): {
  readonly store: SecretStore;
  readonly written: string[];
} {
  const written: string[] = [];
  return {
    written,
    store: {
      put: async (name, value) => {
        const ref = await store.put(name, value);
        written.push(ref);
        return ref;
      },
      get: (ref) => store.get(ref),
      delete: (ref) => store.delete(ref),
    },
  };
}

/** Deletes secrets no stored definition points at; best effort, since a leftover is only unused. */
export async function discardSecrets(store: SecretStore, refs: readonly string[]): Promise<void> {
  for (const ref of refs) await store.delete(ref).catch(() => undefined);
}

/**
 * Refuses a `{ "$secret": … }` given in a request: a reference names a stored
 * secret, possibly another source's, and only the engine writes them.
 */
export function assertNoSecretRefs(value: unknown, path = 'config'): void {
  if (isSecretRef(value)) {
    throw new ValidationError(
      `"${path}" holds a {"$secret": …} reference; give the secret's value, or leave the field out to keep the stored one`,
      { field: path },
    );
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertNoSecretRefs(item, `${path}[${i}]`);
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, child] of Object.entries(value)) assertNoSecretRefs(child, `${path}.${name}`);
  }
}

/** Every reference inside a config, to delete them with the source. */
export function secretRefs(config: unknown): string[] {
  if (isSecretRef(config)) return [config.$secret];
  if (Array.isArray(config)) return config.flatMap(secretRefs);
  if (typeof config === 'object' && config !== null) return Object.values(config).flatMap(secretRefs);
  return [];
}
