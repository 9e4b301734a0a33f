/**
 * Runs one sync of the sample source on the AWS adapters in a child process
 * and SIGKILLs itself at a given phase: a real crash, with no finally blocks,
 * no lease release and no cleanup. The lease is short so the next run can
 * take it over once it expires.
 * Usage: tsx test/integration/aws/sync-child.ts <bucket> <table> <glueDatabase> <phase> [occurrence]
 */
// @ts-nocheck

import { CHILD_LEASE_TTL_MS, openAwsTestLake } from './lake.js';

const [bucket, table, glueDatabase, killAt, occurrence = '1'] = process.argv.slice(2);
if (!bucket || !table || !glueDatabase || !killAt) {
  throw new Error('usage: sync-child.ts <bucket> <table> <glueDatabase> <phase> [occurrence]');
}
const lake = await openAwsTestLake({ names: { bucket, table, glueDatabase, prefix: 'lake/' } });
let seen = 0;
await lake.sync({
  leaseTtlMs: CHILD_LEASE_TTL_MS,
  onPhase: (phase, detail) => {
    if (phase === killAt && ++seen === Number(occurrence)) {
      process.stdout.write(`killing at ${phase} ${detail.runId}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
process.stdout.write('finished without being killed\n');
