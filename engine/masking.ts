/**
 * Masking at landing: fields a source marks `pii: hash | redact` per stream
 * are rewritten before a record reaches tie keys, cursors or the Parquet
 * writer, so raw never holds the clear value. `hash` is HMAC-SHA-256 (hex)
 * under a per-source salt kept in the secret store; `redact` is null.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  type BatchColumn,
  batchValue,
  type ColumnBatch,
  columnBatch,
  isNullAt,
} from '../connectors/sdk/column-batch.js';
import { stringifyExact } from '../connectors/sdk/json.js';
import { PreciseDate } from '../connectors/sdk/precise-date.js';
import type { ColumnType, SourceRecord, Stream } from '../connectors/sdk/types.js';
import { nullVector } from './column-batches.js';
import { ValidationError } from './errors.js';
import type { SecretStore } from './ports.js';
import { newSecretRevision, type SecretRef, secretName } from './secrets.js';

export const PiiAction = {
  /** Salted HMAC-SHA-256, hex: equal clear values give equal masks, so keys still join and merge. */
  hash: 'hash',
  /** Null. */
  redact: 'redact',
} as const;
export type PiiAction = (typeof PiiAction)[keyof typeof PiiAction];

/** Per stream, per field: how the field is masked. */
export type PiiDeclarations = Readonly<Record<string, Readonly<Record<string, PiiAction>>>>;

const ACTIONS = new Set<string>(Object.values(PiiAction));

/** Checks a source's `pii` block; the error names the field at fault (`pii.<stream>.<field>`). */
export function parsePii(input: unknown): PiiDeclarations {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(
      '"pii" must be an object of streams, each an object of field: "hash" | "redact"',
      {
        field: 'pii',
      },
    );
  }
  const out: Record<string, Record<string, PiiAction>> = {};
  for (const [stream, fields] of Object.entries(input as Record<string, unknown>)) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new ValidationError(`"pii.${stream}" must be an object of field: "hash" | "redact"`, {
        field: `pii.${stream}`,
      });
    }
    const actions: Record<string, PiiAction> = {};
    for (const [field, action] of Object.entries(fields as Record<string, unknown>)) {
      if (typeof action !== 'string' || !ACTIONS.has(action)) {
        throw new ValidationError(
          `"pii.${stream}.${field}" must be "hash" or "redact" (got ${JSON.stringify(action)})`,
          { field: `pii.${stream}.${field}` },
        );
      }
      actions[field] = action as PiiAction;
    }
    if (Object.keys(actions).length > 0) out[stream] = actions;
  }
  return out;
}

/**
 * Creates a source's salt (32 random bytes, hex) in the secret store; returns
 * the reference kept in state. Named like a config secret at path
 * `pii-salt`, with a revision of its own, so undoing a failed registration
 * never removes another registration's salt.
 */
export async function createSalt(source: string, store: SecretStore): Promise<SecretRef> {
  const name = secretName(source, 'pii-salt', newSecretRevision());
  return { $secret: await store.put(name, randomBytes(32).toString('hex')) };
}

/** Rewrites one stream's records; undefined when the stream masks nothing. */
export interface StreamMasker {
  readonly actions: Readonly<Record<string, PiiAction>>;
  mask(record: SourceRecord): SourceRecord;
  /** The same masking over a column batch: hashed columns become hex strings, redacted ones null. */
  maskBatch(batch: ColumnBatch): ColumnBatch;
  /** The declared columns with hashed fields as strings (a hash of an int is text) and redacted ones present. */
  columns(declared: Readonly<Record<string, ColumnType>> | undefined): Record<string, ColumnType>;
}

function clearText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof PreciseDate) return value.toPreciseISOString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object') return stringifyExact(value);
  return String(value);
}

/** HMAC-SHA-256 of the value's text under the salt, hex. */
export function hashValue(value: unknown, salt: string): string {
  return createHmac('sha256', salt).update(clearText(value)).digest('hex');
}

const HEX_BYTES = 64;

/** A column's hashes (64 hex bytes per value), nulls kept. */
function hashedVector(column: BatchColumn, rows: number, salt: string): BatchColumn['data'] {
  const values = Buffer.alloc((rows - column.data.nullCount) * HEX_BYTES);
  const offsets = new Int32Array(rows + 1);
  let at = 0;
  for (let i = 0; i < rows; i++) {
    if (!isNullAt(column.data, i)) at += values.write(hashValue(batchValue(column, i), salt), at, 'latin1');
    offsets[i + 1] = at;
  }
  return { validity: column.data.validity, nullCount: column.data.nullCount, values, offsets };
}

/**
 * The masker of one stream. A redacted primary-key field would make every
 * key null, and a masked cursor field would put its clear value in the
 * cursor state: both are refused.
 */
/** Refuses actions the stream cannot take: a redacted key (every key null), a masked cursor (kept in state in the clear). */
function checkStreamPii(source: string, stream: Stream, actions: Readonly<Record<string, PiiAction>>): void {
  for (const [field, action] of Object.entries(actions)) {
    const at = `pii.${stream.name}.${field}`;
    if (action === PiiAction.redact && stream.primaryKey.includes(field)) {
      throw new ValidationError(
        `"${at}" redacts a primary-key field of ${source}.${stream.name}; every key would be null (use "hash")`,
        { field: at },
      );
    }
    if (stream.incremental?.cursorField === field) {
      throw new ValidationError(
        `"${at}" masks the cursor field of ${source}.${stream.name}; the cursor is kept in state in the clear`,
        { field: at },
      );
    }
  }
}

/**
 * What a source's syncs would refuse about its `pii`, checked when it is
 * registered: a stream it does not have, and the actions checkStreamPii
 * refuses. For connectors whose streams are declared by their config.
 */
export function checkPii(source: string, pii: PiiDeclarations, streams: readonly Stream[]): void {
  for (const [name, actions] of Object.entries(pii)) {
    const stream = streams.find((s) => s.name === name);
    if (!stream) {
      throw new ValidationError(
        `"pii.${name}": source "${source}" has no stream "${name}"; streams: ${streams.map((s) => s.name).join(', ') || 'none'}`,
        { field: `pii.${name}` },
      );
    }
    checkStreamPii(source, stream, actions);
  }
}

export function streamMasker(
  source: string,
  stream: Stream,
  pii: PiiDeclarations | undefined,
  salt: string | undefined,
): StreamMasker | undefined {
  const actions = pii?.[stream.name];
  if (!actions || Object.keys(actions).length === 0) return undefined;
  checkStreamPii(source, stream, actions);
  if (salt === undefined || salt.length === 0) {
    // Fail closed: without the salt nothing may land.
    throw new ValidationError(`source "${source}" masks fields but has no pii salt in the secret store`, {
      field: 'pii',
    });
  }
  const entries = Object.entries(actions);
  return {
    actions,
    mask(record) {
      const out: Record<string, unknown> = { ...record };
      for (const [field, action] of entries) {
        if (!(field in out)) continue;
        const value = out[field];
        if (value === null || value === undefined) continue;
        out[field] = action === PiiAction.hash ? hashValue(value, salt) : null;
      }
      return out as SourceRecord;
    },
    maskBatch(batch) {
      const columns = batch.columns.map((column): BatchColumn => {
        const action = Object.hasOwn(actions, column.name) ? actions[column.name] : undefined;
        if (action === undefined) return column;
        if (action === PiiAction.redact) return { ...column, data: nullVector(column.type, batch.rows) };
        return { name: column.name, type: 'string', data: hashedVector(column, batch.rows, salt) };
      });
      return columnBatch(batch.rows, columns);
    },
    columns(declared) {
      // A hash is text; a redacted field keeps its declared type, else is declared text so the column exists.
      const out: Record<string, ColumnType> = { ...declared };
      for (const [field, action] of entries)
        if (action === PiiAction.hash || out[field] === undefined) out[field] = 'string';
      return out;
    },
  };
}
