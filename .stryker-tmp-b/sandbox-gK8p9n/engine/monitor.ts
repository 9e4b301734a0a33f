/**
 * What the monitor Lambda checks on its schedule (functions/monitor):
 *
 * - freshness: seconds since each source last landed data (its newest
 *   SUCCEEDED run's end; its creation when it never succeeded), published as
 *   a metric the sources' SLA alarms watch;
 * - commits stuck after their commit point: a pending manifest older than
 *   `stuckAfterMs` means a run died between its commit point and the end of
 *   its publish, so part of a slice may be visible in raw/. It is rolled
 *   forward at once (publishing is idempotent) under the lease its writer
 *   held — the source's, or the shard's for a push batch — so a live writer
 *   is never raced; a lease still held is skipped (its holder finishes it).
 */
// @ts-nocheck

import { publishManifest, readManifest } from './commit.js';
import { LeaseHeldError } from './errors.js';
import { pendingManifestPrefix } from './layout.js';
import { takeLease } from './lease.js';
import { RunStatus, type SourceDefinition } from './ports.js';
import { publishPushManifest, shardLeaseName, shardOfManifest } from './push.js';
import type { SyncDeps } from './run.js';

export interface SourceFreshness {
  readonly source: string;
  readonly seconds: number;
  /** The end of the newest successful run, if any. */
  readonly lastSuccessAt?: string;
}

export interface RollForwardOutcome {
  readonly rolledForward: readonly { source: string; runId: string }[];
  /** Pending manifests whose writer still holds its lease (not stuck, or not ours to touch). */
  readonly skipped: number;
  readonly failures: readonly { source: string; key: string; error: string }[];
}

/** How many recent runs are read to find the newest success. */
const RUNS_SCANNED = 25;

export async function sourceFreshness(deps: Pick<SyncDeps, 'state'>, now: Date): Promise<SourceFreshness[]> {
  const out: SourceFreshness[] = [];
  for (const source of await deps.state.listSources()) {
    const runs = await deps.state.listRuns(source.name, RUNS_SCANNED);
    const success = runs.find((r) => r.status === RunStatus.succeeded);
    const since = success?.endedAt ?? success?.startedAt ?? source.createdAt;
    out.push({
      source: source.name,
      seconds: Math.max(0, Math.round((now.getTime() - Date.parse(since)) / 1000)),
      ...(success ? { lastSuccessAt: since } : {}),
    });
  }
  return out;
}

/** Runs recorded FAILED that ended after `since` (the monitor's last period). */
export async function recentFailedRuns(deps: Pick<SyncDeps, 'state'>, since: Date): Promise<number> {
  const failed = await deps.state.listRunsByStatus(RunStatus.failed, 100);
  return failed.filter((r) => Date.parse(r.endedAt ?? r.startedAt) > since.getTime()).length;
}

export async function rollForwardStuck(
  deps: SyncDeps,
  options: {
    readonly now: Date;
    readonly stuckAfterMs: number;
    readonly sources?: readonly SourceDefinition[];
  },
): Promise<RollForwardOutcome> {
  const rolledForward: { source: string; runId: string }[] = [];
  const failures: { source: string; key: string; error: string }[] = [];
  let skipped = 0;
  const cutoff = options.now.getTime() - options.stuckAfterMs;
  for (const source of options.sources ?? (await deps.state.listSources())) {
    for (const object of await deps.objects.list(pendingManifestPrefix(source.name))) {
      try {
        const manifest = await readManifest(deps.objects, object.key);
        if (!manifest || Date.parse(manifest.createdAt) > cutoff) continue;
        const shard = shardOfManifest(manifest);
        const leaseName = shard === undefined ? source.name : shardLeaseName(source.name, shard);
        let held: Awaited<ReturnType<typeof takeLease>>;
        try {
          held = await takeLease(
            deps.state,
            leaseName,
            { owner: `monitor/${manifest.runId}`, ttlMs: 120_000, waitMs: 0, keep: false },
            undefined,
          );
        } catch (error) {
          if (error instanceof LeaseHeldError) {
            skipped++;
            continue;
          }
          throw error;
        }
        try {
          if (shard === undefined) await publishManifest(deps, manifest);
          else await publishPushManifest(deps, manifest);
        } finally {
          await held.release();
        }
        rolledForward.push({ source: source.name, runId: manifest.runId });
      } catch (error) {
        failures.push({ source: source.name, key: object.key, error: (error as Error).message });
      }
    }
  }
  return { rolledForward, skipped, failures };
}
