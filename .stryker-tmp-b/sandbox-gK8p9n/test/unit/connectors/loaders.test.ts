// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { connectors } from '../../../connectors/index.js';
import { connectorLoaders, loadConnector } from '../../../connectors/loaders.js';

describe('the on-demand connector loaders', () => {
  it('load exactly the connectors of the eager list, by type', async () => {
    // Act
    const loaded = await Promise.all(connectors.map((c) => loadConnector(c.type)));

    // Assess
    expect(Object.keys(connectorLoaders).sort()).toEqual(connectors.map((c) => c.type).sort());
    expect(loaded).toEqual(connectors);
  });

  it('answer undefined for a type Sluice does not ship, including inherited names', async () => {
    expect(await loadConnector('mysql')).toBeUndefined();
    expect(await loadConnector('toString')).toBeUndefined();
  });
});
