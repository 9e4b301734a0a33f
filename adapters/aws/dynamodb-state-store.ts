/**
 * StateStore on one DynamoDB table (single-table design; see
 * docs/dynamodb-table-design.md for the access patterns):
 *
 *   entity  pk               sk                gsi1pk          gsi1sk                 gsi2pk             gsi2sk
 *   source  SOURCES          SOURCE#<name>
 *   cursor  SOURCE#<source>  CURSOR#<stream>
 *   lease   SOURCE#<source>  LEASE
 *   run     SOURCE#<source>  RUN#<runId>       RUNS#<source>   <startedAt>#<runId>    STATUS#<status>#<n> <startedAt>#<source>#<runId>
 *
 * GSI3 (`runId` / `source`, the run item's own attributes) finds a run by its id alone.
 *
 * Every write that can race is conditional, and a failed condition becomes a
 * typed error (ConflictError, LeaseHeldError) rather than an SDK exception.
 * Reads that decide a write (cursor, lease, run) are strongly consistent.
 */
import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  type QueryCommandInput,
  ResourceInUseException,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, LeaseHeldError, ValidationError } from '../../engine/errors.js';
import type {
  CursorState,
  Lease,
  RunPosition,
  RunRecord,
  RunStatus,
  SourceDefinition,
  StateStore,
  VersionedCursor,
} from '../../engine/ports.js';
import { isAfter } from '../../engine/ports.js';
import { AwsService, clientConfig } from './config.js';

/** The table's key schema, shared with the CDK construct that creates it in AWS. */
export const StateTableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Runs of one source by start time. */
  gsi1: { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * Runs in one status by start time (across sources), spread over
   * `statusShards` partitions (`STATUS#<status>#<n>`, n from the run id) so
   * push micro-batches do not all write one hot key; readers query each.
   */
  gsi2: { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  statusShards: 8,
  /** Both indexes' queries read only the run's JSON (plus the keys, always projected). */
  projectedAttributes: ['data'],
  /** A run by its id alone (`GET /runs/{id}`): the run item's own attributes, so no extra writes. */
  gsi3: { indexName: 'gsi3', partitionKey: 'runId', sortKey: 'source' },
  /** Epoch seconds; DynamoDB deletes the item some time after it passes. */
  ttlAttribute: 'ttl',
} as const;

const S = StateTableSchema;
const SOURCES_PK = 'SOURCES';
const LEASE_SK = 'LEASE';
/** Runs that may share one start instant (ms) in a cross-source page: enough for any real table. */
const SAME_INSTANT_SLACK = 50;
/** Expired leases stay readable this long before TTL removes them (who held it last helps debugging). */
const LEASE_TTL_GRACE_SECONDS = 3600;

type Item = Record<string, AttributeValue>;

export interface DynamoDbStateStoreOptions {
  readonly tableName: string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: DynamoDBClient;
  /** Epoch milliseconds; leases expire by this clock. @default Date.now */
  readonly now?: () => number;
  /** Run items expire (DynamoDB TTL) this many days after they start. @default undefined (kept) */
  readonly runRetentionDays?: number;
}

export class DynamoDbStateStore implements StateStore {
  public readonly tableName: string;
  public readonly client: DynamoDBClient;
  private readonly now: () => number;
  private readonly runRetentionDays: number | undefined;

  public constructor(options: DynamoDbStateStoreOptions) {
    if (!options.tableName) throw new Error('DynamoDbStateStore needs a table name');
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient(clientConfig(AwsService.dynamodb));
    this.now = options.now ?? Date.now;
    this.runRetentionDays = options.runRetentionDays;
  }

  // ---------- sources ----------

  public async putSource(source: SourceDefinition, expected?: { readonly updatedAt: string }): Promise<void> {
    validateName('name', source.name);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: sourceItem(source),
          ...(expected === undefined
            ? {}
            : {
                ConditionExpression: 'updatedAt = :expected',
                ExpressionAttributeValues: { ':expected': str(expected.updatedAt) },
              }),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The SDK retries a put whose answer was lost; the retry then fails the condition its first
      // attempt made false. What is stored tells: this very definition is success, anything else not.
      if (await this.storesExactly(source)) return;
      throw changedMeanwhile(source.name, error);
    }
  }

  public async createSource(source: SourceDefinition): Promise<void> {
    validateName('name', source.name);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: sourceItem(source),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // An SDK retry of a create whose answer was lost finds the item its first attempt wrote: that is
      // success, or the caller would undo (delete the secrets of) a source that is stored.
      if (await this.storesExactly(source)) return;
      throw new ConflictError(`source "${source.name}" already exists`, {
        what: `source ${source.name}`,
        cause: error,
      });
    }
  }

  public async getSource(name: string): Promise<SourceDefinition | undefined> {
    const item = await this.getItem(SOURCES_PK, `SOURCE#${validateName('name', name)}`);
    return item ? (parseData(item) as SourceDefinition) : undefined;
  }

  public async listSources(): Promise<SourceDefinition[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': str(SOURCES_PK), ':prefix': str('SOURCE#') },
      ConsistentRead: true,
    });
    return items.map((item) => parseData(item) as SourceDefinition);
  }

  /** Deletes the definition only (as the local store does); cursors and runs are the caller's to clean up. */
  public async deleteSource(name: string): Promise<void> {
    await this.deleteItem(SOURCES_PK, `SOURCE#${validateName('name', name)}`);
  }

  // ---------- cursors ----------

  public async getCursor(source: string, stream: string): Promise<VersionedCursor> {
    validateName('source', source);
    validateName('stream', stream);
    const item = await this.getItem(`SOURCE#${source}`, `CURSOR#${stream}`);
    if (!item) return { cursor: undefined, version: 0 };
    const cursorJson = item.cursor?.S;
    return {
      cursor: cursorJson === undefined ? undefined : (JSON.parse(cursorJson) as CursorState),
      version: Number(item.version?.N ?? '0'),
    };
  }

  public async commitCursor(
    source: string,
    stream: string,
    expectedVersion: number,
    cursor: CursorState | undefined,
  ): Promise<void> {
    validateName('source', source);
    validateName('stream', stream);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        field: 'expectedVersion',
      });
    }
    const item: Item = {
      pk: str(`SOURCE#${source}`),
      sk: str(`CURSOR#${stream}`),
      entity: str('cursor'),
      source: str(source),
      stream: str(stream),
      version: num(expectedVersion + 1),
      updatedAt: str(new Date(this.now()).toISOString()),
      ...(cursor === undefined ? {} : { cursor: str(JSON.stringify(cursor)) }),
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk) OR version = :expected' }
            : { ConditionExpression: 'version = :expected' }),
          ExpressionAttributeValues: { ':expected': num(expectedVersion) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const actual = error.Item?.version?.N ?? '0';
        throw new ConflictError(
          `cursor ${source}/${stream} is at version ${actual}, not ${expectedVersion}: another run committed first`,
          { what: `cursor ${source}/${stream}`, cause: error },
        );
      }
      throw error;
    }
  }

  // ---------- runs ----------

  public async putRun(run: RunRecord): Promise<void> {
    validateName('source', run.source);
    validateRunId(run.runId);
    const expires: Item =
      this.runRetentionDays === undefined
        ? {}
        : {
            [S.ttlAttribute]: num(
              Math.ceil(Date.parse(run.startedAt) / 1000) + Math.ceil(this.runRetentionDays * 86_400),
            ),
          };
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: str(`SOURCE#${run.source}`),
          sk: str(`RUN#${run.runId}`),
          gsi1pk: str(`RUNS#${run.source}`),
          gsi1sk: str(`${run.startedAt}#${run.runId}`),
          gsi2pk: str(statusKey(run.status, statusShardOf(run.runId))),
          gsi2sk: str(`${run.startedAt}#${run.source}#${run.runId}`),
          entity: str('run'),
          source: str(run.source),
          runId: str(run.runId),
          status: str(run.status),
          startedAt: str(run.startedAt),
          ...(run.endedAt === undefined ? {} : { endedAt: str(run.endedAt) }),
          data: str(JSON.stringify(run)),
          ...expires,
        },
      }),
    );
  }

  public async getRun(source: string, runId: string): Promise<RunRecord | undefined> {
    const item = await this.getItem(
      `SOURCE#${validateName('source', source)}`,
      `RUN#${validateRunId(runId)}`,
    );
    return item ? (parseData(item) as RunRecord) : undefined;
  }

  /** A query on GSI3 (run id → the run in each source that has one); eventually consistent. */
  public async findRun(runId: string): Promise<RunRecord | undefined> {
    const items = await this.query({
      IndexName: S.gsi3.indexName,
      KeyConditionExpression: 'runId = :id',
      ExpressionAttributeValues: { ':id': str(validateRunId(runId)) },
    });
    return items.map((item) => parseData(item) as RunRecord).sort(newestFirst)[0];
  }

  /**
   * Newest first; all sources when `source` is undefined; every run when
   * `limit` is undefined; with `after`, from the run after that position on
   * (a key condition on the sort key, so a page costs what it returns).
   */
  public async listRuns(source?: string, limit?: number, after?: RunPosition): Promise<RunRecord[]> {
    if (source !== undefined) {
      validateName('source', source);
      const items = await this.query(
        {
          IndexName: S.gsi1.indexName,
          KeyConditionExpression: after === undefined ? 'gsi1pk = :pk' : 'gsi1pk = :pk AND gsi1sk < :after',
          ExpressionAttributeValues: {
            ':pk': str(`RUNS#${source}`),
            ...(after === undefined ? {} : { ':after': str(`${after.startedAt}#${after.runId}`) }),
          },
          ScanIndexForward: false,
        },
        limit,
      );
      return items.map((item) => parseData(item) as RunRecord);
    }
    const byStatus = await Promise.all(
      (['RUNNING', 'SUCCEEDED', 'FAILED', 'QUALITY_FAILED'] as const).map((status) =>
        this.runsInStatus(status, limit, after === undefined ? undefined : `${after.startedAt}#\uffff`),
      ),
    );
    const all = byStatus
      .flat()
      .filter((run) => after === undefined || isAfter(run, after))
      .sort(newestFirst);
    return limit === undefined ? all : all.slice(0, limit);
  }

  /** Runs in one status, newest first, across sources (GSI2); e.g. the runs still RUNNING. */
  public async listRunsByStatus(status: RunStatus, limit?: number): Promise<RunRecord[]> {
    return this.runsInStatus(status, limit);
  }

  /**
   * GSI2, newest first, over every status shard (and the unsharded key runs
   * written before sharding still sit under); `below`: only sort keys under it
   * (runs that started no later than a time).
   */
  private async runsInStatus(status: RunStatus, limit?: number, below?: string): Promise<RunRecord[]> {
    const keys = [
      `STATUS#${status}`,
      ...Array.from({ length: S.statusShards }, (_, n) => statusKey(status, n)),
    ];
    // With `below`, the caller drops the runs of that very instant it has already shown: read a few more.
    const perKey = below === undefined || limit === undefined ? limit : limit + SAME_INSTANT_SLACK;
    const pages = await Promise.all(
      keys.map((key) =>
        this.query(
          {
            IndexName: S.gsi2.indexName,
            KeyConditionExpression: below === undefined ? 'gsi2pk = :pk' : 'gsi2pk = :pk AND gsi2sk < :below',
            ExpressionAttributeValues: {
              ':pk': str(key),
              ...(below === undefined ? {} : { ':below': str(below) }),
            },
            ScanIndexForward: false,
          },
          perKey,
        ),
      ),
    );
    const items = pages.flat().sort((a, b) => (b.gsi2sk?.S ?? '').localeCompare(a.gsi2sk?.S ?? ''));
    return (perKey === undefined ? items : items.slice(0, perKey)).map(
      (item) => parseData(item) as RunRecord,
    );
  }

  // ---------- leases ----------

  public async acquireLease(source: string, owner: string, ttlMs: number): Promise<Lease> {
    validateLease(source, owner, ttlMs);
    const now = this.now();
    const expiresAt = now + ttlMs;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: str(`SOURCE#${source}`),
            sk: str(LEASE_SK),
            entity: str('lease'),
            source: str(source),
            owner: str(owner),
            acquiredAt: num(now),
            expiresAt: num(expiresAt),
            [S.ttlAttribute]: num(Math.ceil(expiresAt / 1000) + LEASE_TTL_GRACE_SECONDS),
          },
          // Free (never taken, released, or removed by TTL), expired, or already ours (a retried acquire).
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': num(now), ':owner': str(owner) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw leaseHeld(source, error);
      throw error;
    }
    return { source, owner, expiresAt };
  }

  public async renewLease(source: string, owner: string, ttlMs: number): Promise<Lease> {
    validateLease(source, owner, ttlMs);
    const now = this.now();
    const expiresAt = now + ttlMs;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(`SOURCE#${source}`, LEASE_SK),
          UpdateExpression: 'SET expiresAt = :expiresAt, #ttl = :ttl',
          // Still ours. An expired lease nobody took over is still ours to extend (as in the local store);
          // one another run took (or took and released) is lost.
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#ttl': S.ttlAttribute },
          ExpressionAttributeValues: {
            ':owner': str(owner),
            ':expiresAt': num(expiresAt),
            ':ttl': num(Math.ceil(expiresAt / 1000) + LEASE_TTL_GRACE_SECONDS),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw leaseHeld(source, error);
      throw error;
    }
    return { source, owner, expiresAt };
  }

  public async releaseLease(source: string, owner: string): Promise<void> {
    validateName('source', source);
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key(`SOURCE#${source}`, LEASE_SK),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': str(owner) },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  /** The current lease of a source, if any (expired ones included until TTL removes them). */
  public async getLease(source: string): Promise<Lease | undefined> {
    const item = await this.getItem(`SOURCE#${validateName('source', source)}`, LEASE_SK);
    if (!item?.owner?.S || item.expiresAt?.N === undefined) return undefined;
    return { source, owner: item.owner.S, expiresAt: Number(item.expiresAt.N) };
  }

  // ---------- helpers ----------

  /** Whether the table holds exactly this definition (a retried write finding its first attempt's). */
  private async storesExactly(source: SourceDefinition): Promise<boolean> {
    const stored = await this.getItem(SOURCES_PK, `SOURCE#${source.name}`);
    return stored?.data?.S === JSON.stringify(source);
  }

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    const response = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(pk, sk), ConsistentRead: true }),
    );
    return response.Item;
  }

  private async deleteItem(pk: string, sk: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(pk, sk) }));
  }

  /** Every item of a query (all pages), or the first `limit`. */
  private async query(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): Promise<Item[]> {
    const items: Item[] = [];
    const pages = paginateQuery(
      { client: this.client, ...(limit === undefined ? {} : { pageSize: Math.min(limit, 1000) }) },
      { TableName: this.tableName, ...input },
    );
    for await (const page of pages) {
      items.push(...(page.Items ?? []));
      if (limit !== undefined && items.length >= limit) return items.slice(0, limit);
    }
    return items;
  }
}

function statusKey(status: RunStatus, shard: number): string {
  return `STATUS#${status}#${shard}`;
}

/** A stable shard of the status index for a run (from a hash of its id: similar ids spread). */
export function statusShardOf(runId: string): number {
  return createHash('sha256').update(runId).digest().readUInt32BE(0) % S.statusShards;
}

export interface CreateStateTableOptions {
  readonly tableName: string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: DynamoDBClient;
}

/**
 * Creates the state table with its three GSIs and TTL, waiting until it is
 * ACTIVE; a no-op for the parts that already exist. For tests and local
 * development: in AWS the CDK stack owns the table (same schema).
 */
export async function createStateTable(options: CreateStateTableOptions): Promise<void> {
  const client = options.client ?? new DynamoDBClient(clientConfig(AwsService.dynamodb));
  const TableName = options.tableName;
  const stringAttribute = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  try {
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          S.partitionKey,
          S.sortKey,
          S.gsi1.partitionKey,
          S.gsi1.sortKey,
          S.gsi2.partitionKey,
          S.gsi2.sortKey,
          S.gsi3.partitionKey,
          S.gsi3.sortKey,
        ].map(stringAttribute),
        KeySchema: [
          { AttributeName: S.partitionKey, KeyType: 'HASH' },
          { AttributeName: S.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [S.gsi1, S.gsi2, S.gsi3].map((gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' as const },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' as const },
          ],
          Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...S.projectedAttributes] },
        })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName });
  const table = await client.send(new DescribeTableCommand({ TableName }));
  if (table.Table?.TableStatus !== 'ACTIVE') {
    throw new Error(`table ${TableName} is ${table.Table?.TableStatus ?? 'missing'}, not ACTIVE`);
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName }));
  const ttlStatus = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (ttlStatus !== 'ENABLED' && ttlStatus !== 'ENABLING') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName,
        TimeToLiveSpecification: { AttributeName: S.ttlAttribute, Enabled: true },
      }),
    );
  }
}

function str(value: string): AttributeValue {
  return { S: value };
}

function num(value: number): AttributeValue {
  return { N: String(value) };
}

function key(pk: string, sk: string): Item {
  return { pk: str(pk), sk: str(sk) };
}

function changedMeanwhile(name: string, cause: unknown): ConflictError {
  return new ConflictError(`source "${name}" was changed or deleted meanwhile; read it again and retry`, {
    what: `source ${name}`,
    cause,
  });
}

function sourceItem(source: SourceDefinition): Item {
  return {
    pk: str(SOURCES_PK),
    sk: str(`SOURCE#${source.name}`),
    entity: str('source'),
    name: str(source.name),
    connectorType: str(source.type),
    ...(source.schedule === undefined ? {} : { schedule: str(source.schedule) }),
    updatedAt: str(source.updatedAt),
    data: str(JSON.stringify(source)),
  };
}

function parseData(item: Item): unknown {
  const data = item.data?.S;
  if (data === undefined) throw new Error(`state item ${item.pk?.S}/${item.sk?.S} has no data attribute`);
  return JSON.parse(data);
}

function newestFirst(a: RunRecord, b: RunRecord): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0;
}

/** The holder from the item the failed condition saw; none when the lease was gone (released or expired by TTL). */
function leaseHeld(source: string, error: ConditionalCheckFailedException): LeaseHeldError {
  const owner = error.Item?.owner?.S;
  const expiresAt = error.Item?.expiresAt?.N === undefined ? undefined : Number(error.Item.expiresAt.N);
  return new LeaseHeldError(
    { source, owner, expiresAt: owner === undefined ? undefined : expiresAt },
    { cause: error },
  );
}

/** Names become key parts (`SOURCE#<name>`), so they are held to the snake_case the local store enforces. */
const NAME = /^[a-z][a-z0-9_]{0,127}$/;

function validateName(field: string, value: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new ValidationError(
      `${field} must be snake_case (a lowercase letter, then lowercase letters, digits or _; at most 128 characters), got ${JSON.stringify(value)}`,
      { field },
    );
  }
  return value;
}

function validateRunId(value: string): string {
  const printable = typeof value === 'string' && [...value].every((c) => c.charCodeAt(0) >= 0x20);
  if (!printable || value.length === 0 || value.length > 200) {
    throw new ValidationError(`runId must be 1-200 printable characters, got ${JSON.stringify(value)}`, {
      field: 'runId',
    });
  }
  return value;
}

function validateLease(source: string, owner: string, ttlMs: number): void {
  validateName('source', source);
  if (typeof owner !== 'string' || owner.length === 0) {
    throw new ValidationError('lease owner must be a non-empty string', { field: 'owner' });
  }
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ValidationError(`lease ttlMs must be a positive number, got ${ttlMs}`, { field: 'ttlMs' });
  }
}
