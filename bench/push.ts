/**
 * Push ingestion under load, loopback only and bounded: N records/s pushed
 * through the API route (POST /sources/{name}/events → Kinesis) for a fixed
 * time, while a consumer loop (the event source mapping's model,
 * test/support/kinesis-esm.ts, calling functions/stream/consume.ts) lands
 * them, all against a moto_server this script starts and stops.
 *
 *   npx tsx bench/push.ts [--rate 200] [--seconds 20] [--batch 20] [--shards 2] [--no-save]
 *
 * Reports records/s landed, end-to-end latency (API accepted → published,
 * i.e. queryable) p50/p99, and duplicates (rows landed − distinct ids, which
 * must be 0), counted from the Parquet files as Athena would read them.
 * Writes bench/results/<date>-push.json.
 */
import { writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AwsService, clientConfig } from '../adapters/aws/config.js';
import { KinesisEventSink } from '../adapters/aws/kinesis-events.js';
import { registry } from '../connectors/index.js';
import { silentLogger } from '../connectors/sdk/logger.js';
import { decodeEnvelope } from '../engine/push-events.js';
import { createApi } from '../functions/api/routes.js';
import { consumeBatch } from '../functions/stream/consume.js';
import { openAwsTestLake } from '../test/integration/aws/lake.js';
import { EventSourceMapping } from '../test/support/kinesis-esm.js';
import { startMoto } from './moto.js';
import { nodeMajorSuffix } from './node-major.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    batch: { type: 'string', default: '20' },
    shards: { type: 'string', default: '2' },
    'no-save': { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const seconds = Math.min(Number(values.seconds), 120);
const perRequest = Number(values.batch);
const shards = Number(values.shards);

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

async function main(): Promise<void> {
  const moto = await startMoto();
  try {
    const kinesis = new KinesisClient(clientConfig(AwsService.kinesis));
    const sqs = new SQSClient(clientConfig(AwsService.sqs));
    const now = new Date().toISOString();
    const lake = await openAwsTestLake({
      source: {
        name: 'bench',
        type: 'push',
        config: { streams: [{ name: 'events', columns: { id: 'bigint' } }], spread: shards },
        createdAt: now,
        updatedAt: now,
      },
    });
    const streamName = 'bench-ingest';
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
    let arn = '';
    while (!arn) {
      const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE')
        arn = s.StreamDescriptionSummary.StreamARN ?? '';
      else await new Promise((r) => setTimeout(r, 100));
    }
    const api = createApi({
      ...lake.backend,
      registry,
      scheduler: { put: async () => undefined, delete: async () => undefined },
      trigger: { start: async () => ({ runId: 'unused' }) },
      events: new KinesisEventSink({ streamName, client: kinesis }),
    });
    const latencies: number[] = [];
    let landed = 0;
    let duplicatesDropped = 0;
    const mapping = new EventSourceMapping({
      kinesis,
      sqs,
      streamName,
      streamArn: arn,
      dlqUrl: 'unused',
      batchSize: 500,
      handler: async (event) => {
        const result = await consumeBatch({ backend: lake.backend, logger: silentLogger }, event);
        const at = Date.now();
        for (const r of event.Records) {
          const envelope = decodeEnvelope(Buffer.from(r.kinesis.data, 'base64'));
          latencies.push(at - Date.parse(envelope.receivedAt));
        }
        for (const l of result.landings) {
          landed += l.landed;
          duplicatesDropped += l.duplicates;
        }
        return result.response;
      },
    });

    // Producer: `rate` records/s in requests of `perRequest`, for `seconds`.
    const total = Math.round(rate * seconds);
    const started = Date.now();
    let sent = 0;
    let refused = 0;
    const producer = (async () => {
      while (sent < total) {
        const due = Math.floor(((Date.now() - started) / 1000) * rate);
        if (sent >= due) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const count = Math.min(perRequest, total - sent);
        const body = Array.from({ length: count }, (_, i) => ({ id: sent + i, payload: 'x'.repeat(64) }));
        sent += count;
        const reply = await api.handle({
          method: 'POST',
          path: '/sources/bench/events',
          query: {},
          headers: {},
          body: JSON.stringify(body),
          requestId: `bench-${sent}`,
        });
        if (reply.statusCode !== 202) refused += count;
      }
    })();
    let producing = true;
    void producer.finally(() => {
      producing = false;
    });
    // Consumer: poll until the producer is done and everything sent has landed (bounded).
    const deadline = started + (seconds + 120) * 1000;
    while ((producing || landed < total - refused) && Date.now() < deadline) {
      const read = await mapping.drain();
      if (read === 0) await new Promise((r) => setTimeout(r, 200));
    }
    await producer;
    const elapsed = (Date.now() - started) / 1000;
    const counted = (
      await lake.athenaRows('SELECT count(*) AS n, count(DISTINCT id) AS d FROM bench__events')
    )[0]!;
    const rows = Number(counted.n);
    const distinct = Number(counted.d);
    const result = {
      date: new Date().toISOString(),
      machine: { platform: platform(), arch: arch(), cpus: cpus().length },
      emulator: 'moto_server (loopback)',
      settings: { rate, seconds, recordsPerRequest: perRequest, shards, consumerBatchSize: 500 },
      pushed: total,
      refused,
      landedRows: rows,
      duplicates: rows - distinct,
      redeliveredRecordsDropped: duplicatesDropped,
      recordsPerSecondLanded: Math.round(rows / elapsed),
      elapsedSeconds: Number(elapsed.toFixed(1)),
      latencyMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: Math.max(...latencies),
      },
      consumerInvocations: mapping.stats.invocations,
    };
    console.log(JSON.stringify(result, null, 2));
    if (!values['no-save']) {
      const file = join(
        import.meta.dirname,
        'results',
        `${result.date.slice(0, 10)}-push${nodeMajorSuffix()}.json`,
      );
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`saved ${file}`);
    }
    if (rows - distinct !== 0 || rows !== total - refused) process.exitCode = 1;
  } finally {
    moto.kill();
  }
}

await main();
