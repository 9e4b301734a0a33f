/**
 * The merge watermark of a `current` table: the id of the last committed
 * manifest (`<runId>-s<slice>`) whose files the table holds. Kept in the state
 * store as a cursor under `<stream>__current` (the name of the table it
 * guards, so it cannot collide with a stream's own cursor), and advanced with
 * the same compare-and-set as cursors: the merge that read the watermark at
 * version v commits only if it is still v.
 */
// @ts-nocheck

import type { StateStore } from '../ports.js';

export interface Watermark {
  /** The last manifest id merged; undefined before the first merge. */
  readonly manifest: string | undefined;
  /** 0 before the first merge; every advance increments it. */
  readonly version: number;
}

export function watermarkKey(stream: string): string {
  return `${stream}__current`;
}

export async function readWatermark(state: StateStore, source: string, stream: string): Promise<Watermark> {
  const { cursor, version } = await state.getCursor(source, watermarkKey(stream));
  return { manifest: cursor === undefined ? undefined : String(cursor.value), version };
}

/** Advances the watermark to `manifest`; throws ConflictError when someone else moved it first. */
export async function advanceWatermark(
  state: StateStore,
  source: string,
  stream: string,
  expectedVersion: number,
  manifest: string,
): Promise<void> {
  await state.commitCursor(source, watermarkKey(stream), expectedVersion, {
    value: manifest,
    keysAtValue: [],
  });
}
