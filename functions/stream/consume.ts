/**
 * The consumer's logic, apart from the Lambda wiring (index.ts): decode a
 * Kinesis batch record by record with Powertools' BatchProcessor (a record
 * that cannot land — not an envelope, an unknown source or stream — is a
 * failed item, reported alone), then land every record before the first
 * failed one, grouped by source, through engine/push.ts.
 *
 * Why only before the first failure: for Kinesis, Lambda resumes a shard
 * from the lowest failed sequence number, so records after it come again
 * anyway; landing them now would move the shard's high-water mark past the
 * poison record and make its retry look like a duplicate.
 *
 * How the poison record ends alone in the DLQ: with a partial batch
 * response Lambda splits the batch at the returned sequence number and
 * retries only the records from it, as one batch; it halves a batch only
 * when the function fails (BisectBatchOnFunctionError). So when the first
 * failure is the first record of a batch of several, answering it would
 * retry the same records until the retries run out and send them all to
 * the DLQ: the handler throws instead (PoisonHeadError), Lambda halves the
 * batch, and the halves narrow down to the poison record alone. A landing
 * failure throws too: the whole batch is retried (and halved).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { pushStreams } from '../../connectors/push/index.js';
import type { Logger, Stream } from '../../connectors/sdk/types.js';
import { NotFoundError, ValidationError } from '../../engine/errors.js';
import type { Backend, SourceDefinition } from '../../engine/ports.js';
import {
  compareSequence,
  landPushBatch,
  type PushedRecord,
  type PushOptions,
  type PushResult,
  pushSalt,
} from '../../engine/push.js';
import { decodeEnvelope } from '../../engine/push-events.js';
import { PoisonHeadError } from './errors.js';

export interface ConsumeDeps {
  /** `secrets`: the pii salt of a source that masks fields. */
  readonly backend: Pick<Backend, 'objects' | 'state' | 'catalog' | 'secrets'>;
  readonly logger: Logger;
  readonly clock?: () => Date;
  readonly options?: PushOptions;
}

export interface SourceLanding extends PushResult {
  readonly source: string;
  /** Seconds from the API accepting the newest landed record to its landing. */
  readonly latencySeconds: number;
}

export interface ConsumeResult {
  readonly response: KinesisStreamBatchResponse;
  readonly landings: readonly SourceLanding[];
  readonly failed: number;
}

interface Decoded {
  readonly source: string;
  readonly record: PushedRecord;
  readonly receivedAt: number;
}

/** `shardId-000000000000:49590338271490256608559692538361571095921575989136588898` */
export function shardOfEventId(eventId: string): string {
  const shard = eventId.split(':')[0];
  if (!shard) throw new ValidationError(`Kinesis event id "${eventId}" names no shard`, { field: 'eventID' });
  return shard;
}

export async function consumeBatch(
  deps: ConsumeDeps,
  event: KinesisStreamEvent,
  context?: Context,
): Promise<ConsumeResult> {
  const sources = new Map<string, Promise<{ source: SourceDefinition; streams: Stream[] }>>();
  const sourceOf = (name: string) => {
    let found = sources.get(name);
    if (!found) {
      found = (async () => {
        const source = await deps.backend.state.getSource(name);
        if (!source) throw new NotFoundError(`source "${name}" does not exist`, { what: `source ${name}` });
        if (source.type !== 'push') {
          throw new ValidationError(`source "${name}" is of type ${source.type}, not push`, {
            field: 'source',
          });
        }
        return { source, streams: pushStreams(source.config as never) };
      })();
      sources.set(name, found);
    }
    return found;
  };

  const decoded = new Map<string, Decoded>();
  const failedSequences: string[] = [];
  const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
    try {
      const envelope = decodeEnvelope(Buffer.from(record.kinesis.data, 'base64'));
      const { streams } = await sourceOf(envelope.source);
      if (!streams.some((s) => s.name === envelope.stream)) {
        throw new ValidationError(
          `stream "${envelope.stream}" is not declared by source "${envelope.source}"`,
          {
            field: 'stream',
          },
        );
      }
      decoded.set(record.kinesis.sequenceNumber, {
        source: envelope.source,
        receivedAt: Date.parse(envelope.receivedAt),
        record: {
          stream: envelope.stream,
          data: envelope.record,
          sequenceNumber: record.kinesis.sequenceNumber,
          arrivedAt: new Date(record.kinesis.approximateArrivalTimestamp * 1000),
        },
      });
    } catch (error) {
      failedSequences.push(record.kinesis.sequenceNumber);
      deps.logger.warn('poison record', {
        sequenceNumber: record.kinesis.sequenceNumber,
        partitionKey: record.kinesis.partitionKey,
        error: (error as Error).message,
      });
      throw error;
    }
  };

  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  // A batch whose every record fails throws here: nothing lands; Lambda retries and bisects it.
  const response: KinesisStreamBatchResponse = await processPartialResponse(event, recordHandler, processor, {
    ...(context ? { context } : {}),
  });

  const firstFailure = failedSequences.sort(compareSequence)[0];
  const head = event.Records.map((r) => r.kinesis.sequenceNumber).sort(compareSequence)[0];
  if (firstFailure !== undefined && firstFailure === head && event.Records.length > 1) {
    throw new PoisonHeadError(firstFailure, event.Records.length);
  }
  const landable = event.Records.filter(
    (r) => firstFailure === undefined || compareSequence(r.kinesis.sequenceNumber, firstFailure) < 0,
  )
    .map((r) => decoded.get(r.kinesis.sequenceNumber))
    .filter((d): d is Decoded => d !== undefined)
    .sort((a, b) => compareSequence(a.record.sequenceNumber, b.record.sequenceNumber));
  const first = event.Records[0];
  const shardId = first ? `${first.eventSourceARN}/${shardOfEventId(first.eventID)}` : undefined;
  const bySource = new Map<string, Decoded[]>();
  for (const d of landable) bySource.set(d.source, [...(bySource.get(d.source) ?? []), d]);

  const clock = deps.clock ?? (() => new Date());
  // Sources of one shard land in parallel: each has its own shard lease and mark.
  const landings = await Promise.all(
    [...bySource].map(async ([name, items]): Promise<SourceLanding> => {
      const { source, streams } = await sourceOf(name);
      const piiSalt = await pushSalt(source, deps.backend.secrets);
      const result = await landPushBatch(
        { ...deps.backend, logger: deps.logger, clock },
        {
          source,
          streams,
          shardId: shardId as string,
          records: items.map((d) => d.record),
          ...(piiSalt === undefined ? {} : { piiSalt }),
        },
        deps.options,
      );
      const newest = Math.max(...items.map((d) => d.receivedAt));
      return { ...result, source: name, latencySeconds: Math.max(0, (clock().getTime() - newest) / 1000) };
    }),
  );
  return { response, landings, failed: failedSequences.length };
}
