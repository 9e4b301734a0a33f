/**
 * Runs one sync of the sample source in a child process and SIGKILLs itself
 * at a given phase: a real crash, with no finally blocks and no cleanup.
 * Usage: tsx test/support/sync-child.ts <home> <phase> [occurrence]
 */
// @ts-nocheck

import { openLocalBackend } from '../../adapters/local/index.js';
import { sampleConnector } from '../../connectors/sample/index.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import type { Connector } from '../../connectors/sdk/types.js';
import { runSync } from '../../engine/sync.js';
import { MANY_FILES, SAMPLE_CONFIG } from './lake.js';

const [home, killAt, occurrence = '1'] = process.argv.slice(2);
if (!home || !killAt) throw new Error('usage: sync-child.ts <home> <phase> [occurrence]');
const backend = await openLocalBackend(home);
const source = await backend.state.getSource('shop');
if (!source) throw new Error('source shop is not registered');
let seen = 0;
await runSync(
  { objects: backend.objects, state: backend.state, catalog: backend.catalog, logger: silentLogger },
  {
    source,
    connector: sampleConnector as Connector<never>,
    config: SAMPLE_CONFIG,
    ...MANY_FILES,
    onPhase: (phase, detail) => {
      if (phase === killAt && ++seen === Number(occurrence)) {
        process.stdout.write(`killing at ${phase} ${detail.runId}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  },
);
process.stdout.write('finished without being killed\n');
