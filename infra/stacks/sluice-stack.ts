import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LakeBucket } from '../constructs/lake-bucket.js';

export interface SluiceStackProps extends StackProps {
  /** @default true */
  readonly retainData?: boolean;
}

/**
 * The deployable service. For now the lake bucket; the state table, catalog,
 * functions, API and alarms join it as their issues land.
 */
export class SluiceStack extends Stack {
  public constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    const lake = new LakeBucket(this, 'Lake', { retain: props.retainData ?? true });
    new CfnOutput(this, 'LakeBucketName', { value: lake.bucket.bucketName });
  }
}
