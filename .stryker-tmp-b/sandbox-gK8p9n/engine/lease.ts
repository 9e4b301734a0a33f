/**
 * The source's lease for one step of a run (begin, a slice, finish): taken
 * (waiting, abortably, if another holds it), renewed by a heartbeat while the
 * step runs, released when it ends unless the caller keeps it for the next
 * step. Losing it aborts the step before its commit point.
 */
// @ts-nocheck

import { randomBytes } from 'node:crypto';
import { sleep } from '../connectors/sdk/sleep.js';
import { LeaseHeldError } from './errors.js';
import type { StateStore } from './ports.js';

export interface LeaseOptions {
  /** Who holds it: `<runId>/<token>`, unique per invocation. */
  readonly owner: string;
  readonly ttlMs: number;
  /** How long to wait for another holder. */
  readonly waitMs: number;
  /** Keep the lease when the step ends (the caller runs the next step at once). */
  readonly keep: boolean;
}

/** A lease owner naming the run, unique per invocation so two invocations never share one. */
export function leaseOwnerFor(runId: string): string {
  return `${runId}/${randomBytes(3).toString('hex')}`;
}

export interface HeldLease {
  /** Aborts when the outer signal does or the lease is lost. */
  readonly signal: AbortSignal;
  renew(): Promise<void>;
  release(): Promise<void>;
}

export async function takeLease(
  state: StateStore,
  source: string,
  options: LeaseOptions,
  outer: AbortSignal | undefined,
): Promise<HeldLease> {
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const deadline = Date.now() + options.waitMs;
  try {
    for (;;) {
      try {
        await state.acquireLease(source, options.owner, options.ttlMs);
        break;
      } catch (error) {
        if (!(error instanceof LeaseHeldError) || Date.now() >= deadline) throw error;
        await sleep(Math.min(500, Math.max(10, deadline - Date.now())), controller.signal);
      }
    }
  } catch (error) {
    outer?.removeEventListener('abort', onOuterAbort);
    throw error;
  }
  const heartbeat = setInterval(
    () => {
      state
        .renewLease(source, options.owner, options.ttlMs)
        .catch((error: unknown) => controller.abort(error));
    },
    Math.max(1000, Math.floor(options.ttlMs / 3)),
  );
  heartbeat.unref();
  return {
    signal: controller.signal,
    renew: async () => {
      await state.renewLease(source, options.owner, options.ttlMs);
    },
    release: async () => {
      clearInterval(heartbeat);
      outer?.removeEventListener('abort', onOuterAbort);
      if (!options.keep) await state.releaseLease(source, options.owner).catch(() => undefined);
    },
  };
}
