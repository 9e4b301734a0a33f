/**
 * Every connector type Sluice ships, loaded on demand: a process that syncs
 * one source loads one connector (and its client libraries: pg, the S3
 * client of s3-files), not all of them. connectors/index.ts is the eager list.
 */
// @ts-nocheck

import type { Connector } from './sdk/types.js';

type Loader = () => Promise<Connector<never>>;

export const connectorLoaders: Readonly<Record<string, Loader>> = {
  sample: async () => (await import('./sample/index.js')).sampleConnector as Connector<never>,
  rest: async () => (await import('./rest/index.js')).restConnector as Connector<never>,
  postgres: async () => (await import('./postgres/index.js')).postgresConnector as Connector<never>,
  's3-files': async () => (await import('./s3-files/index.js')).s3FilesConnector as Connector<never>,
  push: async () => (await import('./push/index.js')).pushConnector as Connector<never>,
};

/** The connector of `type`, or undefined for a type Sluice does not ship. */
export async function loadConnector(type: string): Promise<Connector<never> | undefined> {
  return Object.hasOwn(connectorLoaders, type) ? connectorLoaders[type]!() : undefined;
}
