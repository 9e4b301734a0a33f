/** Every connector type Sluice ships, by type name. */
// @ts-nocheck

import { type ConnectorRegistry, createRegistry } from '../engine/sources.js';
import { postgresConnector } from './postgres/index.js';
import { pushConnector } from './push/index.js';
import { restConnector } from './rest/index.js';
import { s3FilesConnector } from './s3-files/index.js';
import { sampleConnector } from './sample/index.js';
import type { Connector } from './sdk/types.js';

export const connectors: readonly Connector<never>[] = [
  sampleConnector as Connector<never>,
  restConnector as Connector<never>,
  postgresConnector as Connector<never>,
  s3FilesConnector as Connector<never>,
  pushConnector as Connector<never>,
];

export const registry: ConnectorRegistry = createRegistry(connectors);
