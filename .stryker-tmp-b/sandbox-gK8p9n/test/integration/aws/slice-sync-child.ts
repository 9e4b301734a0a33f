/**
 * Runs one sync of the sample source in slices on the AWS adapters in a child
 * process and SIGKILLs itself at the nth occurrence of a phase: a crash
 * between slices or inside a slice's publish, lease not released.
 * Usage: tsx test/integration/aws/slice-sync-child.ts <bucket> <table> <glueDatabase> <phase> <occurrence> <sliceRows>
 */
// @ts-nocheck

import { CHILD_LEASE_TTL_MS, openAwsTestLake } from './lake.js';

const [bucket, table, glueDatabase, killAt, occurrence, sliceRows] = process.argv.slice(2);
if (!bucket || !table || !glueDatabase || !killAt || !occurrence || !sliceRows) {
  throw new Error(
    'usage: slice-sync-child.ts <bucket> <table> <glueDatabase> <phase> <occurrence> <sliceRows>',
  );
}
const lake = await openAwsTestLake({ names: { bucket, table, glueDatabase, prefix: 'lake/' } });
let seen = 0;
await lake.sync({
  leaseTtlMs: CHILD_LEASE_TTL_MS,
  sliceRows: Number(sliceRows),
  onPhase: (phase, detail) => {
    if (phase === killAt && ++seen === Number(occurrence)) {
      process.stdout.write(`killing at ${phase} ${detail.runId} slice ${detail.slice ?? '-'}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
process.stdout.write('finished without being killed\n');
