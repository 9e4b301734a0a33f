import { open, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PreciseDate } from '../../../../connectors/sdk/precise-date.js';
import type { SourceRecord } from '../../../../connectors/sdk/types.js';
import { canFreeChunks, freeDisposableChunk } from '../../../../engine/disposable-chunks.js';
import {
  createParquetWriter,
  type ParquetColumn,
  ParquetConversionError,
  type ParquetFileWriter,
  type ParquetWriterOptions,
} from '../../../../engine/parquet/index.js';
import {
  decodeStruct,
  intField,
  listField,
  structField,
  type ThriftStruct,
} from '../../../../engine/parquet/thrift.js';
import { useDuckScratch } from '../../../support/duck-scratch.js';

const ALL_TYPES: readonly ParquetColumn[] = [
  { name: 'flag', type: 'boolean' },
  { name: 'small', type: 'int' },
  { name: 'big', type: 'bigint' },
  { name: 'ratio', type: 'double' },
  { name: 'label', type: 'string' },
  { name: 'at', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'doc', type: 'json' },
];

interface Written {
  readonly path: string;
  readonly writer: ParquetFileWriter;
  /** Size of every chunk the sink received, in order. */
  readonly chunks: readonly Uint8Array[];
}

describe('createParquetWriter', () => {
  const scratch = useDuckScratch('sluice-parquet-');

  async function write(
    columns: readonly ParquetColumn[],
    groups: readonly (readonly SourceRecord[])[],
    options: ParquetWriterOptions & { constants?: Record<string, unknown> } = {},
  ): Promise<Written> {
    const path = scratch.path();
    const handle = await open(path, 'w');
    const chunks: Uint8Array[] = [];
    const writer = createParquetWriter(
      columns,
      async (chunk) => {
        chunks.push(chunk.slice());
        await handle.write(chunk);
      },
      options,
    );
    try {
      for (const rows of groups) await writer.writeRowGroup(rows, options.constants);
      await writer.finish();
      // The normal path must really use the worker: a silent inline fallback would pass every other check.
      expect(await writer.encodedOn()).toBe(options.worker === false ? 'inline' : 'thread');
    } finally {
      await writer.close();
      await handle.close();
    }
    return { path, writer, chunks };
  }

  async function query(sql: string): Promise<Record<string, unknown>[]> {
    return (await scratch.db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  }

  it('round-trips every column type, nulls included', async () => {
    // Prepare
    const rows: SourceRecord[] = [
      {
        flag: true,
        small: -2_147_483_648,
        big: 9_007_199_254_740_991,
        ratio: 1.25,
        label: 'plain',
        at: '2024-03-15T10:22:31.123456Z',
        day: '2024-02-29',
        doc: { a: [1, 2], b: 'x' },
      },
      {
        flag: false,
        small: 2_147_483_647,
        big: -9_223_372_036_854_775_808n,
        ratio: -0.5,
        label: 'Grüße, 東京 🚀',
        at: new Date('1969-12-31T23:59:59.999Z'),
        day: new Date('2000-01-01T23:00:00Z'),
        doc: [1, 'two', null],
      },
      { flag: null, small: null, big: null, ratio: null, label: null, at: null, day: null, doc: null },
      {},
      {
        flag: true,
        small: 0,
        big: 42n,
        ratio: 1e300,
        label: '',
        at: 1_700_000_000_000,
        day: '1970-01-01',
        doc: '{"raw":true}',
      },
    ];

    // Act
    const { path } = await write(ALL_TYPES, [rows]);

    // Assess
    const back = await query(`
      SELECT flag, small, big, ratio, label, epoch_us("at") AS at_us, CAST(day AS VARCHAR) AS day, doc
      FROM read_parquet('${path}')`);
    expect(back).toEqual([
      {
        flag: true,
        small: -2_147_483_648,
        big: 9_007_199_254_740_991n,
        ratio: 1.25,
        label: 'plain',
        at_us: 1_710_498_151_123_456n,
        day: '2024-02-29',
        doc: '{"a":[1,2],"b":"x"}',
      },
      {
        flag: false,
        small: 2_147_483_647,
        big: -9_223_372_036_854_775_808n,
        ratio: -0.5,
        label: 'Grüße, 東京 🚀',
        at_us: -1000n,
        day: '2000-01-01',
        doc: '[1,"two",null]',
      },
      { flag: null, small: null, big: null, ratio: null, label: null, at_us: null, day: null, doc: null },
      { flag: null, small: null, big: null, ratio: null, label: null, at_us: null, day: null, doc: null },
      {
        flag: true,
        small: 0,
        big: 42n,
        ratio: 1e300,
        label: '',
        at_us: 1_700_000_000_000_000n,
        day: '1970-01-01',
        doc: '{"raw":true}',
      },
    ]);
  });

  it('writes the Athena-safe physical, logical and converted types', async () => {
    // Act
    const { path } = await write(ALL_TYPES, [[{ small: 1 }]]);

    // Assess
    const schema = await query(`
      SELECT name, type, converted_type, logical_type, repetition_type
      FROM parquet_schema('${path}') WHERE name <> 'arrow_schema' ORDER BY name`);
    const byName = Object.fromEntries(schema.map((s) => [s.name, s]));
    expect(byName.flag).toMatchObject({ type: 'BOOLEAN', repetition_type: 'OPTIONAL' });
    expect(byName.small).toMatchObject({ type: 'INT32' });
    expect(byName.big).toMatchObject({ type: 'INT64' });
    expect(byName.ratio).toMatchObject({ type: 'DOUBLE' });
    expect(byName.label).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
    expect(byName.doc).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
    expect(byName.day).toMatchObject({ type: 'INT32', converted_type: 'DATE' });
    expect(byName.at).toMatchObject({ type: 'INT64', converted_type: 'TIMESTAMP_MICROS' });
    expect(String(byName.at?.logical_type)).toContain('isAdjustedToUTC=1');
    expect(String(byName.at?.logical_type)).toContain('MICROS');
    const described = await query(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(described.find((d) => d.column_name === 'at')?.column_type).toBe('TIMESTAMP WITH TIME ZONE');
  });

  it('reads timestamps without an offset as UTC and honours explicit offsets', async () => {
    // Prepare
    const rows = [
      { at: '2024-01-01T00:00:00' },
      { at: '2024-01-01 02:00:00+02:00' },
      { at: '2024-01-01T00:00:00.5Z' },
      { at: '2024-01-01' },
      { at: 'Mon, 01 Jan 2024 00:00:00 GMT' },
    ];

    // Act
    const { path } = await write([{ name: 'at', type: 'timestamp' }], [rows]);

    // Assess
    const back = await query(`SELECT epoch_us("at") AS us FROM read_parquet('${path}')`);
    const midnight = 1_704_067_200_000_000n;
    expect(back.map((r) => r.us)).toEqual([midnight, midnight, midnight + 500_000n, midnight, midnight]);
  });

  it('lands PreciseDate timestamps exact to the microsecond, far from 1970 and before it too', async () => {
    // Prepare: the oracle is the list of microseconds itself.
    const micros = [
      0n,
      1n,
      -1n,
      1_772_359_200_123_456n,
      2n ** 53n + 1n,
      -(2n ** 53n) - 3n,
      253_402_300_799_999_999n, // 9999-12-31T23:59:59.999999Z
      -62_135_596_799_999_999n, // 0001-01-01T00:00:00.000001Z
    ];
    const rows = micros.map((us) => ({ at: new PreciseDate(us) }));

    // Act
    const { path } = await write([{ name: 'at', type: 'timestamp' }], [rows]);

    // Assess
    const back = await query(`SELECT epoch_us("at") AS us FROM read_parquet('${path}')`);
    expect(back.map((r) => r.us)).toEqual(micros);
  });

  it('refuses a PreciseDate beyond the int64 microseconds of a Parquet timestamp, naming column and row', async () => {
    // Prepare
    const rows = [{ at: new PreciseDate(0n) }, { at: new PreciseDate(2n ** 63n) }];

    // Act
    const written = write([{ name: 'at', type: 'timestamp' }], [rows]);

    // Assess
    await expect(written).rejects.toThrow(ParquetConversionError);
    await expect(written).rejects.toThrow(/"at".*row 1|row 1.*"at"/);
  });

  it('keeps unicode and long strings intact', async () => {
    // Prepare
    const long = 'x'.repeat(300_000);
    const mixed = `${'é'.repeat(1000)}${'😀'.repeat(1000)}`;
    const rows = [
      { label: long },
      { label: 'ascii' },
      { label: mixed },
      { label: null },
      { label: '\u0000nul inside' },
      { label: 'Ωmega' },
    ];

    // Act
    const { path } = await write([{ name: 'label', type: 'string' }], [rows]);

    // Assess
    const back = await query(`SELECT label FROM read_parquet('${path}')`);
    expect(back.map((r) => r.label)).toEqual(rows.map((r) => r.label));
  });

  it('encodes lone surrogates at row edges as replacement characters, row by row', async () => {
    // Prepare: a high surrogate ending one row and a low one starting the next must not pair up.
    const rows = [{ label: 'a\ud83d' }, { label: '\ude00b' }, { label: 'ü' }];

    // Act
    const { path } = await write([{ name: 'label', type: 'string' }], [rows]);

    // Assess
    const back = await query(`SELECT label FROM read_parquet('${path}')`);
    expect(back.map((r) => r.label)).toEqual(['a\ufffd', '\ufffdb', 'ü']);
  });

  it('converts values of other types in string columns', async () => {
    // Prepare
    const rows = [
      { label: 42 },
      { label: true },
      { label: new Date('2024-05-06T07:08:09.010Z') },
      { label: { nested: [1, { deep: 'x' }] } },
      { label: [1, 2] },
      { label: 12345678901234567890n },
    ];

    // Act
    const { path } = await write([{ name: 'label', type: 'string' }], [rows]);

    // Assess
    const back = await query(`SELECT label FROM read_parquet('${path}')`);
    expect(back.map((r) => r.label)).toEqual([
      '42',
      'true',
      '2024-05-06T07:08:09.010Z',
      '{"nested":[1,{"deep":"x"}]}',
      '[1,2]',
      '12345678901234567890',
    ]);
  });

  it('streams several row groups into one file, in order', async () => {
    // Prepare
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'bigint' },
      { name: 'name', type: 'string' },
    ];
    const group = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ id: from + i, name: `row ${from + i}` }));

    // Act
    const { path, writer, chunks } = await write(columns, [
      group(0, 1000),
      group(1000, 2500),
      group(3500, 7),
    ]);

    // Assess
    const groups = await query(`
      SELECT row_group_id, any_value(row_group_num_rows) AS rows
      FROM parquet_metadata('${path}') GROUP BY row_group_id ORDER BY row_group_id`);
    expect(groups).toEqual([
      { row_group_id: 0n, rows: 1000n },
      { row_group_id: 1n, rows: 2500n },
      { row_group_id: 2n, rows: 7n },
    ]);
    const check = await query(`
      SELECT count(*) AS n, bool_and(name = 'row ' || id) AS names_match,
             min(id) AS lo, max(id) AS hi
      FROM read_parquet('${path}')`);
    expect(check).toEqual([{ n: 3507n, names_match: true, lo: 0n, hi: 3506n }]);
    const ids = await query(`SELECT id FROM read_parquet('${path}')`);
    expect(ids.map((r) => Number(r.id))).toEqual(Array.from({ length: 3507 }, (_, i) => i));
    expect(Buffer.from(chunks[0]!.subarray(0, 4)).toString()).toBe('PAR1');
    expect(chunks.length).toBe(4);
    expect(writer).toMatchObject({ rows: 3507, rowGroups: 3 });
    expect(writer.bytesWritten).toBe((await readFile(path)).length);
  });

  it('counts every byte written when the sink frees each chunk at once', async () => {
    // Prepare: a sink that frees what it wrote, as the local object store does.
    const path = scratch.path();
    const handle = await open(path, 'w');
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'bigint' },
      { name: 'name', type: 'string' },
    ];
    const freed: number[] = [];
    const writer = createParquetWriter(columns, async (chunk) => {
      await handle.write(chunk);
      freeDisposableChunk(chunk);
      freed.push(chunk.byteLength);
    });

    // Act
    try {
      for (let g = 0; g < 3; g++) {
        const rows = Array.from({ length: 500 }, (_, i) => ({ id: g * 500 + i, name: `row ${g * 500 + i}` }));
        await writer.writeRowGroup(rows);
      }
      await writer.finish();
    } finally {
      await writer.close();
      await handle.close();
    }

    // Assess: every chunk was marked (freed reads as empty, where Node can free), and the count stands.
    if (canFreeChunks()) expect(freed).toEqual([0, 0, 0, 0]);
    else expect(freed.every((length) => length > 0)).toBe(true);
    expect(freed).toHaveLength(4);
    expect(writer.bytesWritten).toBe((await readFile(path)).length);
    const check = await query(`SELECT count(*) AS n, max(id) AS hi FROM read_parquet('${path}')`);
    expect(check).toEqual([{ n: 1500n, hi: 1499n }]);
  });

  it('points every page index entry at the pages of its own row group', async () => {
    // Prepare
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'bigint' },
      { name: 'name', type: 'string' },
    ];
    const group = (from: number) =>
      Array.from({ length: 3000 }, (_, i) => ({ id: from + i, name: `n${(from + i) % 10}` }));

    // Act
    const { path } = await write(columns, [group(0), group(3000), group(6000)]);

    // Assess: decode the footer and each chunk's offset and column index by hand.
    const file = new Uint8Array(await readFile(path));
    const footerLength = new DataView(file.buffer).getUint32(file.length - 8, true);
    const meta = decodeStruct(file.subarray(file.length - 8 - footerLength, file.length - 8));
    const rowGroups = listField(meta, 4).items as ThriftStruct[];
    expect(rowGroups).toHaveLength(3);
    rowGroups.forEach((rowGroup, g) => {
      const [idChunk] = listField(rowGroup, 1).items as ThriftStruct[];
      const chunkMeta = structField(idChunk!, 3);
      const offsetIndex = decodeStruct(file.subarray(Number(intField(idChunk!, 4))));
      const [firstPage] = listField(offsetIndex, 1).items as ThriftStruct[];
      expect(intField(firstPage!, 1)).toBe(intField(chunkMeta, 9));
      const columnIndex = decodeStruct(file.subarray(Number(intField(idChunk!, 6))));
      const min = listField(columnIndex, 2).items[0] as Uint8Array;
      const max = listField(columnIndex, 3).items.at(-1) as Uint8Array;
      expect(new DataView(min.buffer, min.byteOffset).getBigInt64(0, true)).toBe(BigInt(g * 3000));
      expect(new DataView(max.buffer, max.byteOffset).getBigInt64(0, true)).toBe(BigInt(g * 3000 + 2999));
    });
  });

  it('hands each row group to the sink before the file is finished', async () => {
    // Prepare
    const received: number[] = [];
    const writer = createParquetWriter([{ name: 'id', type: 'int' }], async (chunk) => {
      received.push(chunk.length);
    });
    const rows = Array.from({ length: 100 }, (_, id) => ({ id }));

    // Act
    await writer.writeRowGroup(rows);
    await writer.writeRowGroup(rows);
    await writer.writeRowGroup(rows);
    const beforeFinish = received.length;
    await writer.finish();
    await writer.close();

    // Assess
    expect(beforeFinish).toBeGreaterThanOrEqual(2);
    expect(received.length).toBe(4);
  });

  it('keeps groups in call order when the caller does not await each write', async () => {
    // Prepare
    const path = scratch.path('unawaited.parquet');
    const chunks: Uint8Array[] = [];
    const writer = createParquetWriter([{ name: 'id', type: 'int' }], async (chunk) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      chunks.push(chunk.slice());
    });
    const group = (from: number) => Array.from({ length: 100 }, (_, i) => ({ id: from + i }));

    // Act
    const writes = [
      writer.writeRowGroup(group(0)),
      writer.writeRowGroup(group(100)),
      writer.writeRowGroup(group(200)),
    ];
    await Promise.all([...writes, writer.finish()]);
    await writer.close();

    // Assess
    await writeFile(path, Buffer.concat(chunks));
    const ids = await query(`SELECT id FROM read_parquet('${path}')`);
    expect(ids.map((r) => r.id)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('fills constant columns on every row instead of reading the rows', async () => {
    // Prepare
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'int' },
      { name: '_run_id', type: 'string' },
      { name: '_extracted_at', type: 'timestamp' },
      { name: '_source', type: 'string' },
      { name: '_deleted', type: 'boolean' },
    ];
    const rows = [{ id: 1, _run_id: 'ignored' }, { id: 2, _source: 'ignored' }, { id: 3 }];
    const constants = {
      _run_id: 'run-2024-0001',
      _extracted_at: new Date('2024-06-01T12:00:00Z'),
      _source: 'shop',
      _deleted: null,
    };

    // Act
    const { path } = await write(columns, [rows, rows], { constants });

    // Assess
    const back = await query(`
      SELECT id, _run_id, epoch_ms(_extracted_at) AS at, _source, _deleted FROM read_parquet('${path}')`);
    expect(back).toHaveLength(6);
    for (const row of back) {
      expect(row).toMatchObject({
        _run_id: 'run-2024-0001',
        at: 1_717_243_200_000n,
        _source: 'shop',
        _deleted: null,
      });
    }
    expect(back.map((r) => r.id)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('compresses with snappy by default and zstd when asked', async () => {
    // Prepare
    const rows = Array.from({ length: 500 }, (_, i) => ({ small: i, label: `value ${i % 7}` }));

    // Act
    const snappy = await write(ALL_TYPES, [rows]);
    const zstd = await write(ALL_TYPES, [rows], { compression: 'zstd' });

    // Assess
    const codecs = async (path: string) =>
      (await query(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`)).map((r) => r.compression);
    expect(await codecs(snappy.path)).toEqual(['SNAPPY']);
    expect(await codecs(zstd.path)).toEqual(['ZSTD']);
  });

  it('writes min/max statistics and null counts for each column chunk', async () => {
    // Prepare
    const rows = [
      { small: 5, label: 'pear', at: '2024-01-02T00:00:00Z', ratio: 2.5 },
      { small: -3, label: 'apple', at: '2024-01-01T00:00:00Z', ratio: null },
      { small: 11, label: 'zebra', at: '2024-01-03T00:00:00Z', ratio: -1 },
    ];

    // Act
    const { path } = await write(ALL_TYPES, [rows]);

    // Assess
    const stats = await query(`
      SELECT path_in_schema AS col, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls
      FROM parquet_metadata('${path}') WHERE path_in_schema IN ('small', 'label', 'at', 'ratio')
      ORDER BY path_in_schema`);
    expect(stats).toEqual([
      { col: 'at', lo: '2024-01-01 00:00:00+00', hi: '2024-01-03 00:00:00+00', nulls: 0n },
      { col: 'label', lo: 'apple', hi: 'zebra', nulls: 0n },
      { col: 'ratio', lo: '-1.0', hi: '2.5', nulls: 1n },
      { col: 'small', lo: '-3', hi: '11', nulls: 0n },
    ]);
  });

  it('writes distinct-valued columns plain and repetitive ones with a dictionary', async () => {
    // Prepare
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'bigint' },
      { name: 'status', type: 'string' },
    ];
    const rows = Array.from({ length: 20_000 }, (_, i) => ({
      id: i * 7919,
      status: ['new', 'paid', 'sent'][i % 3],
    }));

    // Act
    const { path } = await write(columns, [rows]);

    // Assess
    const encodings = await query(`
      SELECT path_in_schema AS col, encodings FROM parquet_metadata('${path}') ORDER BY path_in_schema`);
    expect(encodings.find((e) => e.col === 'id')?.encodings).not.toContain('DICTIONARY');
    expect(encodings.find((e) => e.col === 'status')?.encodings).toContain('RLE_DICTIONARY');
  });

  it('writes distinct-valued columns plain in a row group of more than 131,072 rows too', async () => {
    // Prepare: past 131,072 rows, 256 samples could never estimate rows / 2 distinct values.
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'bigint' },
      { name: 'account', type: 'int' },
    ];
    const rows = Array.from({ length: 300_000 }, (_, i) => ({ id: i * 7919, account: i % 1000 }));

    // Act
    const { path } = await write(columns, [rows], { rowGroupRows: 300_000, rowGroupBytes: 64 * 1024 * 1024 });

    // Assess
    const groups = await query(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('${path}')`);
    expect(Number(groups[0]?.n)).toBe(1);
    const encodings = await query(`
      SELECT path_in_schema AS col, encodings FROM parquet_metadata('${path}') ORDER BY path_in_schema`);
    expect(encodings.find((e) => e.col === 'id')?.encodings).not.toContain('DICTIONARY');
    expect(encodings.find((e) => e.col === 'account')?.encodings).toContain('RLE_DICTIONARY');
  });

  it('throws a conversion error naming the column and the row', async () => {
    // Prepare
    const writer = createParquetWriter(ALL_TYPES, async () => undefined);
    const rows = [{ small: 1 }, { small: 2 }, { small: 'abc' }];

    // Act
    const attempt = writer.writeRowGroup(rows);

    // Assess
    await expect(attempt).rejects.toThrow(ParquetConversionError);
    await expect(attempt).rejects.toThrow(/column "small" at row 2/);
    await expect(attempt).rejects.toMatchObject({ column: 'small', rowIndex: 2 });
    await writer.close();
  });

  it.each([
    ['int', 1.5],
    ['int', 2 ** 31],
    ['bigint', 2 ** 64],
    ['bigint', 2n ** 63n],
    ['double', 'lots'],
    ['boolean', 'maybe'],
    ['timestamp', 'not a time'],
    ['timestamp', new Date(Number.NaN)],
    ['date', '2024-02-30'],
  ] as const)('rejects a %s column value %s', async (type, value) => {
    // Prepare
    const writer = createParquetWriter([{ name: 'c', type }], async () => undefined);

    // Act
    const attempt = writer.writeRowGroup([{ c: null }, { c: value }]);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ParquetConversionError', column: 'c', rowIndex: 1 });
    await writer.close();
  });

  it('writes decimal(p,s) exactly as Parquet DECIMAL with its precision and scale', async () => {
    // Prepare
    const columns: ParquetColumn[] = [
      { name: 'small', type: 'decimal(5,0)' },
      { name: 'money', type: 'decimal(12,2)' },
      { name: 'wide', type: 'decimal(38,10)' },
    ];
    const rows = [
      { small: 7, money: '12.5', wide: '12345678901234567890.0123456789' },
      { small: '-99999', money: 0.1, wide: -1n },
      { small: null, money: '-1e3', wide: '1.50000000000000' },
      { small: '0', money: '-0.01', wide: '-3' },
      { small: '99999', money: '9999999999.99', wide: '-12345.5' },
    ];

    // Act
    const { path } = await write(columns, [rows]);

    // Assess
    const schema = await query(
      `SELECT name, type, precision, scale FROM parquet_schema('${path}') WHERE name <> 'arrow_schema' ORDER BY name`,
    );
    expect(schema.map((s) => [s.name, s.type, Number(s.precision), Number(s.scale)])).toEqual([
      ['money', 'INT64', 12, 2],
      ['small', 'INT32', 5, 0],
      ['wide', 'FIXED_LEN_BYTE_ARRAY', 38, 10],
    ]);
    expect(
      await query(
        `SELECT small::VARCHAR AS small, money::VARCHAR AS money, wide::VARCHAR AS wide FROM '${path}'`,
      ),
    ).toEqual([
      { small: '7', money: '12.50', wide: '12345678901234567890.0123456789' },
      { small: '-99999', money: '0.10', wide: '-1.0000000000' },
      { small: null, money: '-1000.00', wide: '1.5000000000' },
      { small: '0', money: '-0.01', wide: '-3.0000000000' },
      { small: '99999', money: '9999999999.99', wide: '-12345.5000000000' },
    ]);
  });

  it.each([
    ['decimal(12,2)', '1.005'],
    ['decimal(12,2)', '12345678901'],
    ['decimal(5,0)', 1.5],
    ['decimal(12,2)', 'NaN'],
    ['decimal(12,2)', true],
  ] as const)('rejects a %s column value %s', async (type, value) => {
    const writer = createParquetWriter([{ name: 'c', type }], async () => undefined);
    const attempt = writer.writeRowGroup([{ c: null }, { c: value }]);
    await expect(attempt).rejects.toMatchObject({ name: 'ParquetConversionError', column: 'c', rowIndex: 1 });
    await writer.close();
  });

  it('accepts numeric strings and bigints where numbers are expected', async () => {
    // Prepare
    const rows = [
      { small: '42', big: '9223372036854775807', ratio: '2.5', flag: 'true' },
      { small: 7n, big: 7n, ratio: 3n },
    ];

    // Act
    const { path } = await write(ALL_TYPES, [rows]);

    // Assess
    const back = await query(`SELECT small, big, ratio, flag FROM read_parquet('${path}')`);
    expect(back).toEqual([
      { small: 42, big: 9_223_372_036_854_775_807n, ratio: 2.5, flag: true },
      { small: 7, big: 7n, ratio: 3, flag: null },
    ]);
  });

  it('writes a readable file with the schema and no row groups when no rows came', async () => {
    // Act
    const { path, writer } = await write(ALL_TYPES, []);

    // Assess
    const back = await query(`SELECT count(*) AS n FROM read_parquet('${path}')`);
    expect(back).toEqual([{ n: 0n }]);
    const columns = await query(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(columns.map((c) => c.column_name)).toEqual(ALL_TYPES.map((c) => c.name));
    expect(writer).toMatchObject({ rows: 0, rowGroups: 0 });
  });

  it('produces the same bytes whether it encodes on the worker thread or inline', async () => {
    // Prepare
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      flag: i % 3 === 0,
      small: i,
      big: i * 1_000_000_007,
      ratio: i / 7,
      label: i % 5 === 0 ? null : `label ${i} ü`,
      at: new Date(Date.UTC(2024, 0, 1) + i * 1000),
      day: '2024-01-01',
      doc: { i },
    }));

    // Act
    const threaded = await write(ALL_TYPES, [rows.slice(0, 1500), rows.slice(1500)], { worker: true });
    const inline = await write(ALL_TYPES, [rows.slice(0, 1500), rows.slice(1500)], { worker: false });

    // Assess
    expect(Buffer.compare(await readFile(threaded.path), await readFile(inline.path))).toBe(0);
  });

  it('encodes on the worker thread when asked, and inline when asked', async () => {
    // Prepare
    const columns: ParquetColumn[] = [{ name: 'id', type: 'int' }];
    const threaded = createParquetWriter(columns, async () => undefined, { worker: true });
    const inline = createParquetWriter(columns, async () => undefined, { worker: false });

    // Act
    await Promise.all([threaded.writeRowGroup([{ id: 1 }]), inline.writeRowGroup([{ id: 1 }])]);
    await Promise.all([threaded.finish(), inline.finish()]);
    const where = [await threaded.encodedOn(), await inline.encodedOn()];
    await Promise.all([threaded.close(), inline.close()]);

    // Assess
    expect(where).toEqual(['thread', 'inline']);
  });

  it('keeps two files apart when two writers share the encoder thread', async () => {
    // Prepare
    const columns: ParquetColumn[] = [{ name: 'label', type: 'string' }];
    const rows = (tag: string) => Array.from({ length: 500 }, (_, i) => ({ label: `${tag}-${i}` }));
    const sinks = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
    const a = createParquetWriter(columns, async (chunk) => void sinks.a.push(chunk.slice()));
    const b = createParquetWriter(columns, async (chunk) => void sinks.b.push(chunk.slice()));

    // Act
    await Promise.all([a.writeRowGroup(rows('a')), b.writeRowGroup(rows('b'))]);
    await Promise.all([a.writeRowGroup(rows('a')), b.writeRowGroup(rows('b'))]);
    await Promise.all([a.finish(), b.finish()]);
    const where = [await a.encodedOn(), await b.encodedOn()];
    await Promise.all([a.close(), b.close()]);

    // Assess
    expect(where).toEqual(['thread', 'thread']);
    for (const [tag, chunks] of Object.entries(sinks)) {
      const path = scratch.path(`shared-${tag}.parquet`);
      await writeFile(path, Buffer.concat(chunks));
      const back = await query(
        `SELECT count(*) AS n, bool_and(starts_with(label, '${tag}-')) AS own FROM read_parquet('${path}')`,
      );
      expect(back).toEqual([{ n: 1000n, own: true }]);
    }
  });

  it('stays usable after a group is rejected for a bad value', async () => {
    // Prepare
    const columns: ParquetColumn[] = [{ name: 'n', type: 'int' }];
    const path = scratch.path('after-error.parquet');
    const chunks: Uint8Array[] = [];
    const writer = createParquetWriter(columns, async (chunk) => void chunks.push(chunk.slice()));

    // Act
    await writer.writeRowGroup([{ n: 1 }]);
    await expect(writer.writeRowGroup([{ n: 'x' }])).rejects.toThrow(ParquetConversionError);
    await writer.writeRowGroup([{ n: 2 }]);
    await writer.finish();
    await writer.close();

    // Assess
    await writeFile(path, Buffer.concat(chunks));
    const back = await query(`SELECT n FROM read_parquet('${path}')`);
    expect(back.map((r) => r.n)).toEqual([1, 2]);
  });

  it('starts a fresh encoder thread once the idle one has ended', async () => {
    // Prepare
    const columns: ParquetColumn[] = [{ name: 'id', type: 'int' }];
    await write(columns, [[{ id: 1 }]]);
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    // Act
    const { path } = await write(columns, [[{ id: 2 }]]);

    // Assess
    expect(await query(`SELECT id FROM read_parquet('${path}')`)).toEqual([{ id: 2 }]);
  });

  it('fails writes and finish once the sink has failed', async () => {
    // Prepare
    const writer = createParquetWriter([{ name: 'id', type: 'int' }], async () => {
      throw new Error('disk full');
    });
    const rows = [{ id: 1 }];

    // Act
    await writer.writeRowGroup(rows);
    const next = writer.writeRowGroup(rows);

    // Assess
    await expect(next).rejects.toThrow('disk full');
    await expect(writer.finish()).rejects.toThrow('disk full');
    await writer.close();
  });

  it('refuses to write after finish, and close is safe to repeat', async () => {
    // Prepare
    const writer = createParquetWriter([{ name: 'id', type: 'int' }], async () => undefined);
    await writer.writeRowGroup([{ id: 1 }]);
    await writer.finish();

    // Act
    const late = writer.writeRowGroup([{ id: 2 }]);

    // Assess
    await expect(late).rejects.toThrow(/finished/);
    await writer.close();
    await writer.close();
  });
});
