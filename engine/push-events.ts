/**
 * What travels on the ingest stream: one envelope per pushed record,
 * `{"v":1,"source":…,"stream":…,"record":{…},"receivedAt":…}`, with the
 * source as the Kinesis partition key (so a source's records keep their
 * order within a shard). The API validates a push whole before anything is
 * put; the consumer decodes each record on its own (a bad one is a poison
 * record, reported alone).
 */
import { parseJsonExact, stringifyExact } from '../connectors/sdk/json.js';
import { ValidationError } from './errors.js';

export interface PushEnvelope {
  readonly v: 1;
  readonly source: string;
  readonly stream: string;
  readonly record: Record<string, unknown>;
  /** When the API accepted the record (ISO-8601): end-to-end latency starts here. */
  readonly receivedAt: string;
}

/**
 * Limits of one push request, from Kinesis PutRecords: at most 500 records,
 * 1 MiB per record and 5 MiB per request, each counting the records' data
 * *and* partition keys. One push is one PutRecords, so its envelopes and
 * their keys must fit in `maxRequestBytes` (and the raw body too, checked
 * first so an oversized body is not parsed). A record keeps 1 KiB for its
 * key (Kinesis allows 256 characters).
 */
export const PushLimits = {
  maxRecords: 500,
  maxRecordBytes: 1024 * 1024 - 1024,
  maxRequestBytes: 5 * 1024 * 1024,
} as const;

/** Where the API puts pushed records: the Kinesis stream on AWS. */
export interface EventSink {
  /** Puts every envelope under its partition key, or throws; retries partial failures itself. */
  put(
    envelopes: readonly PushEnvelope[],
    partitionKeyOf?: (envelope: PushEnvelope, index: number) => string,
  ): Promise<void>;
}

/** The source, or `<source>/<n>` spread round-robin over `spread` keys (connectors/push `spread`). */
export function partitionKeyFor(
  spread: number | undefined,
): (envelope: PushEnvelope, index: number) => string {
  const keys = Math.max(1, Math.floor(spread ?? 1));
  const offset = Math.floor(Math.random() * keys);
  return (envelope, index) =>
    keys === 1 ? envelope.source : `${envelope.source}/${(offset + index) % keys}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(envelope: PushEnvelope): Uint8Array {
  return encoder.encode(stringifyExact(envelope));
}

/** Decodes one stream record; throws ValidationError naming what is wrong (the record is poison). */
export function decodeEnvelope(bytes: Uint8Array): PushEnvelope {
  let value: unknown;
  try {
    value = parseJsonExact(decoder.decode(bytes));
  } catch (error) {
    throw new ValidationError('the stream record is not JSON', { field: 'data', cause: error });
  }
  const envelope = value as Partial<PushEnvelope> | null;
  if (typeof envelope !== 'object' || envelope === null || envelope.v !== 1) {
    throw new ValidationError('the stream record is not a version 1 push envelope', { field: 'v' });
  }
  if (typeof envelope.source !== 'string' || typeof envelope.stream !== 'string') {
    throw new ValidationError('the stream record names no source or stream', { field: 'source' });
  }
  if (typeof envelope.record !== 'object' || envelope.record === null || Array.isArray(envelope.record)) {
    throw new ValidationError('the stream record carries no JSON object', { field: 'record' });
  }
  if (typeof envelope.receivedAt !== 'string' || Number.isNaN(Date.parse(envelope.receivedAt))) {
    throw new ValidationError('the stream record has no receivedAt time', { field: 'receivedAt' });
  }
  return envelope as PushEnvelope;
}

/**
 * Validates a push request body (a JSON object or an array of them) for a
 * stream of a source, whole, before anything is put: what goes on the
 * stream (each envelope with the partition key `partitionKeyOf` gives it,
 * the one the sink is then given) must fit in one PutRecords.
 */
export function envelopesOf(
  source: string,
  stream: string,
  body: string | undefined,
  receivedAt: Date,
  partitionKeyOf: (envelope: PushEnvelope, index: number) => string = (e) => e.source,
): PushEnvelope[] {
  if (body === undefined || body.trim() === '') {
    throw new ValidationError('the request needs a JSON object or an array of objects as its body', {
      field: 'body',
    });
  }
  const size = encoder.encode(body).byteLength;
  if (size > PushLimits.maxRequestBytes) {
    throw new ValidationError(
      `the body is ${size} bytes; a push takes at most ${PushLimits.maxRequestBytes} bytes (split it)`,
      { field: 'body' },
    );
  }
  let value: unknown;
  try {
    value = parseJsonExact(body);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, {
      field: 'body',
      cause: error,
    });
  }
  const records = Array.isArray(value) ? value : [value];
  if (records.length === 0) throw new ValidationError('the array holds no records', { field: 'body' });
  if (records.length > PushLimits.maxRecords) {
    throw new ValidationError(
      `the array holds ${records.length} records; a push takes at most ${PushLimits.maxRecords} (split it)`,
      { field: 'body' },
    );
  }
  const at = receivedAt.toISOString();
  let requestBytes = 0;
  const envelopes = records.map((record, index) => {
    const field = Array.isArray(value) ? `body[${index}]` : 'body';
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ValidationError(`${field} must be a JSON object`, { field });
    }
    const envelope: PushEnvelope = {
      v: 1,
      source,
      stream,
      record: record as Record<string, unknown>,
      receivedAt: at,
    };
    const bytes = encodeEnvelope(envelope).byteLength;
    if (bytes > PushLimits.maxRecordBytes) {
      throw new ValidationError(
        `${field} is ${bytes} bytes on the stream; a record takes at most ${PushLimits.maxRecordBytes}`,
        { field },
      );
    }
    requestBytes += bytes + encoder.encode(partitionKeyOf(envelope, index)).byteLength;
    return envelope;
  });
  if (requestBytes > PushLimits.maxRequestBytes) {
    throw new ValidationError(
      `the records are ${requestBytes} bytes on the stream (each in its envelope, with its partition key); a push takes at most ${PushLimits.maxRequestBytes} (split it)`,
      { field: 'body' },
    );
  }
  return envelopes;
}
