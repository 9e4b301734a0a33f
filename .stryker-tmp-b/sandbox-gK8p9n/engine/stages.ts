/**
 * The stages that run after a sync lands, in order. Data, not code: CDK
 * renders this list into the sync state machine
 * (infra/constructs/sync-orchestration.ts), the stages Lambda and the local
 * runner execute the same names. Quality, merge and model stages join the
 * list later without touching the orchestration.
 */
// @ts-nocheck

export interface StageDefinition {
  /** Unique, kebab-case; also the state's name in the state machine. */
  readonly name: string;
  readonly description: string;
}

export const StageName = { catalog: 'catalog' } as const;
export type StageName = (typeof StageName)[keyof typeof StageName];

export const SYNC_STAGES: readonly StageDefinition[] = [
  {
    name: StageName.catalog,
    description: 'checks that every stream the run landed has its table in the catalog',
  },
];
