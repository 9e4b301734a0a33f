/** The fault matrix: every step of the commit protocol a sync can die at. Shared by the local and AWS tiers. */
// @ts-nocheck

import type { SyncPhase } from '../../engine/sync.js';

export interface FaultPoint {
  readonly name: string;
  readonly phase: SyncPhase;
  /** Which occurrence of the phase fails (file phases repeat). */
  readonly occurrence?: number;
  /** Whether the failed run had passed its commit point (its data must land once). */
  readonly pastCommitPoint: boolean;
}

export const FAULT_POINTS: readonly FaultPoint[] = [
  { name: 'before the first file', phase: 'recovered', pastCommitPoint: false },
  { name: 'between files', phase: 'file-written', occurrence: 3, pastCommitPoint: false },
  { name: 'after all files, before the manifest', phase: 'files-written', pastCommitPoint: false },
  {
    name: 'after the manifest, before any file is published',
    phase: 'manifest-written',
    pastCommitPoint: true,
  },
  {
    name: 'after the manifest, between file moves',
    phase: 'file-published',
    occurrence: 4,
    pastCommitPoint: true,
  },
  {
    name: 'after the files are published, before the cursor commit',
    phase: 'files-published',
    pastCommitPoint: true,
  },
  { name: 'after the cursor commit', phase: 'cursors-committed', pastCommitPoint: true },
  { name: 'after the run is recorded', phase: 'run-recorded', pastCommitPoint: true },
];

/** Where a child process is SIGKILLed: before the commit point, mid-publish, after the cursor commit. */
export const KILL_POINTS: readonly FaultPoint[] = [
  { name: 'between files', phase: 'file-written', occurrence: 3, pastCommitPoint: false },
  {
    name: 'between file moves after the manifest',
    phase: 'file-published',
    occurrence: 2,
    pastCommitPoint: true,
  },
  { name: 'after the cursor commit', phase: 'cursors-committed', pastCommitPoint: true },
];

/** An `onPhase` hook that throws at the point's phase (its nth occurrence). */
export function failAt(point: FaultPoint): (phase: SyncPhase) => void {
  let seen = 0;
  return (phase) => {
    if (phase === point.phase && ++seen === (point.occurrence ?? 1)) {
      throw new Error(`injected fault ${point.name}`);
    }
  };
}
