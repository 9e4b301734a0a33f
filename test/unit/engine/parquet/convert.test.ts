/**
 * Timestamps through the record path's converter, written by the real writer
 * and read back by DuckDB, against an oracle computed in BigInt from the
 * text's own fields: exact to the microsecond over 0001–9999, also where
 * epoch microseconds are beyond ±2^53 and no longer all fit a double.
 */
import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../connectors/sdk/types.js';
import {
  createParquetWriter,
  type ParquetColumn,
  ParquetConversionError,
} from '../../../../engine/parquet/index.js';
import { useDuckScratch } from '../../../support/duck-scratch.js';
import { oracleMicros } from '../../../support/timestamp-oracle.js';

/** Instants at the ends of 0001–9999, far from 1970, and on both sides of ±2^53 µs. */
const INSTANTS = [
  '9999-12-31T23:59:59.999999Z',
  '0001-01-01T00:00:00.000000Z',
  '2300-06-15T12:34:56.789012Z',
  '1500-01-01T00:00:00.000001Z',
  '2255-06-05T23:47:34.740991Z', // 2^53 - 1
  '2255-06-05T23:47:34.740992Z', // 2^53
  '2255-06-05T23:47:34.740993Z', // 2^53 + 1
  '1684-07-28T00:12:25.259009Z', // -2^53 + 1
  '1684-07-28T00:12:25.259008Z', // -2^53
  '1684-07-28T00:12:25.259007Z', // -2^53 - 1
  '2024-03-15T10:22:31.123457Z',
];

describe('RowConverter timestamps', () => {
  const scratch = useDuckScratch('sluice-convert-');

  /** Writes one row group through the real writer; returns the file's path. */
  async function write(
    columns: readonly ParquetColumn[],
    rows: readonly SourceRecord[],
    constants?: Record<string, unknown>,
  ): Promise<string> {
    const path = scratch.path();
    const handle = await open(path, 'w');
    const writer = createParquetWriter(columns, async (chunk) => {
      await handle.write(chunk);
    });
    try {
      await writer.writeRowGroup(rows, constants);
      await writer.finish();
    } finally {
      await writer.close();
      await handle.close();
    }
    return path;
  }

  /** Epoch microseconds of column `at`, row by row, as DuckDB reads them. */
  async function micros(path: string): Promise<(bigint | null)[]> {
    const reader = await scratch.db.runAndReadAll(`SELECT epoch_us("at") AS us FROM read_parquet('${path}')`);
    return reader.getRowObjectsJS().map((r) => r.us as bigint | null);
  }

  it('has instants on both sides of ±2^53 µs', () => {
    // Assess
    const boundary = 2n ** 53n;
    expect(INSTANTS.slice(4, 10).map(oracleMicros)).toEqual([
      boundary - 1n,
      boundary,
      boundary + 1n,
      -boundary + 1n,
      -boundary,
      -boundary - 1n,
    ]);
  });

  it('lands every instant exactly from canonical ISO text, however far from 1970', async () => {
    // Prepare
    const rows = INSTANTS.map((at) => ({ at }));

    // Act
    const path = await write([{ name: 'at', type: 'timestamp' }], rows);

    // Assess
    expect(await micros(path)).toEqual(INSTANTS.map(oracleMicros));
  });

  it('lands every instant exactly from the other ISO forms: space, offsets, nine fraction digits, date only', async () => {
    // Prepare
    const texts = [
      ...INSTANTS.map((s) => `${s.slice(0, 10)} ${s.slice(11, 26)}+00:00`),
      '9999-12-31T23:59:59.999999999Z',
      '9999-12-31T23:59:59.999999-05:00',
      '0001-01-01T05:30:00.000001+05:30',
      '9999-12-31',
      '0001-01-01',
      '2300-06-15T12:34',
    ];
    const rows = texts.map((at) => ({ at }));

    // Act
    const path = await write([{ name: 'at', type: 'timestamp' }], rows);

    // Assess
    expect(await micros(path)).toEqual(texts.map(oracleMicros));
  });

  it('lands Dates, epoch milliseconds as numbers and bigints, and text Date.parse reads, exactly', async () => {
    // Prepare
    const lastMs = oracleMicros('9999-12-31T23:59:59.999Z') / 1000n;
    const firstMs = oracleMicros('0001-01-01T00:00:00Z') / 1000n;
    const rows = [
      { at: new Date('9999-12-31T23:59:59.999Z') },
      { at: new Date('0001-01-01T00:00:00.001Z') },
      { at: Number(lastMs) },
      { at: Number(lastMs) + 0.5 },
      { at: Number(firstMs) - 0.25 },
      { at: lastMs },
      { at: firstMs },
      { at: 'Fri, 31 Dec 9999 23:59:59 GMT' },
    ];

    // Act
    const path = await write([{ name: 'at', type: 'timestamp' }], rows);

    // Assess
    expect(await micros(path)).toEqual([
      lastMs * 1000n,
      firstMs * 1000n + 1000n,
      lastMs * 1000n,
      lastMs * 1000n + 500n,
      firstMs * 1000n - 250n,
      lastMs * 1000n,
      firstMs * 1000n,
      oracleMicros('9999-12-31T23:59:59Z'),
    ]);
  });

  it('refuses epoch milliseconds whose microseconds do not fit an int64, naming the column and row', async () => {
    // Prepare: the last whole millisecond that fits, then values just past either end.
    const lastMs = (2n ** 63n - 1n) / 1000n;
    const tooLate = [1e19, Number(lastMs) + 1000, lastMs + 1n];
    const tooEarly = [-1e19, -(lastMs + 2n)];

    // Act / Assess: nothing lands garbage; the error says what and where.
    for (const at of [...tooLate, ...tooEarly]) {
      const attempt = write([{ name: 'at', type: 'timestamp' }], [{ at: 0 }, { at }]);
      await expect(attempt, String(at)).rejects.toBeInstanceOf(ParquetConversionError);
      await expect(write([{ name: 'at', type: 'timestamp' }], [{ at: 0 }, { at }])).rejects.toThrow(
        /column "at" at row 1/,
      );
    }
    expect(await micros(await write([{ name: 'at', type: 'timestamp' }], [{ at: lastMs }]))).toEqual([
      lastMs * 1000n,
    ]);
  });

  it('fills a constant timestamp column beyond 2^53 µs exactly on every row', async () => {
    // Prepare
    const columns: ParquetColumn[] = [
      { name: 'id', type: 'int' },
      { name: 'at', type: 'timestamp' },
    ];

    // Act
    const path = await write(columns, [{ id: 1 }, { id: 2 }], { at: '9999-12-31T23:59:59.999999Z' });

    // Assess
    const max = oracleMicros('9999-12-31T23:59:59.999999Z');
    expect(await micros(path)).toEqual([max, max]);
  });

  it('takes the UTC day of a timestamp in a date column, a microsecond before midnight included', async () => {
    // Prepare
    const texts = [
      '9999-12-31T23:59:59.999999Z',
      '1000-01-01T23:59:59.999999Z',
      '0001-01-01T00:00:00.000000Z',
      '2300-06-15T23:59:59.999999Z',
    ];

    // Act
    const path = await write(
      [{ name: 'day', type: 'date' }],
      texts.map((day) => ({ day })),
    );

    // Assess
    const reader = await scratch.db.runAndReadAll(
      `SELECT CAST("day" AS VARCHAR) AS day FROM read_parquet('${path}')`,
    );
    expect(reader.getRowObjectsJS().map((r) => r.day)).toEqual(texts.map((t) => t.slice(0, 10)));
  });
});
