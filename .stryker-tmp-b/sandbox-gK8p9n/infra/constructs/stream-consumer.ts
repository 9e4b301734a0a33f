// @ts-nocheck
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
  /** Concurrent batches per shard (records of one partition key stay in order). @default 1 */
  readonly parallelizationFactor?: number;
}

/**
 * The consumer Lambda (functions/stream) and its Kinesis event source
 * mapping: partial batch responses (ReportBatchItemFailures), a failing
 * batch bisected until the poison record is alone, bounded retries and
 * record age, and the SQS on-failure destination.
 */
export class StreamConsumer extends Construct {
  public readonly handler: SluiceFunction;
  public readonly mapping: KinesisEventSource;

  public constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
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
      parallelizationFactor: props.parallelizationFactor ?? 1,
      onFailure: new SqsDlq(props.deadLetters),
    });
    this.handler.function.addEventSource(this.mapping);
  }
}
