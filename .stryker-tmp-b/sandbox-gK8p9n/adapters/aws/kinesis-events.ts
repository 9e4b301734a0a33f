/**
 * The API's event sink on a Kinesis data stream: PutRecords with the source
 * as partition key, entries Kinesis refused (throttling) put again with
 * backoff; what is still refused after the attempts fails the request (the
 * client retries the push; records already put may then arrive twice in the
 * stream, which is at-least-once delivery into the stream — landing dedups
 * redelivery of one stream record, not a client's repeated push).
 */
// @ts-nocheck

import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { sleep } from '../../connectors/sdk/sleep.js';
import { SluiceError } from '../../engine/errors.js';
import { type EventSink, encodeEnvelope, type PushEnvelope } from '../../engine/push-events.js';

export class EventSinkError extends SluiceError {
  public override readonly statusCode: number = 503;
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventSinkError';
  }
}

export interface KinesisEventSinkOptions {
  readonly streamName: string;
  readonly client: KinesisClient;
  /** @default 4 */
  readonly attempts?: number;
}

export class KinesisEventSink implements EventSink {
  public constructor(private readonly options: KinesisEventSinkOptions) {}

  public async put(
    envelopes: readonly PushEnvelope[],
    partitionKeyOf: (envelope: PushEnvelope, index: number) => string = (e) => e.source,
  ): Promise<void> {
    let entries: PutRecordsRequestEntry[] = envelopes.map((e, i) => ({
      PartitionKey: partitionKeyOf(e, i),
      Data: encodeEnvelope(e),
    }));
    const attempts = this.options.attempts ?? 4;
    for (let attempt = 1; entries.length > 0; attempt++) {
      const result = await this.options.client.send(
        new PutRecordsCommand({ StreamName: this.options.streamName, Records: entries }),
      );
      if (!result.FailedRecordCount) return;
      const refused = entries.filter((_, i) => result.Records?.[i]?.ErrorCode);
      if (attempt >= attempts) {
        const code = result.Records?.find((r) => r.ErrorCode)?.ErrorCode ?? 'unknown';
        throw new EventSinkError(
          `the ingest stream refused ${refused.length} of ${envelopes.length} records (${code}); retry the push`,
        );
      }
      entries = refused;
      await sleep(50 * 2 ** attempt + Math.floor(Math.random() * 50));
    }
  }
}
