/**
 * Run records spread over the status index's shards (no one hot
 * `STATUS#<status>` key for push micro-batches) and still list newest first
 * across shards, with runs written before sharding (the unsharded key).
 */
// @ts-nocheck

import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsService, clientConfig } from '../../../adapters/aws/config.js';
import {
  createStateTable,
  DynamoDbStateStore,
  StateTableSchema,
  statusShardOf,
} from '../../../adapters/aws/dynamodb-state-store.js';
import type { RunRecord } from '../../../engine/ports.js';
import { uniqueName } from './support.js';

const client = new DynamoDBClient(clientConfig(AwsService.dynamodb));

function run(i: number, status: RunRecord['status'] = 'SUCCEEDED'): RunRecord {
  const startedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
  return {
    runId: `20260101T0000${String(i).padStart(2, '0')}000Z-p${i}`,
    source: 'app',
    status,
    startedAt,
    streams: {},
  };
}

describe('the status index shards', () => {
  let tableName: string;
  let store: DynamoDbStateStore;
  beforeAll(async () => {
    tableName = uniqueName('sluice-shards');
    await createStateTable({ tableName });
    store = new DynamoDbStateStore({ tableName, client });
  });

  it('spreads runs over several keys and lists them newest first, legacy runs included', async () => {
    // Prepare: 40 runs through the store, one written under the unsharded key as before.
    for (let i = 0; i < 40; i++) await store.putRun(run(i));
    const legacy = run(45);
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'SOURCE#app' },
          sk: { S: `RUN#${legacy.runId}` },
          gsi2pk: { S: 'STATUS#SUCCEEDED' },
          gsi2sk: { S: `${legacy.startedAt}#app#${legacy.runId}` },
          data: { S: JSON.stringify(legacy) },
        },
      }),
    );

    // Act
    const listed = await store.listRunsByStatus('SUCCEEDED');
    const newest = await store.listRunsByStatus('SUCCEEDED', 5);
    const perShard = await Promise.all(
      Array.from({ length: StateTableSchema.statusShards }, (_, n) =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'gsi2',
            KeyConditionExpression: 'gsi2pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: `STATUS#SUCCEEDED#${n}` } },
          }),
        ),
      ),
    );

    // Assess
    expect(listed.map((r) => r.runId)).toEqual(
      [legacy, ...Array.from({ length: 40 }, (_, i) => run(39 - i))].map((r) => r.runId),
    );
    expect(newest.map((r) => r.runId)).toEqual([45, 39, 38, 37, 36].map((i) => run(i).runId));
    const counts = perShard.map((q) => q.Count ?? 0);
    expect(counts.reduce((a, b) => a + b)).toBe(40);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(4);
    expect(Math.max(...counts)).toBeLessThan(20);
    expect(counts[statusShardOf(run(0).runId)]).toBeGreaterThan(0);
  });
});
