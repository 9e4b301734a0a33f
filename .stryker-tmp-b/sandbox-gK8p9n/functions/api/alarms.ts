/** Keeps a source's freshness alarm in step with its `slaMinutes` (none without an alarms port). */
// @ts-nocheck

import type { SourceDefinition } from '../../engine/ports.js';
import type { ApiDeps } from './ports.js';

export async function syncSourceAlarm(
  deps: ApiDeps,
  before: SourceDefinition | undefined,
  after: SourceDefinition | undefined,
): Promise<void> {
  if (!deps.alarms) return;
  if (after?.slaMinutes !== undefined) {
    if (before?.slaMinutes !== after.slaMinutes) await deps.alarms.put(after.name, after.slaMinutes);
  } else if (before?.slaMinutes !== undefined) {
    await deps.alarms.delete(before.name);
  }
}
