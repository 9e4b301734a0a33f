import { Duration } from 'aws-cdk-lib';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SluiceFunction } from './sluice-function.js';

export interface StreamConsumerProps {
  readonly stream: kinesis.IStream;
  /** The on-failure destination. */
  readonly deadLetters: sqs.IQueue;
  /** Variables of the handler (the backend's). */
  readonly environment: Readonly<Record<string, string>>;
  /** @default 500 */
  readonly batchSize?: number;
  /** How long records are gathered into one batch (bigger files, more latency). @default Duration.seconds(10) */
  readonly batchingWindow?: Duration;
  /** @default 3 */
  readonly retryAttempts?: number;
  /** Older records go to the DLQ instead of being retried. @default Duration.hours(6) */
  readonly maxRecordAge?: Duration;
  /**
   * Concurrent batches per shard. Only 1 is accepted: the lander keeps one
   * high-water mark per shard (engine/push.ts), which needs a shard's
   * batches to land one after another in sequence order. With a factor
   * above 1 Lambda runs batches of one shard concurrently (split by
   * partition key, so their sequence numbers interleave): the batch that
   * commits first moves the mark past the other's records, which are then
   * dropped as duplicates. Scale with shards (`ingestShards`) and a
   * source's `spread` instead.
   * @default 1
   */
  readonly parallelizationFactor?: 1;
}

/**
 * The consumer Lambda (functions/stream) and its Kinesis event source
 * mapping: partial batch responses (ReportBatchItemFailures), a failing
 * batch bisected until the poison record is alone, bounded retries and
 * record age, and the SQS on-failure destination. One batch per shard at a
 * time (parallelization factor 1): the exactly-once landing of a shard
 * depends on it (see `parallelizationFactor`).
 */
export class StreamConsumer extends Construct {
  public readonly handler: SluiceFunction;
  public readonly mapping: KinesisEventSource;

  public constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    const factor: number = props.parallelizationFactor ?? 1;
    if (factor !== 1) {
      throw new Error(
        `parallelizationFactor must be 1 (got ${factor}): the consumer keeps one high-water mark per shard, and concurrent batches of a shard would drop each other's records as duplicates; add shards instead`,
      );
    }
    this.handler = new SluiceFunction(this, 'Handler', {
      entry: 'functions/stream/index.ts',
      description: 'Sluice push consumer: lands Kinesis micro-batches exactly once',
      serviceName: 'sluice-stream',
      environment: props.environment,
      parquet: true,
      timeout: Duration.minutes(5),
    });
    this.mapping = new KinesisEventSource(props.stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 500,
      maxBatchingWindow: props.batchingWindow ?? Duration.seconds(10),
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 3,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
      parallelizationFactor: factor,
      onFailure: new SqsDlq(props.deadLetters),
    });
    this.handler.function.addEventSource(this.mapping);
  }
}
