import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface LakeStorageProps {
  /**
   * The lake bucket's name.
   * @default a name CloudFormation generates
   */
  readonly bucketName?: string;
  /**
   * Keep the buckets (and the lake in them) when the stack is deleted.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Glue database holding one raw table per stream (`<source>__<stream>`).
   * @default 'sluice'
   */
  readonly databaseName?: string;
  /**
   * Athena workgroup Sluice queries through.
   * @default 'sluice'
   */
  readonly workgroupName?: string;
  /**
   * Days a replaced or deleted object stays restorable, under every prefix but
   * `_staging/` and `_athena/` (one day there).
   * @default 30
   */
  readonly noncurrentDays?: number;
  /**
   * Days Athena query results are kept.
   * @default 7
   */
  readonly athenaResultDays?: number;
  /**
   * Days server access logs are kept.
   * @default 90
   */
  readonly accessLogDays?: number;
}

/** Where Athena writes query results inside the lake bucket (outside every table location). */
export const ATHENA_RESULTS_PREFIX = '_athena/';

/**
 * The top-level prefixes Sluice writes besides `_staging/` and `_athena/` (engine/layout.ts,
 * engine/stages/*): landed data, commit records and run state, the current tables, models and
 * lineage the stages derive, and the SQL models published for the service. Each keeps a replaced
 * or deleted object `noncurrentDays`.
 */
export const RESTORABLE_PREFIXES = {
  raw: 'raw/',
  manifests: '_manifests/',
  runs: '_runs/',
  current: 'current/',
  models: 'models/',
  lineage: '_lineage/',
  'published-models': '_models/',
} as const;

/**
 * The lake: one bucket holding raw/, _staging/, _manifests/ and _runs/ (see
 * engine/layout.ts), the stages' current/, models/ and _lineage/, the
 * published SQL models (_models/) and Athena's results (_athena/); its Glue
 * database and a dedicated Athena workgroup.
 *
 * Lifecycle, and why:
 * - Current objects under `_staging/` are never expired by age. A staged file
 *   a pending manifest references is what the next run rolls forward; expiring
 *   it would wedge a source that runs weekly or is paused. Staged files of runs
 *   that died before their manifest are removed by the next run's roll-back.
 * - A commit moves each staged file (copy, then delete). In a versioned bucket
 *   the delete leaves a noncurrent copy, so without a rule every landed byte
 *   would be stored twice for the retention window: noncurrent versions under
 *   `_staging/` expire after 1 day (the minimum), with their delete markers.
 * - Every other prefix keeps noncurrent versions for `noncurrentDays`, so an
 *   accidental overwrite or delete of landed data can be undone, and what the
 *   stages delete (Athena's VACUUM, a model's DROP, a finished run's state) is
 *   not billed forever: a versioned delete only adds a delete marker.
 * - One rule per prefix, none overlapping, so no window depends on how S3
 *   resolves overlapping rules; each also removes expired delete markers and
 *   aborts multipart uploads unfinished after a day.
 */
export class LakeStorage extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogs: s3.Bucket;
  public readonly databaseName: string;
  public readonly workgroupName: string;
  public readonly database: glue.CfnDatabase;
  public readonly workgroup: athena.CfnWorkGroup;

  public constructor(scope: Construct, id: string, props: LakeStorageProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;
    const removal = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.databaseName = props.databaseName ?? 'sluice';
    this.workgroupName = props.workgroupName ?? 'sluice';

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: removal,
      autoDeleteObjects: !retain,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogDays ?? 90) }],
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(props.bucketName === undefined ? {} : { bucketName: props.bucketName }),
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'lake/',
      removalPolicy: removal,
      autoDeleteObjects: !retain,
      lifecycleRules: [
        {
          id: 'staging-moved-copies-and-uploads',
          prefix: '_staging/',
          noncurrentVersionExpiration: Duration.days(1),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        ...Object.entries(RESTORABLE_PREFIXES).map(([name, prefix]) => ({
          id: `${name}-noncurrent-versions`,
          prefix,
          noncurrentVersionExpiration: Duration.days(props.noncurrentDays ?? 30),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        })),
        {
          // Expiry by age also removes expired delete markers once that old (S3 takes no flag beside it).
          id: 'athena-results',
          prefix: ATHENA_RESULTS_PREFIX,
          expiration: Duration.days(props.athenaResultDays ?? 7),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: this.bucket.stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'Sluice raw tables: one per source stream, partition-projected by dt',
      },
    });
    this.database.applyRemovalPolicy(removal);

    // Sluice's own workgroup: engine v3 (Trino) and results kept in the lake bucket, encrypted,
    // whatever a client asks for.
    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: this.workgroupName,
      description: 'Sluice queries over the lake',
      state: 'ENABLED',
      recursiveDeleteOption: !retain,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.bucket.s3UrlForObject(ATHENA_RESULTS_PREFIX),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }
}
