/**
 * The rewrite of compaction: small files landed by push, joined into one,
 * hold the same rows (as a multiset, duplicates kept) with the same
 * Parquet column types, read back by DuckDB as the local tier reads them.
 */
// @ts-nocheck

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventSink } from '../../../adapters/local/event-sink.js';
import { type CliContext, openContext } from '../../../cli/context.js';
import { rewriteParquet } from '../../../engine/compaction.js';
import { ValidationError } from '../../../engine/errors.js';

describe('rewriteParquet', () => {
  let home: string;
  let ctx: CliContext;
  const db = async (sql: string) => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJson();
    } finally {
      connection.closeSync();
    }
  };
  const list = (paths: readonly string[]) => `[${paths.map((p) => `'${p}'`).join(', ')}]`;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-compact-'));
    ctx = await openContext({ home, backend: 'local' });
    await ctx.state.putSource({
      name: 'hooks',
      type: 'push',
      config: {
        streams: [
          { name: 'clicks', columns: { id: 'bigint', amount: 'decimal(12,2)', at: 'timestamp' } },
          { name: 'views' },
        ],
      },
    } as never);
    const sink = new LocalEventSink(ctx);
    for (let batch = 0; batch < 6; batch++) {
      const records = Array.from({ length: 5 }, (_, i) => ({
        id: (batch * 5 + i) % 7,
        amount: `${batch}.${i}5`,
        at: `2026-11-27T10:0${batch}:0${i}Z`,
        page: i % 2 === 0 ? null : `/p${i}`,
      }));
      await sink.put(
        records.map((record) => ({
          v: 1,
          source: 'hooks',
          stream: 'clicks',
          record,
          receivedAt: '2026-11-27T10:00:00Z',
        })),
      );
    }
    await sink.put([
      { v: 1, source: 'hooks', stream: 'views', record: { name: 'x' }, receivedAt: '2026-11-27T10:00:00Z' },
    ]);
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('joins small pushed files into one with the same rows and column types', async () => {
    // Prepare
    const keys = (await ctx.objects.list('raw/hooks/clicks/')).map((o) => o.key);
    const bytes = await Promise.all(keys.map(async (k) => (await ctx.objects.get(k)) as Uint8Array));
    const uris = keys.map((k) => ctx.objects.uri(k));

    // Act
    const joined = rewriteParquet(bytes);
    await ctx.objects.put('compacted/out.parquet', joined);
    const out = ctx.objects.uri('compacted/out.parquet');

    // Assess
    const rows = (paths: readonly string[]) =>
      db(
        `SELECT id, amount::VARCHAR AS amount, "at"::VARCHAR AS "at", page FROM read_parquet(${list(paths)}) ORDER BY ALL`,
      );
    const types = (path: string) =>
      db(`SELECT name, type, converted_type, logical_type FROM parquet_schema('${path}') ORDER BY name`);
    expect(keys).toHaveLength(6);
    expect(await rows([out])).toEqual(await rows(uris));
    expect((await rows([out])).length).toBe(30);
    expect(await db(`SELECT count(DISTINCT id) AS n FROM read_parquet('${out}')`)).toEqual([{ n: '7' }]);
    expect(await types(out)).toEqual(await types(uris[0] as string));
  });

  it('refuses files written under different schemas, naming the file', async () => {
    // Prepare
    const clicks = (await ctx.objects.list('raw/hooks/clicks/'))[0]?.key as string;
    const views = (await ctx.objects.list('raw/hooks/views/'))[0]?.key as string;
    const files = [
      (await ctx.objects.get(clicks)) as Uint8Array,
      (await ctx.objects.get(views)) as Uint8Array,
    ];

    // Act
    const act = () => rewriteParquet(files);

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/file 1 of the group has another schema/);
    expect(() => rewriteParquet([])).toThrow(/no files/);
  });
});
