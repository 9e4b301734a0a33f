/**
 * Runs one sync of the sample source in slices of `sliceRows` rows in a child
 * process and SIGKILLs itself at the nth occurrence of a phase: a crash
 * between slices or inside a slice's publish, with no cleanup.
 * Usage: tsx test/support/slice-sync-child.ts <home> <phase> <occurrence> <sliceRows>
 */
// @ts-nocheck

import { openLocalBackend } from '../../adapters/local/index.js';
import { sampleConnector } from '../../connectors/sample/index.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import type { Connector } from '../../connectors/sdk/types.js';
import { runSync } from '../../engine/sync.js';
import { MANY_FILES, SAMPLE_CONFIG } from './lake.js';

const [home, killAt, occurrence, sliceRows] = process.argv.slice(2);
if (!home || !killAt || !occurrence || !sliceRows) {
  throw new Error('usage: slice-sync-child.ts <home> <phase> <occurrence> <sliceRows>');
}
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
    sliceRows: Number(sliceRows),
    onPhase: (phase, detail) => {
      if (phase === killAt && ++seen === Number(occurrence)) {
        process.stdout.write(`killing at ${phase} ${detail.runId} slice ${detail.slice ?? '-'}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  },
);
process.stdout.write('finished without being killed\n');
