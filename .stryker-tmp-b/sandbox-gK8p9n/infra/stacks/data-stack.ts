// @ts-nocheck
import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LakeStorage } from '../constructs/lake-storage.js';
import { StateTable } from '../constructs/state-table.js';
import { type SluiceNames, sluiceNames } from '../names.js';

export interface SluiceDataStackProps extends StackProps {
  /** The stage name, part of resource names (`sluice_<stage>` database, `sluice-<stage>` workgroup). */
  readonly stageName: string;
  /**
   * Keep the lake, its logs and the state table when the stack is deleted.
   * @default true
   */
  readonly retainData?: boolean;
}

/**
 * What outlives deployments: the lake (bucket, Glue database, Athena
 * workgroup) and the state table. A separate stack, so the service stack can
 * be replaced or deleted without touching data.
 */
export class SluiceDataStack extends Stack {
  public readonly lake: LakeStorage;
  public readonly state: StateTable;
  public readonly names: SluiceNames;

  public constructor(scope: Construct, id: string, props: SluiceDataStackProps) {
    super(scope, id, props);
    const retain = props.retainData ?? true;
    const names = sluiceNames(props.stageName);
    this.names = names;
    this.lake = new LakeStorage(this, 'Lake', {
      retain,
      bucketName: names.bucket,
      databaseName: names.database,
      workgroupName: names.workgroup,
    });
    this.state = new StateTable(this, 'State', { retain, tableName: names.table });

    Validations.of(this.lake.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket; logging it into itself would loop.',
    });

    new CfnOutput(this, 'LakeBucketName', {
      value: this.lake.bucket.bucketName,
      description: 'SLUICE_BUCKET',
    });
    new CfnOutput(this, 'StateTableName', { value: this.state.table.tableName, description: 'SLUICE_TABLE' });
    new CfnOutput(this, 'GlueDatabaseName', {
      value: this.lake.databaseName,
      description: 'SLUICE_GLUE_DATABASE',
    });
    new CfnOutput(this, 'AthenaWorkgroupName', {
      value: this.lake.workgroupName,
      description: 'SLUICE_ATHENA_WORKGROUP',
    });
  }
}
