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
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { createHash } from 'node:crypto';
import { type AttributeValue, ConditionalCheckFailedException, CreateTableCommand, DeleteItemCommand, DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, GetItemCommand, PutItemCommand, paginateQuery, type QueryCommandInput, ResourceInUseException, UpdateItemCommand, UpdateTimeToLiveCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { ConflictError, LeaseHeldError, ValidationError } from '../../engine/errors.js';
import type { CursorState, Lease, RunPosition, RunRecord, RunStatus, SourceDefinition, StateStore, VersionedCursor } from '../../engine/ports.js';
import { isAfter } from '../../engine/ports.js';
import { AwsService, clientConfig } from './config.js';

/** The table's key schema, shared with the CDK construct that creates it in AWS. */
export const StateTableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Runs of one source by start time. */
  gsi1: {
    indexName: 'gsi1',
    partitionKey: 'gsi1pk',
    sortKey: 'gsi1sk'
  },
  /**
   * Runs in one status by start time (across sources), spread over
   * `statusShards` partitions (`STATUS#<status>#<n>`, n from the run id) so
   * push micro-batches do not all write one hot key; readers query each.
   */
  gsi2: {
    indexName: 'gsi2',
    partitionKey: 'gsi2pk',
    sortKey: 'gsi2sk'
  },
  statusShards: 8,
  /** Both indexes' queries read only the run's JSON (plus the keys, always projected). */
  projectedAttributes: ['data'],
  /** A run by its id alone (`GET /runs/{id}`): the run item's own attributes, so no extra writes. */
  gsi3: {
    indexName: 'gsi3',
    partitionKey: 'runId',
    sortKey: 'source'
  },
  /** Epoch seconds; DynamoDB deletes the item some time after it passes. */
  ttlAttribute: 'ttl'
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

  public async putSource(source: SourceDefinition): Promise<void> {
    validateName('name', source.name);
    await this.client.send(new PutItemCommand({
      TableName: this.tableName,
      Item: sourceItem(source)
    }));
  }
  public async createSource(source: SourceDefinition): Promise<void> {
    validateName('name', source.name);
    try {
      await this.client.send(new PutItemCommand({
        TableName: this.tableName,
        Item: sourceItem(source),
        ConditionExpression: 'attribute_not_exists(pk)'
      }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`source "${source.name}" already exists`, {
          what: `source ${source.name}`,
          cause: error
        });
      }
      throw error;
    }
  }
  public async getSource(name: string): Promise<SourceDefinition | undefined> {
    const item = await this.getItem(SOURCES_PK, `SOURCE#${validateName('name', name)}`);
    return item ? parseData(item) as SourceDefinition : undefined;
  }
  public async listSources(): Promise<SourceDefinition[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': str(SOURCES_PK),
        ':prefix': str('SOURCE#')
      },
      ConsistentRead: true
    });
    return items.map(item => parseData(item) as SourceDefinition);
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
    if (!item) return {
      cursor: undefined,
      version: 0
    };
    const cursorJson = item.cursor?.S;
    return {
      cursor: cursorJson === undefined ? undefined : JSON.parse(cursorJson) as CursorState,
      version: Number(item.version?.N ?? '0')
    };
  }
  public async commitCursor(source: string, stream: string, expectedVersion: number, cursor: CursorState | undefined): Promise<void> {
    if (stryMutAct_9fa48("0")) {
      {}
    } else {
      stryCov_9fa48("0");
      validateName(stryMutAct_9fa48("1") ? "" : (stryCov_9fa48("1"), 'source'), source);
      validateName(stryMutAct_9fa48("2") ? "" : (stryCov_9fa48("2"), 'stream'), stream);
      if (stryMutAct_9fa48("5") ? !Number.isSafeInteger(expectedVersion) && expectedVersion < 0 : stryMutAct_9fa48("4") ? false : stryMutAct_9fa48("3") ? true : (stryCov_9fa48("3", "4", "5"), (stryMutAct_9fa48("6") ? Number.isSafeInteger(expectedVersion) : (stryCov_9fa48("6"), !Number.isSafeInteger(expectedVersion))) || (stryMutAct_9fa48("9") ? expectedVersion >= 0 : stryMutAct_9fa48("8") ? expectedVersion <= 0 : stryMutAct_9fa48("7") ? false : (stryCov_9fa48("7", "8", "9"), expectedVersion < 0)))) {
        if (stryMutAct_9fa48("10")) {
          {}
        } else {
          stryCov_9fa48("10");
          throw new ValidationError(stryMutAct_9fa48("11") ? `` : (stryCov_9fa48("11"), `expectedVersion must be a non-negative integer, got ${expectedVersion}`), stryMutAct_9fa48("12") ? {} : (stryCov_9fa48("12"), {
            field: stryMutAct_9fa48("13") ? "" : (stryCov_9fa48("13"), 'expectedVersion')
          }));
        }
      }
      const item: Item = stryMutAct_9fa48("14") ? {} : (stryCov_9fa48("14"), {
        pk: str(stryMutAct_9fa48("15") ? `` : (stryCov_9fa48("15"), `SOURCE#${source}`)),
        sk: str(stryMutAct_9fa48("16") ? `` : (stryCov_9fa48("16"), `CURSOR#${stream}`)),
        entity: str(stryMutAct_9fa48("17") ? "" : (stryCov_9fa48("17"), 'cursor')),
        source: str(source),
        stream: str(stream),
        version: num(stryMutAct_9fa48("18") ? expectedVersion - 1 : (stryCov_9fa48("18"), expectedVersion + 1)),
        updatedAt: str(new Date(this.now()).toISOString()),
        ...((stryMutAct_9fa48("21") ? cursor !== undefined : stryMutAct_9fa48("20") ? false : stryMutAct_9fa48("19") ? true : (stryCov_9fa48("19", "20", "21"), cursor === undefined)) ? {} : stryMutAct_9fa48("22") ? {} : (stryCov_9fa48("22"), {
          cursor: str(JSON.stringify(cursor))
        }))
      });
      try {
        if (stryMutAct_9fa48("23")) {
          {}
        } else {
          stryCov_9fa48("23");
          await this.client.send(new PutItemCommand(stryMutAct_9fa48("24") ? {} : (stryCov_9fa48("24"), {
            TableName: this.tableName,
            Item: item,
            ...((stryMutAct_9fa48("27") ? expectedVersion !== 0 : stryMutAct_9fa48("26") ? false : stryMutAct_9fa48("25") ? true : (stryCov_9fa48("25", "26", "27"), expectedVersion === 0)) ? stryMutAct_9fa48("28") ? {} : (stryCov_9fa48("28"), {
              ConditionExpression: stryMutAct_9fa48("29") ? "" : (stryCov_9fa48("29"), 'attribute_not_exists(pk) OR version = :expected')
            }) : stryMutAct_9fa48("30") ? {} : (stryCov_9fa48("30"), {
              ConditionExpression: stryMutAct_9fa48("31") ? "" : (stryCov_9fa48("31"), 'version = :expected')
            })),
            ExpressionAttributeValues: stryMutAct_9fa48("32") ? {} : (stryCov_9fa48("32"), {
              ':expected': num(expectedVersion)
            }),
            ReturnValuesOnConditionCheckFailure: stryMutAct_9fa48("33") ? "" : (stryCov_9fa48("33"), 'ALL_OLD')
          })));
        }
      } catch (error) {
        if (stryMutAct_9fa48("34")) {
          {}
        } else {
          stryCov_9fa48("34");
          if (stryMutAct_9fa48("36") ? false : stryMutAct_9fa48("35") ? true : (stryCov_9fa48("35", "36"), error instanceof ConditionalCheckFailedException)) {
            if (stryMutAct_9fa48("37")) {
              {}
            } else {
              stryCov_9fa48("37");
              const actual = stryMutAct_9fa48("38") ? error.Item?.version?.N && '0' : (stryCov_9fa48("38"), (stryMutAct_9fa48("40") ? error.Item.version?.N : stryMutAct_9fa48("39") ? error.Item?.version.N : (stryCov_9fa48("39", "40"), error.Item?.version?.N)) ?? (stryMutAct_9fa48("41") ? "" : (stryCov_9fa48("41"), '0')));
              throw new ConflictError(stryMutAct_9fa48("42") ? `` : (stryCov_9fa48("42"), `cursor ${source}/${stream} is at version ${actual}, not ${expectedVersion}: another run committed first`), stryMutAct_9fa48("43") ? {} : (stryCov_9fa48("43"), {
                what: stryMutAct_9fa48("44") ? `` : (stryCov_9fa48("44"), `cursor ${source}/${stream}`),
                cause: error
              }));
            }
          }
          throw error;
        }
      }
    }
  }

  // ---------- runs ----------

  public async putRun(run: RunRecord): Promise<void> {
    validateName('source', run.source);
    validateRunId(run.runId);
    const expires: Item = this.runRetentionDays === undefined ? {} : {
      [S.ttlAttribute]: num(Math.ceil(Date.parse(run.startedAt) / 1000) + Math.ceil(this.runRetentionDays * 86_400))
    };
    await this.client.send(new PutItemCommand({
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
        ...(run.endedAt === undefined ? {} : {
          endedAt: str(run.endedAt)
        }),
        data: str(JSON.stringify(run)),
        ...expires
      }
    }));
  }
  public async getRun(source: string, runId: string): Promise<RunRecord | undefined> {
    const item = await this.getItem(`SOURCE#${validateName('source', source)}`, `RUN#${validateRunId(runId)}`);
    return item ? parseData(item) as RunRecord : undefined;
  }

  /** A query on GSI3 (run id → the run in each source that has one); eventually consistent. */
  public async findRun(runId: string): Promise<RunRecord | undefined> {
    const items = await this.query({
      IndexName: S.gsi3.indexName,
      KeyConditionExpression: 'runId = :id',
      ExpressionAttributeValues: {
        ':id': str(validateRunId(runId))
      }
    });
    return items.map(item => parseData(item) as RunRecord).sort(newestFirst)[0];
  }

  /**
   * Newest first; all sources when `source` is undefined; every run when
   * `limit` is undefined; with `after`, from the run after that position on
   * (a key condition on the sort key, so a page costs what it returns).
   */
  public async listRuns(source?: string, limit?: number, after?: RunPosition): Promise<RunRecord[]> {
    if (source !== undefined) {
      validateName('source', source);
      const items = await this.query({
        IndexName: S.gsi1.indexName,
        KeyConditionExpression: after === undefined ? 'gsi1pk = :pk' : 'gsi1pk = :pk AND gsi1sk < :after',
        ExpressionAttributeValues: {
          ':pk': str(`RUNS#${source}`),
          ...(after === undefined ? {} : {
            ':after': str(`${after.startedAt}#${after.runId}`)
          })
        },
        ScanIndexForward: false
      }, limit);
      return items.map(item => parseData(item) as RunRecord);
    }
    const byStatus = await Promise.all((['RUNNING', 'SUCCEEDED', 'FAILED', 'QUALITY_FAILED'] as const).map(status => this.runsInStatus(status, limit, after === undefined ? undefined : `${after.startedAt}#\uffff`)));
    const all = byStatus.flat().filter(run => after === undefined || isAfter(run, after)).sort(newestFirst);
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
    const keys = [`STATUS#${status}`, ...Array.from({
      length: S.statusShards
    }, (_, n) => statusKey(status, n))];
    // With `below`, the caller drops the runs of that very instant it has already shown: read a few more.
    const perKey = below === undefined || limit === undefined ? limit : limit + SAME_INSTANT_SLACK;
    const pages = await Promise.all(keys.map(key => this.query({
      IndexName: S.gsi2.indexName,
      KeyConditionExpression: below === undefined ? 'gsi2pk = :pk' : 'gsi2pk = :pk AND gsi2sk < :below',
      ExpressionAttributeValues: {
        ':pk': str(key),
        ...(below === undefined ? {} : {
          ':below': str(below)
        })
      },
      ScanIndexForward: false
    }, perKey)));
    const items = pages.flat().sort((a, b) => (b.gsi2sk?.S ?? '').localeCompare(a.gsi2sk?.S ?? ''));
    return (perKey === undefined ? items : items.slice(0, perKey)).map(item => parseData(item) as RunRecord);
  }

  // ---------- leases ----------

  public async acquireLease(source: string, owner: string, ttlMs: number): Promise<Lease> {
    if (stryMutAct_9fa48("45")) {
      {}
    } else {
      stryCov_9fa48("45");
      validateLease(source, owner, ttlMs);
      const now = this.now();
      const expiresAt = stryMutAct_9fa48("46") ? now - ttlMs : (stryCov_9fa48("46"), now + ttlMs);
      try {
        if (stryMutAct_9fa48("47")) {
          {}
        } else {
          stryCov_9fa48("47");
          await this.client.send(new PutItemCommand(stryMutAct_9fa48("48") ? {} : (stryCov_9fa48("48"), {
            TableName: this.tableName,
            Item: stryMutAct_9fa48("49") ? {} : (stryCov_9fa48("49"), {
              pk: str(stryMutAct_9fa48("50") ? `` : (stryCov_9fa48("50"), `SOURCE#${source}`)),
              sk: str(LEASE_SK),
              entity: str(stryMutAct_9fa48("51") ? "" : (stryCov_9fa48("51"), 'lease')),
              source: str(source),
              owner: str(owner),
              acquiredAt: num(now),
              expiresAt: num(expiresAt),
              [S.ttlAttribute]: num(stryMutAct_9fa48("52") ? Math.ceil(expiresAt / 1000) - LEASE_TTL_GRACE_SECONDS : (stryCov_9fa48("52"), Math.ceil(stryMutAct_9fa48("53") ? expiresAt * 1000 : (stryCov_9fa48("53"), expiresAt / 1000)) + LEASE_TTL_GRACE_SECONDS))
            }),
            // Free (never taken, released, or removed by TTL), expired, or already ours (a retried acquire).
            ConditionExpression: stryMutAct_9fa48("54") ? "" : (stryCov_9fa48("54"), 'attribute_not_exists(pk) OR expiresAt <= :now OR #owner = :owner'),
            ExpressionAttributeNames: stryMutAct_9fa48("55") ? {} : (stryCov_9fa48("55"), {
              '#owner': stryMutAct_9fa48("56") ? "" : (stryCov_9fa48("56"), 'owner')
            }),
            ExpressionAttributeValues: stryMutAct_9fa48("57") ? {} : (stryCov_9fa48("57"), {
              ':now': num(now),
              ':owner': str(owner)
            }),
            ReturnValuesOnConditionCheckFailure: stryMutAct_9fa48("58") ? "" : (stryCov_9fa48("58"), 'ALL_OLD')
          })));
        }
      } catch (error) {
        if (stryMutAct_9fa48("59")) {
          {}
        } else {
          stryCov_9fa48("59");
          if (stryMutAct_9fa48("61") ? false : stryMutAct_9fa48("60") ? true : (stryCov_9fa48("60", "61"), error instanceof ConditionalCheckFailedException)) throw leaseHeld(source, error);
          throw error;
        }
      }
      return stryMutAct_9fa48("62") ? {} : (stryCov_9fa48("62"), {
        source,
        owner,
        expiresAt
      });
    }
  }
  public async renewLease(source: string, owner: string, ttlMs: number): Promise<Lease> {
    if (stryMutAct_9fa48("63")) {
      {}
    } else {
      stryCov_9fa48("63");
      validateLease(source, owner, ttlMs);
      const now = this.now();
      const expiresAt = stryMutAct_9fa48("64") ? now - ttlMs : (stryCov_9fa48("64"), now + ttlMs);
      try {
        if (stryMutAct_9fa48("65")) {
          {}
        } else {
          stryCov_9fa48("65");
          await this.client.send(new UpdateItemCommand(stryMutAct_9fa48("66") ? {} : (stryCov_9fa48("66"), {
            TableName: this.tableName,
            Key: key(stryMutAct_9fa48("67") ? `` : (stryCov_9fa48("67"), `SOURCE#${source}`), LEASE_SK),
            UpdateExpression: stryMutAct_9fa48("68") ? "" : (stryCov_9fa48("68"), 'SET expiresAt = :expiresAt, #ttl = :ttl'),
            // Still ours. An expired lease nobody took over is still ours to extend (as in the local store);
            // one another run took (or took and released) is lost.
            ConditionExpression: stryMutAct_9fa48("69") ? "" : (stryCov_9fa48("69"), '#owner = :owner'),
            ExpressionAttributeNames: stryMutAct_9fa48("70") ? {} : (stryCov_9fa48("70"), {
              '#owner': stryMutAct_9fa48("71") ? "" : (stryCov_9fa48("71"), 'owner'),
              '#ttl': S.ttlAttribute
            }),
            ExpressionAttributeValues: stryMutAct_9fa48("72") ? {} : (stryCov_9fa48("72"), {
              ':owner': str(owner),
              ':expiresAt': num(expiresAt),
              ':ttl': num(stryMutAct_9fa48("73") ? Math.ceil(expiresAt / 1000) - LEASE_TTL_GRACE_SECONDS : (stryCov_9fa48("73"), Math.ceil(stryMutAct_9fa48("74") ? expiresAt * 1000 : (stryCov_9fa48("74"), expiresAt / 1000)) + LEASE_TTL_GRACE_SECONDS))
            }),
            ReturnValuesOnConditionCheckFailure: stryMutAct_9fa48("75") ? "" : (stryCov_9fa48("75"), 'ALL_OLD')
          })));
        }
      } catch (error) {
        if (stryMutAct_9fa48("76")) {
          {}
        } else {
          stryCov_9fa48("76");
          if (stryMutAct_9fa48("78") ? false : stryMutAct_9fa48("77") ? true : (stryCov_9fa48("77", "78"), error instanceof ConditionalCheckFailedException)) throw leaseHeld(source, error);
          throw error;
        }
      }
      return stryMutAct_9fa48("79") ? {} : (stryCov_9fa48("79"), {
        source,
        owner,
        expiresAt
      });
    }
  }
  public async releaseLease(source: string, owner: string): Promise<void> {
    if (stryMutAct_9fa48("80")) {
      {}
    } else {
      stryCov_9fa48("80");
      validateName(stryMutAct_9fa48("81") ? "" : (stryCov_9fa48("81"), 'source'), source);
      try {
        if (stryMutAct_9fa48("82")) {
          {}
        } else {
          stryCov_9fa48("82");
          await this.client.send(new DeleteItemCommand(stryMutAct_9fa48("83") ? {} : (stryCov_9fa48("83"), {
            TableName: this.tableName,
            Key: key(stryMutAct_9fa48("84") ? `` : (stryCov_9fa48("84"), `SOURCE#${source}`), LEASE_SK),
            ConditionExpression: stryMutAct_9fa48("85") ? "" : (stryCov_9fa48("85"), '#owner = :owner'),
            ExpressionAttributeNames: stryMutAct_9fa48("86") ? {} : (stryCov_9fa48("86"), {
              '#owner': stryMutAct_9fa48("87") ? "" : (stryCov_9fa48("87"), 'owner')
            }),
            ExpressionAttributeValues: stryMutAct_9fa48("88") ? {} : (stryCov_9fa48("88"), {
              ':owner': str(owner)
            })
          })));
        }
      } catch (error) {
        if (stryMutAct_9fa48("89")) {
          {}
        } else {
          stryCov_9fa48("89");
          if (stryMutAct_9fa48("91") ? false : stryMutAct_9fa48("90") ? true : (stryCov_9fa48("90", "91"), error instanceof ConditionalCheckFailedException)) return;
          throw error;
        }
      }
    }
  }

  /** The current lease of a source, if any (expired ones included until TTL removes them). */
  public async getLease(source: string): Promise<Lease | undefined> {
    if (stryMutAct_9fa48("92")) {
      {}
    } else {
      stryCov_9fa48("92");
      const item = await this.getItem(stryMutAct_9fa48("93") ? `` : (stryCov_9fa48("93"), `SOURCE#${validateName(stryMutAct_9fa48("94") ? "" : (stryCov_9fa48("94"), 'source'), source)}`), LEASE_SK);
      if (stryMutAct_9fa48("97") ? !item?.owner?.S && item.expiresAt?.N === undefined : stryMutAct_9fa48("96") ? false : stryMutAct_9fa48("95") ? true : (stryCov_9fa48("95", "96", "97"), (stryMutAct_9fa48("98") ? item?.owner?.S : (stryCov_9fa48("98"), !(stryMutAct_9fa48("100") ? item.owner?.S : stryMutAct_9fa48("99") ? item?.owner.S : (stryCov_9fa48("99", "100"), item?.owner?.S)))) || (stryMutAct_9fa48("102") ? item.expiresAt?.N !== undefined : stryMutAct_9fa48("101") ? false : (stryCov_9fa48("101", "102"), (stryMutAct_9fa48("103") ? item.expiresAt.N : (stryCov_9fa48("103"), item.expiresAt?.N)) === undefined)))) return undefined;
      return stryMutAct_9fa48("104") ? {} : (stryCov_9fa48("104"), {
        source,
        owner: item.owner.S,
        expiresAt: Number(item.expiresAt.N)
      });
    }
  }

  // ---------- helpers ----------

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    const response = await this.client.send(new GetItemCommand({
      TableName: this.tableName,
      Key: key(pk, sk),
      ConsistentRead: true
    }));
    return response.Item;
  }
  private async deleteItem(pk: string, sk: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({
      TableName: this.tableName,
      Key: key(pk, sk)
    }));
  }

  /** Every item of a query (all pages), or the first `limit`. */
  private async query(input: Omit<QueryCommandInput, 'TableName'>, limit?: number): Promise<Item[]> {
    const items: Item[] = [];
    const pages = paginateQuery({
      client: this.client,
      ...(limit === undefined ? {} : {
        pageSize: Math.min(limit, 1000)
      })
    }, {
      TableName: this.tableName,
      ...input
    });
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
  const stringAttribute = (AttributeName: string) => ({
    AttributeName,
    AttributeType: 'S' as const
  });
  try {
    await client.send(new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [S.partitionKey, S.sortKey, S.gsi1.partitionKey, S.gsi1.sortKey, S.gsi2.partitionKey, S.gsi2.sortKey, S.gsi3.partitionKey, S.gsi3.sortKey].map(stringAttribute),
      KeySchema: [{
        AttributeName: S.partitionKey,
        KeyType: 'HASH'
      }, {
        AttributeName: S.sortKey,
        KeyType: 'RANGE'
      }],
      GlobalSecondaryIndexes: [S.gsi1, S.gsi2, S.gsi3].map(gsi => ({
        IndexName: gsi.indexName,
        KeySchema: [{
          AttributeName: gsi.partitionKey,
          KeyType: 'HASH' as const
        }, {
          AttributeName: gsi.sortKey,
          KeyType: 'RANGE' as const
        }],
        Projection: {
          ProjectionType: 'INCLUDE' as const,
          NonKeyAttributes: [...S.projectedAttributes]
        }
      }))
    }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({
    client,
    maxWaitTime: 120,
    minDelay: 1,
    maxDelay: 5
  }, {
    TableName
  });
  const table = await client.send(new DescribeTableCommand({
    TableName
  }));
  if (table.Table?.TableStatus !== 'ACTIVE') {
    throw new Error(`table ${TableName} is ${table.Table?.TableStatus ?? 'missing'}, not ACTIVE`);
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({
    TableName
  }));
  const ttlStatus = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (ttlStatus !== 'ENABLED' && ttlStatus !== 'ENABLING') {
    await client.send(new UpdateTimeToLiveCommand({
      TableName,
      TimeToLiveSpecification: {
        AttributeName: S.ttlAttribute,
        Enabled: true
      }
    }));
  }
}
function str(value: string): AttributeValue {
  return {
    S: value
  };
}
function num(value: number): AttributeValue {
  return {
    N: String(value)
  };
}
function key(pk: string, sk: string): Item {
  return {
    pk: str(pk),
    sk: str(sk)
  };
}
function sourceItem(source: SourceDefinition): Item {
  return {
    pk: str(SOURCES_PK),
    sk: str(`SOURCE#${source.name}`),
    entity: str('source'),
    name: str(source.name),
    connectorType: str(source.type),
    ...(source.schedule === undefined ? {} : {
      schedule: str(source.schedule)
    }),
    updatedAt: str(source.updatedAt),
    data: str(JSON.stringify(source))
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
  return new LeaseHeldError({
    source,
    owner,
    expiresAt: owner === undefined ? undefined : expiresAt
  }, {
    cause: error
  });
}

/** Names become key parts (`SOURCE#<name>`), so they are held to the snake_case the local store enforces. */
const NAME = /^[a-z][a-z0-9_]{0,127}$/;
function validateName(field: string, value: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new ValidationError(`${field} must be snake_case (a lowercase letter, then lowercase letters, digits or _; at most 128 characters), got ${JSON.stringify(value)}`, {
      field
    });
  }
  return value;
}
function validateRunId(value: string): string {
  const printable = typeof value === 'string' && [...value].every(c => c.charCodeAt(0) >= 0x20);
  if (!printable || value.length === 0 || value.length > 200) {
    throw new ValidationError(`runId must be 1-200 printable characters, got ${JSON.stringify(value)}`, {
      field: 'runId'
    });
  }
  return value;
}
function validateLease(source: string, owner: string, ttlMs: number): void {
  validateName('source', source);
  if (typeof owner !== 'string' || owner.length === 0) {
    throw new ValidationError('lease owner must be a non-empty string', {
      field: 'owner'
    });
  }
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ValidationError(`lease ttlMs must be a positive number, got ${ttlMs}`, {
      field: 'ttlMs'
    });
  }
}