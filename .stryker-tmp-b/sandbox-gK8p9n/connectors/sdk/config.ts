// @ts-nocheck
import { ConfigError } from './errors.js';
import type { ConfigProperty, ConfigSchema } from './types.js';

/**
 * Validates a connector config against its schema and returns it with
 * defaults applied. Every problem names the field (`streams[0].path`), so a
 * user can fix a JSON file without reading the connector's code.
 */
export function validateConfig<C = Record<string, unknown>>(schema: ConfigSchema, config: unknown): C {
  const problems: string[] = [];
  const result = checkValue(schema as ConfigProperty, config, '', problems);
  if (problems.length > 0) {
    throw new ConfigError(`invalid config: ${problems.join('; ')}`);
  }
  return result as C;
}

function label(path: string): string {
  return path === '' ? 'config' : `"${path}"`;
}

function checkValue(schema: ConfigProperty, value: unknown, path: string, problems: string[]): unknown {
  if (value === undefined) return schema.default;
  switch (schema.type) {
    case 'object':
      return checkObject(schema, value, path, problems);
    case 'array': {
      if (!Array.isArray(value)) {
        problems.push(`${label(path)} must be an array`);
        return value;
      }
      const items = schema.items;
      return items ? value.map((item, i) => checkValue(items, item, `${path}[${i}]`, problems)) : value;
    }
    case 'string':
      if (typeof value !== 'string') problems.push(`${label(path)} must be a string`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${label(path)} must be true or false`);
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        problems.push(`${label(path)} must be a number`);
      } else if (schema.type === 'integer' && !Number.isInteger(value)) {
        problems.push(`${label(path)} must be an integer`);
      } else if (schema.minimum !== undefined && value < schema.minimum) {
        problems.push(`${label(path)} must be at least ${schema.minimum}`);
      } else if (schema.maximum !== undefined && value > schema.maximum) {
        problems.push(`${label(path)} must be at most ${schema.maximum}`);
      }
      break;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(`${label(path)} must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  return value;
}

function checkObject(schema: ConfigProperty, value: unknown, path: string, problems: string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${label(path)} must be an object`);
    return value;
  }
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const properties = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (input[name] === undefined) problems.push(`${label(join(path, name))} is required`);
  }
  for (const [name, child] of Object.entries(input)) {
    const property = properties[name];
    if (property) {
      out[name] = checkValue(property, child, join(path, name), problems);
    } else if (schema.additionalProperties === false) {
      const known = Object.keys(properties).join(', ');
      problems.push(`${label(join(path, name))} is not a known field (known: ${known})`);
    } else if (typeof schema.additionalProperties === 'object') {
      out[name] = checkValue(schema.additionalProperties, child, join(path, name), problems);
    } else {
      out[name] = child;
    }
  }
  for (const [name, property] of Object.entries(properties)) {
    if (out[name] === undefined && property.default !== undefined) out[name] = property.default;
  }
  return out;
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** Paths (`auth.password`, `streams[].token`) of the fields marked `secret: true`. */
export function secretPaths(schema: ConfigSchema): string[] {
  const paths: string[] = [];
  const walk = (property: ConfigProperty, path: string): void => {
    if (property.secret) paths.push(path);
    for (const [name, child] of Object.entries(property.properties ?? {})) walk(child, join(path, name));
    if (property.items) walk(property.items, `${path}[]`);
  };
  walk(schema as ConfigProperty, '');
  return paths;
}

/** Replaces secret values with `"********"`, for printing and logging a config. */
export function redactConfig(schema: ConfigSchema, config: Record<string, unknown>): Record<string, unknown> {
  const redact = (property: ConfigProperty, value: unknown): unknown => {
    if (value === undefined || value === null) return value;
    if (property.secret) return '********';
    if (property.type === 'object' && typeof value === 'object' && !Array.isArray(value)) {
      const out: Record<string, unknown> = {};
      for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
        const childSchema = property.properties?.[name];
        out[name] = childSchema ? redact(childSchema, child) : child;
      }
      return out;
    }
    if (property.type === 'array' && Array.isArray(value) && property.items) {
      const items = property.items;
      return value.map((item) => redact(items, item));
    }
    return value;
  };
  return redact(schema as ConfigProperty, config) as Record<string, unknown>;
}
