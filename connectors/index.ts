/** Every connector type Sluice ships, by type name. */
import { type ConnectorRegistry, createRegistry } from '../engine/sources.js';
import { sampleConnector } from './sample/index.js';
import type { Connector } from './sdk/types.js';

export const connectors: readonly Connector<never>[] = [sampleConnector as Connector<never>];

export const registry: ConnectorRegistry = createRegistry(connectors);
