/**
 * An encoder alternative measured for ADR 0002: DuckDB as the Parquet
 * encoder, fed the benchmark's JS rows through its appender, then
 * `COPY … TO '….parquet'`, one thread — the same N rows the engine lands in
 * `npm run bench`. Prints one JSON line (CPU-seconds beside wall time).
 *
 *   npx tsx bench/alternatives.ts [--rows 1000000]
 */
// @ts-nocheck

import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildPool, pages } from './pool.js';

const COLUMNS = [
  ['id', 'BIGINT'],
  ['account_id', 'INTEGER'],
  ['order_number', 'VARCHAR'],
  ['status', 'VARCHAR'],
  ['currency', 'VARCHAR'],
  ['amount', 'DOUBLE'],
  ['tax', 'DOUBLE'],
  ['discount', 'DOUBLE'],
  ['quantity', 'INTEGER'],
  ['is_gift', 'BOOLEAN'],
  ['customer_email', 'VARCHAR'],
  ['customer_name', 'VARCHAR'],
  ['shipping_country', 'VARCHAR'],
  ['shipping_city', 'VARCHAR'],
  ['shipping_postcode', 'VARCHAR'],
  ['coupon_code', 'VARCHAR'],
  ['created_at', 'VARCHAR'],
  ['notes', 'VARCHAR'],
  ['user_agent', 'VARCHAR'],
] as const;

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rows');
  const rows = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
  const work = await mkdtemp(join(os.tmpdir(), 'sluice-bench-alt-'));
  const loadBefore = os.loadavg();
  try {
    const duck = await DuckDBInstance.create(':memory:');
    const db = await duck.connect();
    await db.run('SET threads = 1');
    await db.run(`CREATE TABLE t (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
    const out = join(work, 'appender.parquet');
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const appender = await db.createAppender('t');
    for (const page of pages(buildPool(), rows)) {
      for (const row of page) {
        for (const [name, type] of COLUMNS) {
          const v = row[name];
          if (v === null || v === undefined) appender.appendNull();
          else if (type === 'BIGINT') appender.appendBigInt(BigInt(v as number));
          else if (type === 'INTEGER') appender.appendInteger(v as number);
          else if (type === 'DOUBLE') appender.appendDouble(v as number);
          else if (type === 'BOOLEAN') appender.appendBoolean(v as boolean);
          else appender.appendVarchar(v as string);
        }
        appender.endRow();
      }
    }
    appender.closeSync();
    const appended = performance.now();
    const appendCpu = process.cpuUsage(cpuStart);
    await db.run(
      `COPY (SELECT * REPLACE (created_at::TIMESTAMPTZ AS created_at) FROM t) TO '${out}' (FORMAT parquet)`,
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const bytes = (await stat(out)).size;
    db.closeSync();
    duck.closeSync();
    process.stdout.write(
      `${JSON.stringify({
        alternative: 'duckdb-appender-copy',
        rows,
        seconds: Number(seconds.toFixed(3)),
        appendSeconds: Number(((appended - started) / 1000).toFixed(3)),
        cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
        appendCpuSeconds: Number(((appendCpu.user + appendCpu.system) / 1e6).toFixed(3)),
        parquetBytes: bytes,
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        date: new Date().toISOString(),
        usableCores: os.availableParallelism(),
        loadavg: {
          before: loadBefore.map((l) => Number(l.toFixed(2))),
          after: os.loadavg().map((l) => Number(l.toFixed(2))),
        },
      })}\n`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
