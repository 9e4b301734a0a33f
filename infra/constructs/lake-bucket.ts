import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface LakeBucketProps {
  /**
   * Keep the bucket (and the lake in it) when the stack is deleted.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Days after which unfinished staging files and aborted multipart uploads are removed.
   * @default 7
   */
  readonly stagingExpiryDays?: number;
}

/**
 * The lake: one bucket holding raw/, _staging/ and _manifests/. Encrypted,
 * TLS-only, never public, versioned so an overwrite is recoverable. Staged
 * files of runs that died are normally rolled back by the next run; the
 * lifecycle rule is the backstop for sources that never run again.
 */
export class LakeBucket extends Construct {
  public readonly bucket: s3.Bucket;

  public constructor(scope: Construct, id: string, props: LakeBucketProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
      lifecycleRules: [
        {
          id: 'expire-abandoned-staging',
          prefix: '_staging/',
          expiration: Duration.days(props.stagingExpiryDays ?? 7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
    });
  }
}
