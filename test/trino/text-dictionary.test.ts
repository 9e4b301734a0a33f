/**
 * Text columns dictionary-encoded in JavaScript (ADR 0017) read by Trino,
 * Athena engine v3's engine, which is stricter than DuckDB: the writer
 * splices its own column chunks (a PLAIN dictionary page, RLE_DICTIONARY
 * data pages, statistics, a column index and an offset index) among
 * parquet-rs's, and one column may hold chunks of both. One
 * file, declared as a Hive external table with the Athena DDL the stages
 * use, is queried with predicates Trino answers through the row-group
 * statistics, dictionaries and page indexes (skipping groups and pages it
 * believes hold no match), and every answer is compared with an oracle
 * computed here from the generated rows, in Parquet's order for UTF-8
 * (unsigned bytes: Buffer.compare).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrinoQueryEngine } from '../../adapters/trino/query-engine.js';
import { random } from '../../connectors/sample/world.js';
import type { SourceRecord } from '../../connectors/sdk/types.js';
import { createParquetWriter, type ParquetColumn } from '../../engine/parquet/index.js';
import { PAGE_ROWS } from '../../engine/parquet/text-dictionary.js';
import { MAX_TEXT_IDS } from '../../engine/parquet/text-ids.js';
import { useDuckScratch } from '../support/duck-scratch.js';

const COLUMNS: readonly ParquetColumn[] = [
  { name: 'id', type: 'bigint' },
  { name: 'status', type: 'string' },
  { name: 'name', type: 'string' },
  { name: 'code', type: 'string' },
  { name: 'ref', type: 'string' },
  { name: 'note', type: 'string' },
  { name: 'amount', type: 'double' },
];
const TEXT = ['status', 'name', 'code', 'ref', 'note'] as const;
type Text = (typeof TEXT)[number];

const ROWS = 120_000;
/**
 * Rows per write() call: the first fills more than a row group, which is cut
 * while `code` is still numbered (the interner stops only after the write);
 * the rest are smaller, so cuts fall anywhere.
 */
const BATCHES = [40_000, 5_000, 7_001, 6_999, 333, 9_667, 6_000, 5_000, 10_000, 10_000, 20_000];
/** Groups of more than one page (20,480 rows), and several of them. */
const ROW_GROUP_BYTES = 2 * 1024 * 1024;

/** More than 100 bytes of UTF-8 (143). */
const LONG = `Ørsted ${'ß'.repeat(50)} ${'東'.repeat(10)} end`;
/**
 * Sets the values of a stretch of rows are drawn from, so row groups and
 * pages hold different values and statistics decide what Trino reads. Values
 * in a set share their first four bytes ('refu', 'ship', '東' + 1 byte,
 * '🚀'): only a full comparison orders them.
 */
const STATUS_SETS = [
  ['paid', 'pending'],
  ['refund_failed', 'refunded'],
  ['shipped', 'shipping'],
  ['paid', 'shipping'],
];
const NAME_SETS = [
  ['Søren', 'Zoë', 'alpha'],
  ['東京都', '東京', '東京タワー'],
  ['🚀 launch', '🚀 landing', ''],
  [LONG, 'Zoë', '～wave'],
  ['', 'Søren', '🚀 launch'],
  ['alpha', 'Zoë', '東京'],
  ['Søren', 'Zoë', '東京', '🚀 launch', '', LONG, '～wave', 'alpha'],
];

interface Row {
  id: number;
  status: string | null;
  name: string | null;
  code: string | null;
  ref: string | null;
  note: string | null;
  amount: number | null;
}

/**
 * `code`: distinct (a permutation of 0..ROWS-1, more values than an interner
 * numbers), so the writer stops numbering it part-way and parquet-rs writes
 * the rest plain. `ref`: long values, each twice, until their dictionary
 * page outgrows parquet-rs's 1 MiB limit (about row 46,600, where the interner
 * stops); then distinct values, twice as many as a row group holds (parquet-rs
 * again); then 37 values, which the encoder interns itself from their UTF-8.
 */
function generate(): Row[] {
  const rnd = random(20_261_127);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rnd() * values.length)]!;
  return Array.from({ length: ROWS }, (_, i) => ({
    id: i,
    status: rnd() < 0.2 ? null : pick(STATUS_SETS[Math.floor(i / 12_000) % STATUS_SETS.length]!),
    name: rnd() < 0.1 ? null : pick(NAME_SETS[Math.floor(i / 15_000) % NAME_SETS.length]!),
    code: i % 97 === 13 ? null : `code-${(i * 48_271) % ROWS}`,
    ref:
      i < 50_000
        ? `ref-${String(i >> 1).padStart(6, '0')}-${'r'.repeat(30)}`
        : i < 110_000
          ? `ref-${i}`
          : `shared-${i % 37}`,
    note: null,
    amount: rnd() < 0.05 ? null : Math.round(rnd() * 1e6) / 100,
  }));
}

/** Parquet's order for UTF-8 (and Trino's for varchar): unsigned bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function present(rows: readonly Row[], column: Text): string[] {
  return rows.flatMap((r) => (r[column] === null ? [] : [r[column]]));
}

function extremes(values: readonly string[]): { min: string | null; max: string | null } {
  const sorted = [...new Set(values)].sort(byteOrder);
  return { min: sorted[0] ?? null, max: sorted.at(-1) ?? null };
}

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

describe('text columns dictionary-encoded in JavaScript, on Trino', () => {
  const scratch = useDuckScratch('sluice-trino-text-');
  const schema = `text_${randomBytes(4).toString('hex')}`;
  let trino: TrinoQueryEngine | undefined;

  afterAll(async () => {
    // An external table: dropping it leaves the file (the scratch dir goes with the block).
    await trino?.run(`DROP TABLE IF EXISTS hive."${schema}"."text_dict"`);
    await trino?.run(`DROP SCHEMA IF EXISTS hive."${schema}"`);
  });

  it('reads every value, statistics and page index as written, where chunks of both encoders mix', async () => {
    // Prepare: one file through the JS text path (the default), in several writes, as a Hive table
    const rows = generate();
    const dir = join(scratch.dir, 'text_dict');
    await mkdir(dir);
    const path = join(dir, 'part-0.parquet');
    const handle = await open(path, 'w');
    const writer = createParquetWriter(COLUMNS, async (chunk) => void (await handle.write(chunk)), {
      rowGroupBytes: ROW_GROUP_BYTES,
    });
    try {
      let at = 0;
      for (const size of BATCHES) {
        await writer.write(rows.slice(at, at + size) as unknown as SourceRecord[]);
        at += size;
      }
      await writer.finish();
    } finally {
      await writer.close();
      await handle.close();
    }
    // The file is what the test means to read: several groups, some of more than a page; every text
    // column with values dictionary-encoded in JS (parquet-rs writes text plain here, by its sample),
    // except where `code` and `ref` were handed to parquet-rs.
    const chunks = (
      await scratch.db.runAndReadAll(
        `SELECT row_group_id AS g, row_group_num_rows AS n, path_in_schema AS c,
           CASE WHEN encodings LIKE '%RLE_DICTIONARY%' THEN 'dictionary' ELSE 'plain' END AS kind
         FROM parquet_metadata('${path}') ORDER BY g`,
      )
    ).getRowObjectsJS() as { g: bigint; n: bigint; c: string; kind: string }[];
    /** A column's chunk kinds in row order, repeats merged. */
    const runs = (column: string) =>
      chunks
        .filter((k) => k.c === column)
        .map((k) => k.kind)
        .filter((kind, g, all) => kind !== all[g - 1]);
    expect(new Set(chunks.map((k) => k.g)).size).toBeGreaterThanOrEqual(4);
    expect(Math.max(...chunks.map((k) => Number(k.n)))).toBeGreaterThan(PAGE_ROWS);
    expect(BATCHES.reduce((a, b) => a + b)).toBe(ROWS);
    expect(new Set(present(rows, 'code')).size).toBeGreaterThan(MAX_TEXT_IDS);
    expect(runs('status')).toEqual(['dictionary']);
    expect(runs('name')).toEqual(['dictionary']);
    // `code` numbered, then parquet-rs; `ref` numbered, then parquet-rs: plain while its values are
    // distinct, its own dictionary once they repeat.
    expect(runs('code')).toEqual(['dictionary', 'plain']);
    expect(runs('ref')).toEqual(['dictionary', 'plain', 'dictionary']);

    trino = new TrinoQueryEngine({
      url: process.env.SLUICE_TRINO_URL ?? 'http://127.0.0.1:18181',
      schema,
      locationOf: (key) => key,
      schemaLocation: `local://${scratch.dir}`,
    });
    await trino.query(
      `CREATE EXTERNAL TABLE \`text_dict\` (\`id\` bigint, \`status\` string, \`name\` string, \`code\` string,
       \`ref\` string, \`note\` string, \`amount\` double) STORED AS PARQUET LOCATION 'local://${dir}/'`,
    );
    const q = async (sql: string) => (await trino!.query(sql)).rows;
    // Equality and range predicates, one scan each so each is pruned by its own value.
    const equalities: [Text, string][] = [
      ...[...new Set(present(rows, 'status'))].map((v): [Text, string] => ['status', v]),
      ...[...new Set(present(rows, 'name'))].map((v): [Text, string] => ['name', v]),
      ['status', 'refund'],
      ['name', '東'],
      ['name', '🚀'],
      ['ref', rows[40_000]!.ref!],
      ['ref', rows[49_999]!.ref!],
      ['ref', 'ref-70000'],
      ['ref', 'shared-5'],
    ];
    const ranges: [Text, '<' | '<=' | '>' | '>=', string][] = [
      ['name', '>', '～'], // U+FF5E: before every 4-byte character ('🚀') in UTF-8, after them in UTF-16
      ['name', '>=', '東京'],
      ['name', '<', 'Zoë'],
      ['name', '<=', ''],
      ['status', '>', 'refund_failed'],
      ['code', '<', 'code-10'],
      ['ref', '>=', 'ref-9'],
    ];
    // Codes in the chunk numbered in JS (the first rows) and in parquet-rs's (the rest), and one absent.
    const codes = [0, 1, 3_333, 12_345, 20_480, 39_999, 65_535, 79_999, 99_999]
      .flatMap((id) => (rows[id]!.code === null ? [] : [rows[id]!.code!]))
      .concat(['code-79999', 'code-99999', `code-${ROWS}`]);
    // The first row of each name (non-ASCII, empty, long), and rows around pages and the interner's stops.
    const ids = [
      ...new Set([
        ...[...new Set(present(rows, 'name'))].map((v) => rows.find((r) => r.name === v)!.id),
        ...[
          0,
          20_479,
          20_480,
          39_999,
          40_000,
          40_961,
          46_601,
          46_602,
          49_999,
          50_000,
          109_999,
          110_000,
          ROWS - 1,
        ],
      ]),
    ].sort((a, b) => a - b);

    // Act
    const [counts] = await q(
      `SELECT count(*) AS n, ${TEXT.map((c) => `count_if(${c} IS NULL) AS ${c}_nulls`).join(', ')},
         count_if(amount IS NULL) AS amount_nulls, count(DISTINCT code) AS codes, count(DISTINCT ref) AS refs,
         count(DISTINCT name) AS names, count(DISTINCT status) AS statuses
       FROM text_dict`,
    );
    const byValue = await q(
      equalities
        .map(
          ([c, v], k) =>
            `SELECT ${k} AS k, count(*) AS n, min(id) AS first, max(id) AS last FROM text_dict WHERE ${c} = ${sqlString(v)}`,
        )
        .join(' UNION ALL '),
    );
    const byRange = await q(
      ranges
        .map(
          ([c, op, v], k) =>
            `SELECT ${k} AS k, count(*) AS n FROM text_dict WHERE ${c} ${op} ${sqlString(v)}`,
        )
        .join(' UNION ALL '),
    );
    const byCode = await q(
      `SELECT code, id FROM text_dict WHERE code IN (${codes.map(sqlString).join(', ')}) ORDER BY code, id`,
    );
    const last = await q("SELECT id FROM text_dict WHERE code = 'code-79999'");
    const [bounds] = await q(
      `SELECT ${TEXT.map((c) => `min(${c}) AS min_${c}, max(${c}) AS max_${c}`).join(', ')} FROM text_dict`,
    );
    // The id's page index leads Trino to the text columns' pages through their offset indexes.
    const picked = await q(
      `SELECT id, status, name, code, ref, note, amount FROM text_dict WHERE id IN (${ids.join(', ')}) ORDER BY id`,
    );
    const all = await q('SELECT id, status, name, code, ref, note, amount FROM text_dict ORDER BY id');
    const plan = (await q("EXPLAIN ANALYZE SELECT count(*) FROM text_dict WHERE name = '東京'"))
      .map((r) => String(Object.values(r)[0]))
      .join('\n');

    // Assess
    expect(counts).toEqual({
      n: ROWS,
      ...Object.fromEntries(TEXT.map((c) => [`${c}_nulls`, rows.filter((r) => r[c] === null).length])),
      amount_nulls: rows.filter((r) => r.amount === null).length,
      codes: new Set(present(rows, 'code')).size,
      refs: new Set(present(rows, 'ref')).size,
      names: new Set(present(rows, 'name')).size,
      statuses: new Set(present(rows, 'status')).size,
    });
    const expectedByValue = equalities.map(([c, v], k) => {
      const matching = rows.filter((r) => r[c] === v).map((r) => r.id);
      return { k, n: matching.length, first: matching[0] ?? null, last: matching.at(-1) ?? null };
    });
    expect(expectedByValue.find((e) => equalities[e.k]![1] === '東京')!.n).toBeGreaterThan(0);
    expect([...byValue].sort((a, b) => Number(a.k) - Number(b.k))).toEqual(expectedByValue);
    const holds = {
      '<': (d: number) => d < 0,
      '<=': (d: number) => d <= 0,
      '>': (d: number) => d > 0,
      '>=': (d: number) => d >= 0,
    };
    expect([...byRange].sort((a, b) => Number(a.k) - Number(b.k))).toEqual(
      ranges.map(([c, op, v], k) => ({
        k,
        n: present(rows, c).filter((x) => holds[op](byteOrder(x, v))).length,
      })),
    );
    expect(byCode).toEqual(
      rows
        .filter((r) => r.code !== null && codes.includes(r.code))
        .map((r) => ({ code: r.code, id: r.id }))
        .sort((a, b) => byteOrder(a.code!, b.code!) || a.id - b.id),
    );
    expect(last).toEqual([{ id: rows.find((r) => r.code === 'code-79999')!.id }]);
    expect(bounds).toEqual(
      Object.fromEntries(
        TEXT.flatMap((c) => {
          const { min, max } = extremes(present(rows, c));
          return [
            [`min_${c}`, min],
            [`max_${c}`, max],
          ];
        }),
      ),
    );
    expect(bounds).toMatchObject({ min_name: '', max_name: '🚀 launch', min_note: null, max_note: null });
    expect(picked).toEqual(ids.map((id) => rows[id]));
    expect(picked.map((r) => r.name)).toEqual(
      expect.arrayContaining(['Søren', 'Zoë', '東京', '🚀 launch', '', LONG]),
    );
    expect(all.length).toBe(ROWS);
    expect(all).toEqual(rows);
    // Trino read fewer rows than the file holds for a rare value: statistics, dictionaries or page
    // indexes of the JS chunks decided what it skipped (so the counts above went through them).
    const scanned = /ScanFilterProject[\s\S]*?Input: (\d+) rows/.exec(plan)?.[1];
    expect(Number(scanned)).toBeLessThan(ROWS);
  });
});
