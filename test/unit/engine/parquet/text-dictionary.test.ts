/**
 * Text columns dictionary-encoded in JavaScript (ADR 0017), read back by two
 * readers that share no code with the writer: DuckDB and parquet-rs (the
 * reader of parquet-wasm). The oracle is the generated rows themselves, and
 * the same rows written through parquet-rs alone (`textInJs: false`).
 */
import { open, readFile } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { describe, expect, it, vi } from 'vitest';
import { random } from '../../../../connectors/sample/world.js';
import type { SourceRecord } from '../../../../connectors/sdk/types.js';
import {
  type ColumnData,
  createParquetWriter,
  type ParquetColumn,
  type ParquetWriterOptions,
} from '../../../../engine/parquet/index.js';
import { lowerBound, PAGE_ROWS, upperBound } from '../../../../engine/parquet/text-dictionary.js';
import {
  decodeStruct,
  intField,
  listField,
  structField,
  type ThriftStruct,
} from '../../../../engine/parquet/thrift.js';
import { useDuckScratch } from '../../../support/duck-scratch.js';

const COLUMNS: readonly ParquetColumn[] = [
  { name: 'id', type: 'bigint' },
  { name: 'status', type: 'string' },
  { name: 'name', type: 'string' },
  { name: 'code', type: 'string' },
  { name: 'note', type: 'string' },
  { name: 'doc', type: 'json' },
  { name: 'amount', type: 'double' },
];
const TEXT = ['status', 'name', 'code', 'note'] as const;

// A lone surrogate has no UTF-8 form: it lands as U+FFFD, as Buffer writes it.
const NAMES = [
  'Søren',
  'Zoë',
  '東京',
  '🚀 launch',
  '',
  'a',
  'ab',
  'b',
  'x'.repeat(300),
  'É',
  '\u{10FFFF}',
  '\uE000',
  '\uD800x',
];

/** A value as it reads back from UTF-8. */
function written(value: unknown): unknown {
  return typeof value === 'string' ? Buffer.from(value, 'utf8').toString('utf8') : value;
}
const STATUSES = ['paid', 'pending', 'shipped', 'refunded'];

/**
 * Rows with repeated, distinct, empty, non-ASCII and null text. `code`:
 * distinct up to row `distinctCodes` (numbering stops: values hardly
 * repeat), then one of 50 values, every third row one of 1,500 values of
 * 1,000 bytes (numbering stops part-way: more than one dictionary page).
 */
function rowsOf(n: number, distinctCodes: number): SourceRecord[] {
  const rnd = random(7);
  return Array.from({ length: n }, (_, i) => {
    const r = rnd();
    return {
      id: i,
      status: r < 0.2 ? null : STATUSES[Math.floor(rnd() * STATUSES.length)]!,
      name: rnd() < 0.1 ? null : NAMES[Math.floor(rnd() * NAMES.length)]!,
      code:
        i < distinctCodes
          ? `code-${i}`
          : i % 3 === 0
            ? `${'c'.repeat(1_000)}-${i % 1_500}`
            : `code-${i % 50}`,
      note: null,
      doc: rnd() < 0.5 ? { k: Math.floor(rnd() * 4) } : null,
      amount: Math.round(rnd() * 1e4) / 100,
    };
  });
}

/** Batches of uneven sizes, so parts and cuts fall anywhere. */
function batchesOf(rows: readonly SourceRecord[]): SourceRecord[][] {
  const sizes = [1, 7, 4_999, 333, 20_480, 12_001];
  const batches: SourceRecord[][] = [];
  for (let at = 0, k = 0; at < rows.length; k++) {
    const size = sizes[k % sizes.length]!;
    batches.push(rows.slice(at, at + size));
    at += size;
  }
  return batches;
}

/** Parquet's order for UTF-8: unsigned bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Statistics' min and max bound the values: equal to them when the value
 * has at most 64 bytes (what parquet-rs keeps), else a shorter lower bound
 * that begins it and an upper bound above it.
 */
function expectBounds(
  min: Uint8Array | undefined,
  max: Uint8Array | undefined,
  least: string,
  greatest: string,
  what: string,
): void {
  const low = Buffer.from(least, 'utf8');
  const high = Buffer.from(greatest, 'utf8');
  expect(min, `${what} min`).toBeDefined();
  expect(max, `${what} max`).toBeDefined();
  if (low.length <= 64) expect(Buffer.from(min!).toString('utf8'), `${what} min`).toBe(least);
  else {
    expect(min!.length, `${what} min length`).toBeLessThanOrEqual(64);
    expect(Buffer.compare(Buffer.from(min!), low.subarray(0, min!.length)), `${what} min is a prefix`).toBe(
      0,
    );
  }
  if (high.length <= 64) expect(Buffer.from(max!).toString('utf8'), `${what} max`).toBe(greatest);
  else {
    expect(max!.length, `${what} max length`).toBeLessThanOrEqual(68);
    expect(Buffer.compare(Buffer.from(max!), high), `${what} max is above`).toBeGreaterThan(0);
  }
}

function footerOf(file: Uint8Array): ThriftStruct {
  const length = new DataView(file.buffer, file.byteOffset + file.length - 8, 4).getUint32(0, true);
  return decodeStruct(file.subarray(file.length - 8 - length, file.length - 8));
}

describe('text columns dictionary-encoded in JavaScript', () => {
  const scratch = useDuckScratch('sluice-text-dictionary-');

  async function write(
    batches: readonly SourceRecord[][],
    options: ParquetWriterOptions = {},
    constants?: Record<string, unknown>,
  ): Promise<string> {
    const path = scratch.path();
    const handle = await open(path, 'w');
    const writer = createParquetWriter(COLUMNS, async (chunk) => void (await handle.write(chunk)), options);
    try {
      for (const batch of batches) await writer.write(batch, constants);
      await writer.finish();
    } finally {
      await writer.close();
      await handle.close();
    }
    return path;
  }

  async function read(path: string): Promise<Record<string, unknown>[]> {
    const sql = `SELECT id::INTEGER AS id, status, name, code, note, doc, amount FROM '${path}' ORDER BY id`;
    return (await scratch.db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  }

  async function query(sql: string): Promise<Record<string, unknown>[]> {
    return (await scratch.db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  }

  /** What each row should read back as. */
  function expected(rows: readonly SourceRecord[]): Record<string, unknown>[] {
    return rows.map((row) => ({
      ...row,
      name: written(row.name),
      doc: row.doc === null ? null : JSON.stringify(row.doc),
    }));
  }

  it.each([
    { worker: true, label: 'on the encoder thread' },
    { worker: false, label: 'inline' },
  ])('lands every value as written across row groups, $label', async ({ worker }) => {
    // Prepare: `code` stops being numbered part-way, by the size of its values.
    const rows = rowsOf(90_000, 0);

    // Act
    const path = await write(batchesOf(rows), { worker, rowGroupBytes: 512 * 1024 });

    // Assess
    const back = await read(path);
    expect(back).toEqual(expected(rows));
    const groups = await query(
      `SELECT count(*) AS n FROM parquet_metadata('${path}') WHERE path_in_schema = 'id'`,
    );
    expect(Number(groups[0]!.n)).toBeGreaterThan(3);
  });

  it('reads back the same as the file parquet-rs writes alone, and parquet-rs reads it', async () => {
    // Prepare
    const rows = rowsOf(50_000, 20_000);
    const batches = batchesOf(rows);

    // Act
    const js = await write(batches, { rowGroupBytes: 1024 * 1024 });
    const wasm = await write(batches, { rowGroupBytes: 1024 * 1024, textInJs: false });

    // Assess: DuckDB reads both alike; parquet-rs reads ours as written
    expect(await read(js)).toEqual(await read(wasm));
    const table = tableFromIPC(readParquet(await readFile(js)).intoIPCStream());
    for (const name of TEXT) {
      const column = table.getChild(name)!.toArray() as (string | null)[];
      expect([...column].map((v) => v ?? null)).toEqual(rows.map((row) => written(row[name] ?? null)));
    }
  });

  it('writes exact statistics for each row group and each page of a text column', async () => {
    // Prepare: groups of more than one page (20,480 rows)
    const rows: SourceRecord[] = rowsOf(70_000, 0).map((row, i) => ({
      ...row,
      // Pages of only nulls, and pages that end on each extreme value
      status: i >= 20_480 && i < 40_960 ? null : row.status,
      // …and a page whose max is longer than the 64 bytes a bound keeps
      name: i % 20_000 === 19_999 ? '\u{10FFFF}' : i === 45_000 ? `\u{10FFFF}${'y'.repeat(100)}` : row.name,
    }));

    // Act
    const path = await write([rows], { rowGroupBytes: 64 * 1024 * 1024 });

    // Assess: chunk statistics, per group
    const file = await readFile(path);
    const footer = footerOf(file);
    let first = 0;
    for (const group of listField(footer, 4).items as ThriftStruct[]) {
      const groupRows = Number(intField(group, 3));
      for (const chunk of listField(group, 1).items as ThriftStruct[]) {
        const meta = structField(chunk, 3);
        const name = new TextDecoder().decode(listField(meta, 3).items[0] as Uint8Array);
        if (!(TEXT as readonly string[]).includes(name)) continue;
        const values = rows.slice(first, first + groupRows).map((row) => written(row[name]) as string | null);
        const present = values.filter((v): v is string => v !== null).sort(byteOrder);
        const stats = structField(meta, 12);
        expect(Number(intField(stats, 3)), `${name} null count`).toBe(values.length - present.length);
        if (present.length > 0) {
          const raw = (id: number) => stats.fields.find((f) => f.id === id)?.value as Uint8Array | undefined;
          expectBounds(raw(6), raw(5), present[0]!, present.at(-1)!, `${name}`);
          expect(
            raw(8) === undefined ||
              (stats.fields.find((f) => f.id === 8)!.value as boolean) ===
                (raw(6)!.length === Buffer.byteLength(present[0]!)),
          ).toBe(true);
        }
        // The column index: one entry per page; the offset index says where each page starts
        const at = Number(intField(chunk, 6));
        const index = decodeStruct(file.subarray(at, at + Number(intField(chunk, 7))));
        const offsetAt = Number(intField(chunk, 4));
        const offsets = decodeStruct(file.subarray(offsetAt, offsetAt + Number(intField(chunk, 5))));
        const starts = (listField(offsets, 1).items as ThriftStruct[]).map((page) =>
          Number(intField(page, 3)),
        );
        const nullPages = listField(index, 1).items as boolean[];
        const mins = listField(index, 2).items as Uint8Array[];
        const maxes = listField(index, 3).items as Uint8Array[];
        const nullCounts = listField(index, 5).items as bigint[];
        expect(starts.length).toBe(nullPages.length);
        if (name !== 'note') expect(starts).toEqual(starts.map((_, p) => p * PAGE_ROWS));
        nullPages.forEach((allNull, p) => {
          const page = values.slice(starts[p], starts[p + 1] ?? groupRows);
          const set = page.filter((v): v is string => v !== null).sort(byteOrder);
          expect(allNull, `${name} page ${p} all null`).toBe(set.length === 0);
          expect(Number(nullCounts[p]), `${name} page ${p} nulls`).toBe(page.length - set.length);
          if (set.length === 0) return;
          expectBounds(mins[p], maxes[p], set[0]!, set.at(-1)!, `${name} page ${p}`);
        });
      }
      first += groupRows;
    }
    // DuckDB uses the page statistics to skip: filtered counts must still be exact
    for (const value of ['Søren', '\u{10FFFF}', '']) {
      const got = await query(`SELECT count(*) AS n FROM '${path}' WHERE name = '${value}'`);
      expect(Number(got[0]!.n)).toBe(rows.filter((row) => row.name === value).length);
    }
  });

  it('leaves the text of column batches to the same encoding, and distinct text to parquet-rs', async () => {
    // Prepare: column buffers as a connector's column batch gives them (no ids)
    const n = 5_000;
    const utf8 = (values: (string | null)[]): ColumnData => {
      const bytes = values.map((v) => Buffer.from(v ?? '', 'utf8'));
      const offsets = new Int32Array(n + 1);
      bytes.forEach((b, i) => {
        offsets[i + 1] = offsets[i]! + b.length;
      });
      const validity = new Uint8Array((n + 7) >> 3);
      values.forEach((v, i) => {
        if (v !== null) validity[i >> 3]! |= 1 << (i & 7);
      });
      const nulls = values.filter((v) => v === null).length;
      return {
        validity: nulls > 0 ? validity : null,
        nullCount: nulls,
        values: Buffer.concat(bytes),
        offsets,
      };
    };
    const repeated = Array.from({ length: n }, (_, i) => (i % 9 === 0 ? null : STATUSES[i % 4]!));
    const distinct = Array.from({ length: n }, (_, i) => `order-${i * 7919}`);
    const path = scratch.path();
    const handle = await open(path, 'w');
    const writer = createParquetWriter(
      [
        { name: 'status', type: 'string' },
        { name: 'code', type: 'string' },
      ],
      async (chunk) => void (await handle.write(chunk)),
    );

    // Act
    await writer.writeColumns(n, { status: utf8(repeated), code: utf8(distinct) });
    await writer.finish();
    await writer.close();
    await handle.close();

    // Assess
    const back = await query(`SELECT status, code FROM '${path}'`);
    expect(back.map((r) => r.status)).toEqual(repeated);
    expect(back.map((r) => r.code)).toEqual(distinct);
    const codecs = await query(
      `SELECT path_in_schema AS c, compression, encodings FROM parquet_metadata('${path}')`,
    );
    const byColumn = Object.fromEntries(codecs.map((r) => [r.c, r]));
    expect(byColumn.status!.compression).toBe('SNAPPY');
    expect(String(byColumn.status!.encodings)).toContain('RLE_DICTIONARY');
    expect(byColumn.code!.compression).toBe('SNAPPY');
    expect(String(byColumn.code!.encodings)).not.toContain('DICTIONARY');
  });

  it('keeps long values out of the footer and page indexes: bounds are cut to 64 bytes', async () => {
    // Prepare: 3,000 rows of five distinct values of 200 KB, in row groups of 3 MiB
    const long = (k: number) => `${String.fromCharCode(97 + k)}${'é'.repeat(100_000)}`;
    const rows = Array.from({ length: 3_000 }, (_, id) => ({ id, name: long(id % 5) }));

    // Act
    const batches = [rows.slice(0, 1_000), rows.slice(1_000)];
    const path = await write(batches, { rowGroupBytes: 3 * 1024 * 1024 });
    const wasm = await write(batches, { rowGroupBytes: 3 * 1024 * 1024, textInJs: false });

    // Assess: a footer as small as parquet-rs's, not 200 KB per bound; lookups by value exact
    const footerBytes = async (file: string) => {
      const bytes = await readFile(file);
      return new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
    };
    expect(listField(footerOf(await readFile(path)), 4).items.length).toBeGreaterThan(3);
    expect(await footerBytes(path)).toBeLessThan((await footerBytes(wasm)) * 1.1);
    const bounds = await query(
      `SELECT max(length(stats_min_value)) AS min, max(length(stats_max_value)) AS max FROM parquet_metadata('${path}') WHERE path_in_schema = 'name'`,
    );
    expect(Number(bounds[0]!.min)).toBeLessThanOrEqual(64);
    expect(Number(bounds[0]!.max)).toBeLessThanOrEqual(68);
    const counts = await query(
      `SELECT name, count(*) AS n FROM '${path}' WHERE name IN ('${long(0)}', '${long(4)}') GROUP BY name`,
    );
    expect(counts.map((r) => [String(r.name).length, Number(r.n)]).sort()).toEqual([
      [100_001, 600],
      [100_001, 600],
    ]);
    const max = await query(`SELECT max(name) = '${long(4)}' AS ok, count(*) AS n FROM '${path}'`);
    expect(max[0]).toEqual({ ok: true, n: 3_000n });
  });

  it('cuts bounds at whole characters, and increments the last one that can be', () => {
    // Prepare
    const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
    const cases = [
      'a'.repeat(64),
      'a'.repeat(65),
      `${'a'.repeat(63)}é`,
      `${'a'.repeat(62)}東京`,
      `${'a'.repeat(61)}\u{10FFFF}\u{10FFFF}`,
      `${'b'.repeat(61)}\uD7FF${'c'.repeat(10)}`,
      '\u{10FFFF}'.repeat(20),
    ];

    // Act and assess: a lower bound begins the value, an upper bound sorts above it; both are UTF-8
    for (const value of cases) {
      const v = bytes(value);
      const low = lowerBound(v);
      const high = upperBound(v);
      expect(Buffer.from(low.bytes).toString('utf8').length > 0 || v.length === 0).toBe(true);
      expect(
        Buffer.from(Buffer.from(low.bytes).toString('utf8'), 'utf8').equals(Buffer.from(low.bytes)),
        value,
      ).toBe(true);
      expect(
        Buffer.from(Buffer.from(high.bytes).toString('utf8'), 'utf8').equals(Buffer.from(high.bytes)),
        value,
      ).toBe(true);
      expect(
        Buffer.compare(Buffer.from(v.subarray(0, low.bytes.length)), Buffer.from(low.bytes)),
        value,
      ).toBe(0);
      expect(low.bytes.length).toBeLessThanOrEqual(64);
      if (high.exact) expect(Buffer.from(high.bytes).equals(Buffer.from(v))).toBe(true);
      else expect(Buffer.compare(Buffer.from(high.bytes), Buffer.from(v)), value).toBeGreaterThan(0);
      expect(low.exact).toBe(v.length <= 64);
    }
    // A value of only the last code point cannot be bounded shorter: it stays whole
    expect(upperBound(bytes('\u{10FFFF}'.repeat(20))).exact).toBe(true);
    expect(
      Buffer.from(upperBound(bytes(`${'b'.repeat(61)}\uD7FF${'c'.repeat(10)}`)).bytes).toString('utf8'),
    ).toBe(`${'b'.repeat(61)}\uE000`);
  });

  it('refuses one write of more than 2 GiB of text in a column, numbered or not', async () => {
    // Prepare: 2,200 rows of one value of 1,000,000 characters, as values and as a constant
    const value = 'v'.repeat(1_000_000);
    const rows = Array.from({ length: 2_200 }, (_, id) => ({ id, name: value }));
    const writer = createParquetWriter(COLUMNS, async () => undefined);

    // Act and assess: as parquet-rs's path does, instead of offsets that wrap past 2^31
    try {
      await expect(writer.write(rows)).rejects.toThrow(/2 GiB/);
      await expect(
        writer.write(
          rows.map(({ id }) => ({ id })),
          { name: value },
        ),
      ).rejects.toThrow(/2 GiB/);
    } finally {
      await writer.close();
    }
  });

  it('refuses a SLUICE_PARQUET_TEXT it does not know, naming it', () => {
    // Prepare
    vi.stubEnv('SLUICE_PARQUET_TEXT', 'rust');

    // Act and assess
    try {
      expect(() => createParquetWriter(COLUMNS, async () => undefined)).toThrow(
        'SLUICE_PARQUET_TEXT must be js or wasm, not "rust"',
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('repeats a constant text column, and keeps a column of nulls', async () => {
    // Prepare
    const rows = rowsOf(30_000, 0);

    // Act
    const path = await write(batchesOf(rows), { rowGroupBytes: 256 * 1024 }, { status: 'séance' });

    // Assess
    const back = await query(
      `SELECT count(*) AS n, count(DISTINCT status) AS d, min(status) AS s, count(note) AS notes FROM '${path}'`,
    );
    expect(back[0]).toEqual({ n: 30_000n, d: 1n, s: 'séance', notes: 0n });
  });
});
