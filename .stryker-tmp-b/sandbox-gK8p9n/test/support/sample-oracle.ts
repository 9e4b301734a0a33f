/**
 * An oracle for exactly-once that is not the engine: the record versions a
 * lake must hold after N successful syncs of the sample source, derived from
 * the sample world itself.
 *
 * The sample world (connectors/sample/world.ts) is deterministic: epoch 0 is
 * the initial load, every later epoch one day of inserts, updates and
 * deletes, and sync n of a lake that never lost a run lands exactly epoch
 * n-1. So after N committed syncs the raw tables hold every change of epochs
 * 0..N-1 exactly once: one version per change, keyed by stream, id, cursor
 * instant and tombstone, with a digest of its content. Which keys change,
 * when, and whether they are deletes comes from the world's own change lists
 * (a fresh `KeyedTable`, not the connector's); the content of each version is
 * what the source shows when asked for that epoch in full, cross-checked
 * against the change list. Nothing here reads a cursor, a manifest or a lake.
 *
 * Versions are compared as sorted lists with duplicates kept: a record landed
 * twice is two entries, never folded into one.
 */
// @ts-nocheck

import { createHash } from 'node:crypto';
import { sampleConnector } from '../../connectors/sample/index.js';
import {
  BASE_TIME_MS,
  changeTime,
  DEFAULT_RATES,
  EPOCH_MS,
  KeyedTable,
} from '../../connectors/sample/world.js';
import { silentLogger } from '../../connectors/sdk/logger.js';
import { DELETED_FIELD, isCheckpoint, type SourceRecord } from '../../connectors/sdk/types.js';

export interface SampleWorldConfig {
  readonly rows: number;
  readonly seed: number;
  readonly pageSize: number;
}

export const SAMPLE_STREAMS = ['customers', 'orders', 'events'] as const;
export type SampleStream = (typeof SAMPLE_STREAMS)[number];

/** The cursor field of each sample stream. */
const CURSOR: Readonly<Record<SampleStream, string>> = {
  customers: 'updated_at',
  orders: 'updated_at',
  events: 'occurred_at',
};

type Field = { readonly name: string; readonly kind: 'text' | 'int' | 'cents' | 'bool' | 'time' | 'json' };

/** The content fields digested per stream, with how each is rendered the same way on both sides. */
const CONTENT: Readonly<Record<SampleStream, readonly Field[]>> = {
  customers: [
    { name: 'name', kind: 'text' },
    { name: 'email', kind: 'text' },
    { name: 'country', kind: 'text' },
    { name: 'tier', kind: 'text' },
    { name: 'signup_at', kind: 'time' },
    { name: 'lifetime_value', kind: 'cents' },
    { name: 'is_active', kind: 'bool' },
    { name: 'tags', kind: 'json' },
  ],
  orders: [
    { name: 'customer_id', kind: 'int' },
    { name: 'status', kind: 'text' },
    { name: 'amount', kind: 'cents' },
    { name: 'currency', kind: 'text' },
    { name: 'items', kind: 'int' },
    { name: 'shipping', kind: 'json' },
    { name: 'note', kind: 'text' },
    { name: 'created_at', kind: 'time' },
  ],
  events: [
    { name: 'customer_id', kind: 'int' },
    { name: 'type', kind: 'text' },
    { name: 'properties', kind: 'json' },
  ],
};

const ABSENT = '∅';

function renderValue(value: unknown, kind: Field['kind']): string {
  if (value === null || value === undefined) return ABSENT;
  switch (kind) {
    case 'text':
    case 'bool':
      return String(value);
    case 'int':
      return String(Math.trunc(Number(value)));
    case 'cents':
      return String(Math.round(Number(value) * 100));
    case 'time':
      return String(value instanceof Date ? value.getTime() : Date.parse(String(value)));
    case 'json':
      return JSON.stringify(value);
  }
}

function digest(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** `stream|id|cursorMs|deleted|contentDigest`: one record version. */
function version(
  stream: SampleStream,
  id: string,
  cursorMs: number,
  deleted: boolean,
  content: string,
): string {
  return `${stream}|${id}|${cursorMs}|${deleted}|${digest(content)}`;
}

/** The same rendering in DuckDB SQL (the local query engine, and the Athena view of the AWS tier). */
function sqlValue(field: Field): string {
  const column = `"${field.name}"`;
  const rendered = {
    text: `CAST(${column} AS VARCHAR)`,
    bool: `CAST(${column} AS VARCHAR)`,
    int: `CAST(CAST(${column} AS BIGINT) AS VARCHAR)`,
    cents: `CAST(CAST(round(${column} * 100) AS BIGINT) AS VARCHAR)`,
    time: `CAST(epoch_ms(${column}) AS VARCHAR)`,
    json: `CAST(${column} AS VARCHAR)`,
  }[field.kind];
  return `coalesce(${rendered}, '${ABSENT}')`;
}

/**
 * SQL that returns one row `{ v }` per landed sample record, rendered as the
 * oracle renders a version. `table(stream)` names each stream's table.
 */
export function sampleVersionsSql(table: (stream: SampleStream) => string): string {
  return SAMPLE_STREAMS.map(
    (stream) =>
      `SELECT concat_ws('|', '${stream}', CAST(id AS VARCHAR), CAST(epoch_ms(${CURSOR[stream]}) AS VARCHAR), ` +
      `CAST(coalesce(_sluice_deleted, false) AS VARCHAR), ` +
      `md5(concat_ws('|', ${CONTENT[stream].map(sqlValue).join(', ')}))) AS v FROM ${table(stream)}`,
  ).join('\nUNION ALL ');
}

/** Sorted versions from the rows `sampleVersionsSql` returned (duplicates kept). */
export function versionsOf(rows: readonly Record<string, unknown>[]): string[] {
  return rows.map((row) => String(row.v)).sort();
}

interface Change {
  readonly key: string;
  readonly timeMs: number;
  readonly deleted: boolean;
}

export class SampleOracle {
  private readonly customers: KeyedTable;
  private readonly orders: KeyedTable;
  private readonly epochs = new Map<number, Readonly<Record<SampleStream, readonly string[]>>>();

  public constructor(private readonly config: SampleWorldConfig) {
    this.customers = new KeyedTable(
      'customers',
      config.seed,
      Math.max(10, Math.round(config.rows / 10)),
      DEFAULT_RATES,
    );
    this.orders = new KeyedTable('orders', config.seed, config.rows, DEFAULT_RATES);
  }

  /** Every version a never-failing lake holds after `syncs` successful syncs, sorted, duplicates kept. */
  public async versionsAfter(syncs: number): Promise<string[]> {
    const all: string[] = [];
    for (let epoch = 0; epoch < syncs; epoch++) {
      const versions = await this.epoch(epoch);
      for (const stream of SAMPLE_STREAMS) all.push(...versions[stream]);
    }
    return all.sort();
  }

  /** How many records the sync that lands `epoch` reads per stream (its run record's rows). */
  public async rowsOfEpoch(epoch: number): Promise<Record<SampleStream, number>> {
    const versions = await this.epoch(epoch);
    return {
      customers: versions.customers.length,
      orders: versions.orders.length,
      events: versions.events.length,
    };
  }

  /** The world's changes of one epoch, per stream, in the world's order. */
  private changes(stream: SampleStream, epoch: number): Change[] {
    if (stream === 'events') {
      const count = epoch === 0 ? this.config.rows : Math.max(1, Math.round(this.config.rows * 0.05));
      return Array.from({ length: count }, (_, i) => ({
        key: `evt_${epoch}_${i}`,
        timeMs: changeTime(epoch, i, count).getTime(),
        deleted: false,
      }));
    }
    const changes = (stream === 'customers' ? this.customers : this.orders).changes(epoch);
    return changes.map((change, i) => ({
      key: String(change.key),
      timeMs: changeTime(epoch, i, changes.length).getTime(),
      deleted: change.kind === 'delete',
    }));
  }

  private async epoch(epoch: number): Promise<Readonly<Record<SampleStream, readonly string[]>>> {
    // Epochs are computed in order: the world's keyed tables depend on the deletes before.
    for (let e = this.epochs.size; e <= epoch; e++) this.epochs.set(e, await this.computeEpoch(e));
    return this.epochs.get(epoch)!;
  }

  private async computeEpoch(epoch: number): Promise<Record<SampleStream, string[]>> {
    const shown = await this.sourceRecords(epoch);
    const out = { customers: [] as string[], orders: [] as string[], events: [] as string[] };
    for (const stream of SAMPLE_STREAMS) {
      const byKey = new Map<string, SourceRecord>();
      for (const record of shown[stream])
        byKey.set(`${String(record.id)}@${this.timeOf(stream, record)}`, record);
      const changes = this.changes(stream, epoch);
      if (shown[stream].length !== changes.length) {
        throw new Error(
          `oracle: the sample source shows ${shown[stream].length} ${stream} records for epoch ${epoch}, the world has ${changes.length} changes`,
        );
      }
      for (const change of changes) {
        const record = byKey.get(`${change.key}@${change.timeMs}`);
        if (!record)
          throw new Error(
            `oracle: the sample source does not show ${stream} ${change.key} of epoch ${epoch}`,
          );
        if ((record[DELETED_FIELD] === true) !== change.deleted) {
          throw new Error(
            `oracle: ${stream} ${change.key} of epoch ${epoch} disagrees with the world on deletion`,
          );
        }
        const content = CONTENT[stream].map((f) => renderValue(record[f.name], f.kind)).join('|');
        out[stream].push(version(stream, change.key, change.timeMs, change.deleted, content));
      }
    }
    return out;
  }

  private timeOf(stream: SampleStream, record: SourceRecord): number {
    const value = record[CURSOR[stream]];
    return value instanceof Date ? value.getTime() : Date.parse(String(value));
  }

  /** What the source shows for one whole epoch: everything from the epoch's first instant, cut at its end. */
  private async sourceRecords(epoch: number): Promise<Record<SampleStream, SourceRecord[]>> {
    const streams = await sampleConnector.streams(this.config);
    const start = BASE_TIME_MS + epoch * EPOCH_MS;
    const out = {
      customers: [] as SourceRecord[],
      orders: [] as SourceRecord[],
      events: [] as SourceRecord[],
    };
    for (const stream of streams) {
      const name = stream.name as SampleStream;
      const read = stream.read({
        since: epoch === 0 ? undefined : new Date(start).toISOString(),
        committedCursor: undefined,
        signal: new AbortController().signal,
        logger: silentLogger,
      });
      for await (const item of read) {
        if (isCheckpoint(item)) continue;
        for (const record of Array.isArray(item) ? (item as SourceRecord[]) : [item as SourceRecord]) {
          const t = this.timeOf(name, record);
          if (t >= start && t < start + EPOCH_MS) out[name].push(record);
        }
      }
    }
    return out;
  }
}
