import type { CheckResult, ConfigSchema, Connector } from '../sdk/types.js';
import { type SampleConfig, sampleStreams } from './streams.js';

const configSchema: ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rows: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000_000,
      default: 1000,
      description: 'Orders in the initial load (customers are a tenth of it, events as many).',
    },
    seed: { type: 'integer', default: 42, description: 'Same seed, same data.' },
    pageSize: { type: 'integer', minimum: 1, default: 1000, description: 'Records per page read.' },
  },
};

/**
 * A deterministic shop (customers, orders, events) whose later syncs see
 * updates and deletes: the source to try Sluice, and the engine's test bed.
 */
export const sampleConnector: Connector<SampleConfig> = {
  type: 'sample',
  description: 'Deterministic sample shop data (customers, orders, events) that changes between syncs.',
  configSchema,
  check: async (): Promise<CheckResult> => ({ ok: true }),
  streams: (config) =>
    sampleStreams({ rows: config.rows ?? 1000, seed: config.seed ?? 42, pageSize: config.pageSize ?? 1000 }),
  staticStreams: true,
};

export type { SampleConfig } from './streams.js';
