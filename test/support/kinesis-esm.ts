/**
 * What Lambda's Kinesis event source mapping does, for tests against an
 * emulator that cannot run it (moto runs no Lambda): reads each shard of a
 * real stream with GetRecords, hands batches to a handler as Kinesis events,
 * and applies the mapping's rules as the Lambda developer guide documents
 * them ("Configuring partial batch response with Kinesis Data Streams and
 * Lambda"):
 *
 * - a partial batch response (ReportBatchItemFailures) splits the batch at
 *   the lowest returned sequence number: the records from it are retried,
 *   as one batch, up to `maxRetryAttempts`; the batch is *not* halved;
 * - a function error halves a batch of several records
 *   (BisectBatchOnFunctionError; each half retried on its own), and retries
 *   a single record up to `maxRetryAttempts`;
 * - records that exhaust their retries are sent to the SQS on-failure
 *   destination as Lambda sends them (metadata: shard and sequence range,
 *   not the records), and the shard moves on past them.
 */
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;

export interface MappingOptions {
  readonly kinesis: KinesisClient;
  readonly sqs: SQSClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly dlqUrl: string;
  readonly handler: KinesisHandler;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 2 */
  readonly maxRetryAttempts?: number;
}

export interface MappingStats {
  invocations: number;
  errors: number;
  dlqBatches: number;
}

export function toEvent(shardId: string, streamArn: string, records: readonly _Record[]): KinesisStreamEvent {
  return {
    Records: records.map(
      (r): KinesisStreamRecord => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.PartitionKey ?? '',
          sequenceNumber: r.SequenceNumber ?? '',
          data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
          approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${r.SequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
        awsRegion: process.env.AWS_REGION ?? 'us-east-1',
        eventSourceARN: streamArn,
      }),
    ),
  };
}

export class EventSourceMapping {
  public readonly stats: MappingStats = { invocations: 0, errors: 0, dlqBatches: 0 };
  private readonly iterators = new Map<string, string>();

  public constructor(private readonly options: MappingOptions) {}

  public async shards(): Promise<string[]> {
    const listed = await this.options.kinesis.send(
      new ListShardsCommand({ StreamName: this.options.streamName }),
    );
    return (listed.Shards ?? []).map((s) => s.ShardId ?? '');
  }

  /** Reads every shard until it is drained, delivering batches as the mapping would. Returns records read. */
  public async drain(): Promise<number> {
    let read = 0;
    await Promise.all(
      (await this.shards()).map(async (shardId) => {
        for (;;) {
          const records = await this.next(shardId);
          if (records.length === 0) return;
          read += records.length;
          await this.deliver(shardId, records);
        }
      }),
    );
    return read;
  }

  private async next(shardId: string): Promise<_Record[]> {
    const { kinesis, streamName } = this.options;
    let iterator = this.iterators.get(shardId);
    if (!iterator) {
      const got = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      iterator = got.ShardIterator ?? '';
    }
    const page = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.batchSize ?? 100 }),
    );
    if (page.NextShardIterator) this.iterators.set(shardId, page.NextShardIterator);
    return page.Records ?? [];
  }

  private async deliver(shardId: string, records: readonly _Record[]): Promise<void> {
    const maxRetries = this.options.maxRetryAttempts ?? 2;
    const queue: { records: readonly _Record[]; attempts: number }[] = [{ records, attempts: 0 }];
    while (queue.length > 0) {
      const batch = queue.shift()!;
      this.stats.invocations++;
      let rest: readonly _Record[] = [];
      try {
        const response = await this.options.handler(toEvent(shardId, this.options.streamArn, batch.records));
        const failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
        if (failed.length > 0) {
          // Split at the lowest returned sequence number: the records from it are retried as one batch.
          const lowest = batch.records.findIndex((r) => failed.includes(r.SequenceNumber ?? ''));
          rest = batch.records.slice(Math.max(lowest, 0));
        }
      } catch {
        this.stats.errors++;
        if (batch.records.length > 1) {
          // Bisect on a function error: each half is retried on its own.
          const half = Math.ceil(batch.records.length / 2);
          queue.unshift(
            { records: batch.records.slice(0, half), attempts: batch.attempts + 1 },
            { records: batch.records.slice(half), attempts: batch.attempts + 1 },
          );
          continue;
        }
        rest = batch.records;
      }
      if (rest.length === 0) continue;
      if (batch.attempts < maxRetries) {
        queue.unshift({ records: rest, attempts: batch.attempts + 1 });
      } else {
        this.stats.dlqBatches++;
        await this.options.sqs.send(
          new SendMessageCommand({
            QueueUrl: this.options.dlqUrl,
            MessageBody: JSON.stringify({
              requestContext: {
                condition: 'RetryAttemptsExhausted',
                approximateInvokeCount: batch.attempts + 1,
              },
              KinesisBatchInfo: {
                shardId,
                startSequenceNumber: rest[0]!.SequenceNumber,
                endSequenceNumber: rest.at(-1)!.SequenceNumber,
                batchSize: rest.length,
                streamArn: this.options.streamArn,
              },
            }),
          }),
        );
      }
    }
  }
}
