/**
 * Names of a stage's resources, derived from the stage alone. The service
 * stack finds the data stack's resources by these names instead of by
 * cross-stack exports, so either stack can be updated without the other
 * (an export in use cannot change) and IAM findings are predictable.
 */
// @ts-nocheck

import { Aws } from 'aws-cdk-lib';

export interface SluiceNames {
  readonly stage: string;
  /** The lake bucket; account and region make it globally unique. */
  readonly bucket: string;
  readonly table: string;
  readonly database: string;
  readonly workgroup: string;
  readonly secretsPrefix: string;
  readonly scheduleGroup: string;
}

export const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

export function sluiceNames(stage: string): SluiceNames {
  if (!STAGE_NAME.test(stage)) {
    throw new Error(
      `stage must be a lowercase letter, then lowercase letters, digits or - (at most 20), got "${stage}"`,
    );
  }
  return {
    stage,
    bucket: `sluice-${stage}-lake-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
    table: `sluice-${stage}-state`,
    database: `sluice_${stage.replaceAll('-', '_')}`,
    workgroup: `sluice-${stage}`,
    secretsPrefix: `sluice/${stage}/`,
    scheduleGroup: `sluice-${stage}`,
  };
}
