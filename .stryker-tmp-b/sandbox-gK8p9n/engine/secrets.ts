/**
 * Secret config fields never reach the state store: on registration each
 * value marked `secret: true` in the connector's schema is stored in the
 * secret store and replaced by `{ "$secret": "<ref>" }`; a sync resolves the
 * references just before it reads.
 */
// @ts-nocheck

import type { ConfigProperty, ConfigSchema } from '../connectors/sdk/types.js';
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

/** Replaces secret values with references, storing them as `<source>/<path>`. */
export async function extractSecrets(
  schema: ConfigSchema,
  config: Record<string, unknown>,
  source: string,
  store: SecretStore,
): Promise<Record<string, unknown>> {
  const walk = async (property: ConfigProperty, value: unknown, path: string): Promise<unknown> => {
    if (value === undefined || value === null || isSecretRef(value)) return value;
    if (property.secret) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return { $secret: await store.put(`${source}/${path}`, text) } satisfies SecretRef;
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

/** Replaces every `{ "$secret": ref }` with the stored value. */
export async function resolveSecrets(config: unknown, store: SecretStore): Promise<unknown> {
  if (isSecretRef(config)) return store.get(config.$secret);
  if (Array.isArray(config)) return Promise.all(config.map((item) => resolveSecrets(item, store)));
  if (typeof config === 'object' && config !== null && !(config instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(config)) out[name] = await resolveSecrets(value, store);
    return out;
  }
  return config;
}

/** Every reference inside a config, to delete them with the source. */
export function secretRefs(config: unknown): string[] {
  if (isSecretRef(config)) return [config.$secret];
  if (Array.isArray(config)) return config.flatMap(secretRefs);
  if (typeof config === 'object' && config !== null) return Object.values(config).flatMap(secretRefs);
  return [];
}
