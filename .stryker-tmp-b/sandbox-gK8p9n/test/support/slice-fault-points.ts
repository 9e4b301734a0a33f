/** Where a run in slices can die: between slices and at each step of a later slice's publish. Both tiers. */
// @ts-nocheck

import type { SyncPhase } from '../../engine/sync.js';

export interface SliceFaultPoint {
  readonly name: string;
  readonly phase: SyncPhase;
  /** Which occurrence of the phase fails: with SLICE_ROWS every slice moves two files. */
  readonly occurrence: number;
}

/** Slices of 600 rows end at the sample's page checkpoints: 750-row slices of two files (500 + 250 rows). */
export const SLICE_ROWS = 600;

export const SLICE_FAULT_POINTS: readonly SliceFaultPoint[] = [
  { name: 'between two slices', phase: 'slice-committed', occurrence: 2 },
  { name: "after a later slice's manifest, before its files move", phase: 'manifest-written', occurrence: 3 },
  { name: "between a later slice's file moves", phase: 'file-published', occurrence: 4 },
  { name: "after a later slice's files, before its cursor commit", phase: 'files-published', occurrence: 2 },
  { name: "after a later slice's cursor commit", phase: 'cursors-committed', occurrence: 2 },
];
