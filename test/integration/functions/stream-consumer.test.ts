/**
 * The Kinesis consumer against the emulator's Kinesis, SQS, S3, DynamoDB and
 * Glue. Records are pushed through the API route onto a real stream, read
 * back by a model of Lambda's event source mapping (test/support/kinesis-esm.ts),
 * and landed by the consumer; what landed is counted the way Athena would
 * read it (Glue table, projected partitions, DuckDB over the files).
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import { KinesisEventSink } from '../../../adapters/aws/kinesis-events.js';
import { registry } from '../../../connectors/index.js';
import { silentLogger } from '../../../connectors/sdk/logger.js';
import type { SourceDefinition } from '../../../engine/ports.js';
import { compareSequence } from '../../../engine/push.js';
import { createApi } from '../../../functions/api/routes.js';
import { type ConsumeDeps, consumeBatch } from '../../../functions/stream/consume.js';
import { EventSourceMapping, toEvent } from '../../support/kinesis-esm.js';
import { type AwsTestLake, openAwsTestLake } from '../aws/lake.js';
import { uniqueName } from '../aws/support.js';

const kinesis = new KinesisClient(clientConfig(AwsService.kinesis));
const sqs = new SQSClient(clientConfig(AwsService.sqs));

function pushSource(name: string, config: Record<string, unknown>): SourceDefinition {
  const now = new Date().toISOString();
  return { name, type: 'push', config, createdAt: now, updatedAt: now };
}

async function createStream(shards: number): Promise<{ name: string; arn: string }> {
  const name = uniqueName('sluice-ingest');
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (;;) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') {
      return { name, arn: summary.StreamDescriptionSummary.StreamARN ?? '' };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the stream consumer', () => {
  let lake: AwsTestLake;
  let deps: ConsumeDeps;

  const push = async (streamName: string, source: string, body: unknown, stream?: string) => {
    const api = createApi({
      ...lake.backend,
      registry,
      // The push route uses neither; a call to them would fail the test.
      scheduler: { put: async () => expect.unreachable(), delete: async () => expect.unreachable() },
      trigger: { start: async () => expect.unreachable() },
      events: new KinesisEventSink({ streamName, client: kinesis }),
    });
    return api.handle({
      method: 'POST',
      path: `/sources/${source}/events`,
      query: stream ? { stream } : {},
      headers: {},
      body: typeof body === 'string' ? body : JSON.stringify(body),
      requestId: 'test',
    });
  };

  const count = async (sql: string): Promise<number> => Number((await lake.athenaRows(sql))[0]?.n);

  beforeAll(async () => {
    lake = await openAwsTestLake({
      source: pushSource('clicks_app', { streams: [{ name: 'clicks' }, { name: 'views' }] }),
    });
    for (const source of [
      pushSource('orders_app', {
        streams: [{ name: 'orders', columns: { id: 'bigint', amount: 'double' } }],
      }),
      pushSource('spread_app', { streams: [{ name: 'hits' }], spread: 8 }),
    ]) {
      await lake.backend.state.putSource(source);
    }
    deps = { backend: lake.backend, logger: silentLogger };
  });

  afterAll(() => undefined);

  it('lands records of several sources once, and only a poison record reaches the DLQ', async () => {
    // Prepare
    const stream = await createStream(1);
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('sluice-dlq') }));
    const orders = Array.from({ length: 40 }, (_, i) => ({ id: i, amount: i * 1.5 }));
    const clicks = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, page: `/p/${i % 7}` }));
    expect((await push(stream.name, 'orders_app', orders.slice(0, 20))).statusCode).toBe(202);
    expect((await push(stream.name, 'clicks_app', clicks.slice(0, 15), 'clicks')).statusCode).toBe(202);
    // A record no envelope decoder accepts, between good ones.
    const poison = await kinesis.send(
      new PutRecordCommand({
        StreamName: stream.name,
        PartitionKey: 'orders_app',
        Data: Buffer.from('{not json'),
      }),
    );
    expect((await push(stream.name, 'orders_app', orders.slice(20))).statusCode).toBe(202);
    expect((await push(stream.name, 'clicks_app', clicks.slice(15), 'clicks')).statusCode).toBe(202);
    expect((await push(stream.name, 'clicks_app', { id: 'v1', page: '/' }, 'views')).statusCode).toBe(202);
    const mapping = new EventSourceMapping({
      kinesis,
      sqs,
      streamName: stream.name,
      streamArn: stream.arn,
      dlqUrl: dlq.QueueUrl!,
      batchSize: 25,
      maxRetryAttempts: 1,
      handler: async (event) => (await consumeBatch(deps, event)).response,
    });

    // Act
    const read = await mapping.drain();

    // Assess
    expect(read).toBe(40 + 30 + 1 + 1);
    expect(await count('SELECT count(*) AS n FROM orders_app__orders')).toBe(40);
    expect(await count('SELECT count(DISTINCT id) AS n FROM orders_app__orders')).toBe(40);
    expect(await count('SELECT sum(amount) * 2 / 3 AS n FROM orders_app__orders')).toBe((39 * 40) / 2);
    expect(await count('SELECT count(*) AS n FROM clicks_app__clicks')).toBe(30);
    expect(await count('SELECT count(DISTINCT id) AS n FROM clicks_app__clicks')).toBe(30);
    expect(await count('SELECT count(*) AS n FROM clicks_app__views')).toBe(1);
    const messages = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl!, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect(messages.Messages?.length).toBe(1);
    const info = JSON.parse(messages.Messages![0]!.Body!).KinesisBatchInfo;
    expect(info).toMatchObject({
      batchSize: 1,
      startSequenceNumber: poison.SequenceNumber,
      endSequenceNumber: poison.SequenceNumber,
    });
    expect(await lake.leftovers()).toEqual([]);
    const runs = await lake.backend.state.listRuns('orders_app');
    expect(runs.reduce((sum, r) => sum + (r.streams.orders?.rows ?? 0), 0)).toBe(40);
    expect(runs.every((r) => r.cost !== undefined && r.cost.usd > 0 && r.cost.requests === 1)).toBe(true);
  });

  it('sends only the poison record to the DLQ when it heads a batch, and lands the records after it', async () => {
    // Prepare: the poison record is the first of the shard, so the first batch starts with it.
    const stream = await createStream(1);
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('sluice-dlq') }));
    const poison = await kinesis.send(
      new PutRecordCommand({
        StreamName: stream.name,
        PartitionKey: 'orders_app',
        Data: Buffer.from('nope'),
      }),
    );
    const rows = Array.from({ length: 9 }, (_, i) => ({ id: 5000 + i, amount: 2 }));
    expect((await push(stream.name, 'orders_app', rows)).statusCode).toBe(202);
    const mapping = new EventSourceMapping({
      kinesis,
      sqs,
      streamName: stream.name,
      streamArn: stream.arn,
      dlqUrl: dlq.QueueUrl!,
      batchSize: 10,
      maxRetryAttempts: 2,
      handler: async (event) => (await consumeBatch(deps, event)).response,
    });

    // Act
    const read = await mapping.drain();

    // Assess
    expect(read).toBe(10);
    expect(await count('SELECT count(*) AS n FROM orders_app__orders WHERE id >= 5000 AND id < 5009')).toBe(
      9,
    );
    const messages = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl!, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect(messages.Messages?.map((m) => JSON.parse(m.Body!).KinesisBatchInfo)).toEqual([
      expect.objectContaining({
        batchSize: 1,
        startSequenceNumber: poison.SequenceNumber,
        endSequenceNumber: poison.SequenceNumber,
      }),
    ]);
  });

  it('drops every record of a redelivered batch, after a crash before or after the commit point too', async () => {
    // Prepare
    const stream = await createStream(1);
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: 1000 + i, amount: 1 }));
    await push(stream.name, 'orders_app', rows);
    const before = await count('SELECT count(*) AS n FROM orders_app__orders');
    const mapping = new EventSourceMapping({
      kinesis,
      sqs,
      streamName: stream.name,
      streamArn: stream.arn,
      dlqUrl: 'unused',
      handler: async () => undefined,
    });
    const [shard] = await mapping.shards();
    let event: KinesisStreamEvent | undefined;
    const capture = new EventSourceMapping({
      kinesis,
      sqs,
      streamName: stream.name,
      streamArn: stream.arn,
      dlqUrl: 'unused',
      handler: async (e) => {
        event = e;
        return undefined;
      },
    });
    await capture.drain();
    const firstHalf = { Records: event!.Records.slice(0, 25) };
    const crash = (at: string) => ({
      ...deps,
      options: {
        onPhase: (phase: string) => {
          if (phase === at) throw new Error(`crash at ${phase}`);
        },
      },
    });

    // Act: a crash before the commit point, one after it, then the whole batch delivered three times.
    await expect(consumeBatch(crash('staged'), firstHalf)).rejects.toThrow('crash at staged');
    await expect(consumeBatch(crash('manifest-written'), firstHalf)).rejects.toThrow(
      'crash at manifest-written',
    );
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await consumeBatch(deps, event!, {} as Context));

    // Assess: an independent count of what Athena would read.
    expect(shard).toBeDefined();
    expect(await count('SELECT count(*) AS n FROM orders_app__orders')).toBe(before + 50);
    expect(await count('SELECT count(*) AS n FROM orders_app__orders WHERE id >= 1000 AND id < 1050')).toBe(
      50,
    );
    expect(results.map((r) => r.landings[0]?.landed ?? 0)).toEqual([25, 0, 0]);
    expect(results.map((r) => r.landings[0]?.duplicates)).toEqual([25, 50, 50]);
    expect(results[0]!.landings[0]!.recovered).toHaveLength(1);
    expect(await lake.leftovers()).toEqual([]);
  });

  it('lands a failed record when its retry succeeds: later records never move the mark past it', async () => {
    // Prepare: a record for a stream the source declares only after the first delivery.
    await lake.backend.state.putSource(pushSource('late_app', { streams: [{ name: 'early' }] }));
    const stream = await createStream(1);
    await push(stream.name, 'late_app', [{ n: 1 }, { n: 2 }]);
    const envelope = {
      v: 1,
      source: 'late_app',
      stream: 'late',
      record: { n: 3 },
      receivedAt: new Date().toISOString(),
    };
    await kinesis.send(
      new PutRecordCommand({
        StreamName: stream.name,
        PartitionKey: 'late_app',
        Data: Buffer.from(JSON.stringify(envelope)),
      }),
    );
    await push(stream.name, 'late_app', [{ n: 4 }]);
    let event: KinesisStreamEvent | undefined;
    await new EventSourceMapping({
      kinesis,
      sqs,
      streamName: stream.name,
      streamArn: stream.arn,
      dlqUrl: 'unused',
      handler: async (e) => {
        event = e;
        return undefined;
      },
    }).drain();

    // Act: the first delivery fails the third record; the source then declares its stream; Lambda resumes there.
    const first = await consumeBatch(deps, event!);
    await lake.backend.state.putSource(
      pushSource('late_app', { streams: [{ name: 'early' }, { name: 'late' }] }),
    );
    const failed = first.response.batchItemFailures.map((f) => f.itemIdentifier);
    const resumed = await consumeBatch(deps, {
      Records: event!.Records.filter((r) => compareSequence(r.kinesis.sequenceNumber, failed[0]!) >= 0),
    });

    // Assess
    expect(failed).toEqual([event!.Records[2]!.kinesis.sequenceNumber]);
    expect(first.landings[0]!.landed).toBe(2);
    expect(resumed.landings[0]!.landed).toBe(2);
    expect(await count('SELECT count(*) AS n FROM late_app__early')).toBe(3);
    expect(await count('SELECT count(*) AS n FROM late_app__late')).toBe(1);
  });

  it("lands one source's shards in parallel, each once", async () => {
    // Prepare
    const stream = await createStream(2);
    for (let i = 0; i < 4; i++) {
      const rows = Array.from({ length: 50 }, (_, j) => ({ n: i * 50 + j }));
      expect((await push(stream.name, 'spread_app', rows)).statusCode).toBe(202);
    }
    const events: KinesisStreamEvent[] = [];
    const capture = new EventSourceMapping({
      kinesis,
      sqs,
      streamName: stream.name,
      streamArn: stream.arn,
      dlqUrl: 'unused',
      batchSize: 500,
      handler: async (e) => {
        events.push(e);
        return undefined;
      },
    });
    await capture.drain();

    // Act: both shards at once, then both again (redelivered).
    const first = await Promise.all(events.map((e) => consumeBatch(deps, e)));
    const again = await Promise.all(events.map((e) => consumeBatch(deps, e)));

    // Assess
    expect(events).toHaveLength(2);
    expect(first.map((r) => r.landings[0]!.landed).reduce((a, b) => a + b)).toBe(200);
    expect(again.flatMap((r) => r.landings.map((l) => l.landed))).toEqual([0, 0]);
    expect(await count('SELECT count(*) AS n FROM spread_app__hits')).toBe(200);
    expect(await count('SELECT count(DISTINCT n) AS n FROM spread_app__hits')).toBe(200);
  });

  it('refuses a push naming the problem, and puts nothing', async () => {
    // Prepare
    const stream = await createStream(1);

    // Act
    const replies = await Promise.all([
      push(stream.name, 'clicks_app', { id: 1 }),
      push(stream.name, 'clicks_app', { id: 1 }, 'nope'),
      push(stream.name, 'orders_app', '[{"id":1},42]'),
      push(stream.name, 'orders_app', '{"id":'),
      push(stream.name, 'orders_app', []),
      push(
        stream.name,
        'orders_app',
        Array.from({ length: 501 }, () => ({})),
      ),
      push(stream.name, 'orders_app', { blob: 'x'.repeat(1024 * 1024) }),
      // A body under 5 MiB whose envelopes (with their partition keys) are over PutRecords' 5 MiB.
      push(
        stream.name,
        'orders_app',
        Array.from({ length: 500 }, (_, i) => ({ id: i, pad: 'x'.repeat(10_440) })),
      ),
      push(stream.name, 'no_such', { id: 1 }),
    ]);
    const mapping = new EventSourceMapping({
      kinesis,
      sqs,
      streamName: stream.name,
      streamArn: stream.arn,
      dlqUrl: 'unused',
      handler: async () => undefined,
    });

    // Assess
    expect(replies.map((r) => r.statusCode)).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 404]);
    const fields = replies.map((r) => JSON.parse(r.body).error.field);
    expect(fields.slice(0, 8)).toEqual([
      'stream',
      'stream',
      'body[1]',
      'body',
      'body',
      'body',
      'body',
      'body',
    ]);
    expect(JSON.parse(replies[1]!.body).error.message).toContain('declared: clicks, views');
    expect(JSON.parse(replies[7]!.body).error.message).toContain('bytes on the stream');
    expect(await mapping.drain()).toBe(0);
  });

  it('toEvent keeps the shard in each event id', () => {
    const event = toEvent('shardId-000000000001', 'arn', [
      { SequenceNumber: '7', Data: new Uint8Array(), PartitionKey: 'p' },
    ]);
    expect(event.Records[0]!.eventID).toBe('shardId-000000000001:7');
  });
});
