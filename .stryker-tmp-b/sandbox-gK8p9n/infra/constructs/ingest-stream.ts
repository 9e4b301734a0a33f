// @ts-nocheck
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface IngestStreamProps {
  /**
   * Provisioned shards; 0 makes the stream on-demand (pay per GB, scales by itself).
   * @default 0 (on-demand)
   */
  readonly shards?: number;
  /**
   * How long records stay readable (the consumer's maximum record age must be below it).
   * @default Duration.hours(24)
   */
  readonly retention?: Duration;
}

/**
 * The stream pushed events travel on (POST /sources/{name}/events → Kinesis
 * → functions/stream), KMS-encrypted, and the SQS queue the consumer's event
 * source mapping sends batches it gave up on (the on-failure destination).
 */
export class IngestStream extends Construct {
  public readonly stream: kinesis.Stream;
  public readonly deadLetters: sqs.Queue;

  public constructor(scope: Construct, id: string, props: IngestStreamProps = {}) {
    super(scope, id);
    const shards = props.shards ?? 0;
    if (!Number.isInteger(shards) || shards < 0) {
      throw new Error(`ingest shards must be a whole number ≥ 0 (0 = on-demand), got ${shards}`);
    }
    this.stream = new kinesis.Stream(this, 'Stream', {
      encryption: kinesis.StreamEncryption.MANAGED,
      retentionPeriod: props.retention ?? Duration.hours(24),
      ...(shards === 0
        ? { streamMode: kinesis.StreamMode.ON_DEMAND }
        : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: shards }),
    });
    // Holds failure records (shard and sequence range), kept long enough to replay after a fix.
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
