/**
 * The quality stage: the checks declared with the source
 * (`SourceDefinition.quality`, per stream) run over the rows this run landed
 * (`_sluice_run_id`), in SQL both engines speak; volume compares the run's
 * row count with the stream's recent runs by a robust z-score (median and
 * MAD). Tombstones are only held to key checks.
 */
import { DELETED_FIELD, type Stream } from '../../connectors/sdk/types.js';
import { catalogTableName } from '../catalog-rules.js';
import { ValidationError } from '../errors.js';
import { parseTimestampMicros } from '../parquet/values.js';
import type {
  Catalog,
  QualityResult,
  QueryEngine,
  RunRecord,
  SourceDefinition,
  StateStore,
} from '../ports.js';
import { quoteIdentifier as q, quoteString } from './merge-sql.js';

export const QualitySeverity = { error: 'error', warn: 'warn' } as const;
export type QualitySeverity = (typeof QualitySeverity)[keyof typeof QualitySeverity];

interface Base {
  /** @default 'error' */
  readonly severity?: QualitySeverity;
}
export type QualityCheck = Base &
  (
    | { readonly type: 'not_null'; readonly column: string }
    | { readonly type: 'unique'; readonly columns?: readonly string[] }
    | {
        readonly type: 'accepted_values';
        readonly column: string;
        readonly values: readonly (string | number | boolean)[];
      }
    | { readonly type: 'range'; readonly column: string; readonly min?: number; readonly max?: number }
    | { readonly type: 'regex'; readonly column: string; readonly pattern: string }
    | { readonly type: 'freshness'; readonly maxAgeMinutes: number }
    | { readonly type: 'volume'; readonly maxZ?: number; readonly minRuns?: number; readonly window?: number }
  );

export type QualityDeclarations = Readonly<Record<string, readonly QualityCheck[]>>;

const TYPES = ['not_null', 'unique', 'accepted_values', 'range', 'regex', 'freshness', 'volume'];

/** Checks the shape of `quality` in a source definition; the message names the field at fault. */
export function parseQuality(input: unknown): QualityDeclarations {
  const fail = (field: string, message: string): never => {
    throw new ValidationError(`"${field}" ${message}`, { field });
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail('quality', 'must be an object of stream name → list of checks');
  }
  for (const [stream, checks] of Object.entries(input)) {
    if (!Array.isArray(checks)) fail(`quality.${stream}`, 'must be a list of checks');
    for (const [i, check] of (checks as unknown[]).entries()) {
      const at = `quality.${stream}[${i}]`;
      if (typeof check !== 'object' || check === null) fail(at, 'must be an object');
      const c = check as Record<string, unknown>;
      if (!TYPES.includes(String(c.type))) fail(`${at}.type`, `must be one of ${TYPES.join(', ')}`);
      if (c.severity !== undefined && c.severity !== 'error' && c.severity !== 'warn') {
        fail(`${at}.severity`, 'must be "error" or "warn"');
      }
      const needsColumn = ['not_null', 'accepted_values', 'range', 'regex'].includes(String(c.type));
      if (needsColumn && (typeof c.column !== 'string' || c.column === ''))
        fail(`${at}.column`, 'is required');
      if (c.type === 'accepted_values' && !Array.isArray(c.values)) fail(`${at}.values`, 'must be a list');
      if (c.type === 'range' && typeof c.min !== 'number' && typeof c.max !== 'number') {
        fail(`${at}`, 'needs "min" or "max"');
      }
      if (c.type === 'regex') {
        try {
          new RegExp(String(c.pattern));
        } catch {
          fail(`${at}.pattern`, 'is not a regular expression');
        }
      }
      if (c.type === 'freshness' && !(typeof c.maxAgeMinutes === 'number' && c.maxAgeMinutes > 0)) {
        fail(`${at}.maxAgeMinutes`, 'must be a positive number');
      }
    }
  }
  return input as QualityDeclarations;
}

export interface QualityDeps {
  readonly catalog: Catalog;
  readonly state: StateStore;
  readonly engine: () => Promise<QueryEngine>;
  readonly clock?: () => Date;
}

function label(check: QualityCheck, key: readonly string[]): string {
  switch (check.type) {
    case 'not_null':
    case 'accepted_values':
    case 'range':
    case 'regex':
      return `${check.type}(${check.column})`;
    case 'unique':
      return `unique(${(check.columns ?? key).join(', ')})`;
    case 'freshness':
    case 'volume':
      return check.type;
  }
}

type AcceptedValue = string | number | boolean;

/** `value` as a SQL literal of the column's lake type, in both dialects; undefined when no value of that type equals it. */
function literalOf(type: string, value: AcceptedValue): string | undefined {
  const text = String(value).trim();
  switch (type.startsWith('decimal(') ? 'double' : type) {
    case 'int':
    case 'bigint':
      return typeof value !== 'boolean' && /^[+-]?\d+$/.test(text) ? BigInt(text).toString() : undefined;
    case 'double':
      // CAST of a text: `1e21` and `0.1` mean the same to both engines (a bare 1e21 does not parse as SQL).
      return typeof value !== 'boolean' && text !== '' && Number.isFinite(Number(text))
        ? `CAST(${quoteString(text)} AS DOUBLE)`
        : undefined;
    case 'boolean':
      return /^(true|false)$/i.test(text) ? text.toLowerCase() : undefined;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(text) ? `DATE ${quoteString(text)}` : undefined;
    case 'timestamp': {
      // Read as the engine reads timestamps when it lands them (no offset means UTC, not this machine's
      // zone); written to the millisecond, the precision Athena reads raw (Hive) timestamps at.
      const micros = typeof value === 'string' ? parseTimestampMicros(text) : Number.NaN;
      if (Number.isNaN(micros)) return undefined;
      const at = new Date(Math.floor(micros / 1000)).toISOString().replace('T', ' ').replace('Z', '');
      return `TIMESTAMP ${quoteString(at)}`;
    }
    default:
      return quoteString(String(value));
  }
}

/**
 * The failing-row predicate of `accepted_values`: `column` (quoted) is not
 * NULL and equals none of `values`. Each value is written as a literal of
 * the column's lake type, so `"status_code" NOT IN (200, 404)` on a string
 * column becomes `NOT IN ('200', '404')`: Trino (Athena) refuses to compare
 * a column with literals of another type (TYPE_MISMATCH), where DuckDB
 * casts. A value no value of the column's type can equal (`"abc"` for a
 * bigint column) is left out; with none left, every non-NULL value fails.
 */
export function acceptedValuesPredicate(
  column: string,
  type: string,
  values: readonly AcceptedValue[],
): string {
  const literals = [...new Set(values.flatMap((v) => literalOf(type, v) ?? []))];
  return literals.length === 0
    ? `${column} IS NOT NULL`
    : `${column} IS NOT NULL AND ${column} NOT IN (${literals.join(', ')})`;
}

/** Runs every declared check on the run's rows; returns one result per check. */
export async function runQuality(
  deps: QualityDeps,
  source: SourceDefinition,
  run: RunRecord,
  streams: readonly Stream[],
): Promise<QualityResult[]> {
  const declared: QualityDeclarations = source.quality ?? {};
  const results: QualityResult[] = [];
  for (const [streamName, checks] of Object.entries(declared)) {
    if (checks.length === 0) continue;
    const table = await deps.catalog.getTable(source.name, streamName);
    if (!table) continue; // nothing landed yet
    const latest = table.schemaVersions.at(-1);
    const names = latest?.names ?? {};
    const col = (field: string) => names[field] ?? field;
    const key = table.primaryKey.map(col);
    const columns = new Set((latest?.columns ?? []).map((c) => c.name));
    const typeOf = new Map((latest?.columns ?? []).map((c) => [c.name, c.type]));
    const from = q(catalogTableName(source.name, streamName));
    const ofRun = `${q('_sluice_run_id')} = ${quoteString(run.runId)}`;
    const live = columns.has(DELETED_FIELD) ? ` AND NOT coalesce(${q(DELETED_FIELD)}, false)` : '';
    const keyList = key.length > 0 ? key.map(q).join(', ') : '*';
    const engine = await deps.engine();
    const regex = (c: string, p: string) =>
      engine.dialect === 'athena'
        ? `regexp_like(${c}, ${quoteString(p)})`
        : `regexp_matches(${c}, ${quoteString(p)})`;
    for (const check of checks) {
      const severity = check.severity ?? 'error';
      const name = label(check, key);
      const result = (
        failingRows: number,
        rows: number,
        sampleKeys: string[],
        message: string,
        passed = failingRows === 0,
      ): QualityResult => ({
        stream: streamName,
        check: name,
        severity,
        passed,
        failingRows,
        rows,
        sampleKeys,
        message: passed ? `${name} passed` : `${name} failed: ${message}`,
      });
      const rowCheck = async (failing: string, scope: string): Promise<QualityResult> => {
        const counted = await engine.query(
          `SELECT count(*) AS "rows", count_if(${failing}) AS "failing" FROM ${from} WHERE ${ofRun}${scope}`,
        );
        const rows = Number(counted.rows[0]?.rows ?? 0);
        const failingRows = Number(counted.rows[0]?.failing ?? 0);
        const sample =
          failingRows > 0 && key.length > 0
            ? (
                await engine.query(
                  `SELECT ${keyList} FROM ${from} WHERE ${ofRun}${scope} AND (${failing}) ORDER BY ${keyList} LIMIT 5`,
                )
              ).rows.map((r) => JSON.stringify(key.length === 1 ? r[key[0]!] : key.map((k) => r[k])))
            : [];
        return result(failingRows, rows, sample, `${failingRows} of ${rows} rows`);
      };
      switch (check.type) {
        case 'not_null':
          results.push(await rowCheck(`${q(col(check.column))} IS NULL`, live));
          break;
        case 'accepted_values':
          results.push(
            await rowCheck(
              acceptedValuesPredicate(
                q(col(check.column)),
                typeOf.get(col(check.column)) ?? 'string',
                check.values,
              ),
              live,
            ),
          );
          break;
        case 'range': {
          const c = q(col(check.column));
          const parts = [
            ...(check.min !== undefined ? [`${c} < ${check.min}`] : []),
            ...(check.max !== undefined ? [`${c} > ${check.max}`] : []),
          ];
          results.push(await rowCheck(`${c} IS NOT NULL AND (${parts.join(' OR ')})`, live));
          break;
        }
        case 'regex': {
          const c = q(col(check.column));
          results.push(
            await rowCheck(`${c} IS NOT NULL AND NOT ${regex(`CAST(${c} AS VARCHAR)`, check.pattern)}`, live),
          );
          break;
        }
        case 'unique': {
          const cols = (check.columns ?? table.primaryKey).map(col);
          const list = cols.map(q).join(', ');
          const dupes = await engine.query(
            `SELECT ${list}, count(*) AS "n" FROM ${from} WHERE ${ofRun} GROUP BY ${list} HAVING count(*) > 1 ORDER BY ${list}`,
          );
          const total = await engine.query(`SELECT count(*) AS "rows" FROM ${from} WHERE ${ofRun}`);
          const failingRows = dupes.rows.reduce((sum, r) => sum + Number(r.n), 0);
          const sample = dupes.rows
            .slice(0, 5)
            .map((r) => JSON.stringify(cols.length === 1 ? r[cols[0]!] : cols.map((c) => r[c])));
          results.push(
            result(
              failingRows,
              Number(total.rows[0]?.rows ?? 0),
              sample,
              `${dupes.rows.length} keys appear more than once (${failingRows} rows)`,
            ),
          );
          break;
        }
        case 'freshness': {
          const field = streams.find((s) => s.name === streamName)?.incremental?.cursorField;
          if (field === undefined) {
            throw new ValidationError(
              `quality.${streamName}: freshness needs an incremental cursor, and the stream has none`,
              {
                field: `quality.${streamName}`,
              },
            );
          }
          const newest = await engine.query(
            `SELECT max(${q(col(field))}) AS "newest", count(*) AS "rows" FROM ${from}`,
          );
          const value = newest.rows[0]?.newest;
          const now = (deps.clock ?? (() => new Date()))().getTime();
          const age = value == null ? Number.POSITIVE_INFINITY : (now - Date.parse(String(value))) / 60_000;
          const stale = !(age <= check.maxAgeMinutes);
          results.push(
            result(
              stale ? 1 : 0,
              Number(newest.rows[0]?.rows ?? 0),
              [],
              `newest ${field} is ${value == null ? 'missing' : `${Math.round(age)} minutes old`} (limit ${check.maxAgeMinutes})`,
            ),
          );
          break;
        }
        case 'volume': {
          const rows = run.streams[streamName]?.rows ?? 0;
          const history = (await deps.state.listRuns(source.name, (check.window ?? 20) + 1))
            .filter((r) => r.runId !== run.runId && r.streams[streamName] !== undefined)
            .map((r) => r.streams[streamName]!.rows);
          const z = robustZ(rows, history);
          const minRuns = check.minRuns ?? 5;
          const anomalous = history.length >= minRuns && Math.abs(z) > (check.maxZ ?? 3.5);
          // The verdict is the anomaly itself: a run that landed 0 rows has no failing rows to count.
          results.push(
            result(
              anomalous ? rows : 0,
              rows,
              [],
              `${rows} rows is ${z.toFixed(1)} robust z-scores from the median of ${history.length} recent runs`,
              !anomalous,
            ),
          );
          break;
        }
      }
    }
  }
  return results;
}

/** 0.6745 (x − median) / MAD; a constant history counts deviations against 5% of its median. */
export function robustZ(value: number, history: readonly number[]): number {
  if (history.length === 0) return 0;
  const median = medianOf(history);
  const mad = medianOf(history.map((h) => Math.abs(h - median)));
  const scale = mad > 0 ? mad : Math.max(1, median * 0.05);
  return (0.6745 * (value - median)) / scale;
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
