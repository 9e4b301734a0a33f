// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { redactConfig, secretPaths, validateConfig } from '../../../../connectors/sdk/config.js';
import type { ConfigSchema } from '../../../../connectors/sdk/types.js';

const schema: ConfigSchema = {
  type: 'object',
  required: ['host'],
  additionalProperties: false,
  properties: {
    host: { type: 'string' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432 },
    mode: { type: 'string', enum: ['a', 'b'] },
    auth: {
      type: 'object',
      properties: { user: { type: 'string' }, password: { type: 'string', secret: true } },
    },
    streams: {
      type: 'array',
      items: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } },
    },
  },
};

describe('validateConfig', () => {
  it('applies defaults when a config is valid', () => {
    expect(validateConfig(schema, { host: 'h' })).toEqual({ host: 'h', port: 5432 });
  });

  it('names every field at fault when a config is invalid', () => {
    expect(() =>
      validateConfig(schema, { port: 0, mode: 'c', extra: 1, streams: [{}], auth: { user: 3 } }),
    ).toThrow(
      'invalid config: "host" is required; "port" must be at least 1; "mode" must be one of "a", "b"; ' +
        '"extra" is not a known field (known: host, port, mode, auth, streams); "streams[0].path" is required; ' +
        '"auth.user" must be a string',
    );
  });
});

describe('secrets in config', () => {
  it('lists secret paths and redacts their values', () => {
    expect(secretPaths(schema)).toEqual(['auth.password']);
    expect(redactConfig(schema, { host: 'h', auth: { user: 'u', password: 'p' } })).toEqual({
      host: 'h',
      auth: { user: 'u', password: '********' },
    });
  });
});
