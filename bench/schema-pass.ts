/**
 * The record path's schema step and conversion, in this thread, for ADR 0011:
 * 1M benchmark rows in write batches of 4,500 records, either converted after
 * `StreamSchema.apply` (the schema step, which rebuilds the rows when keys are
 * renamed) or in one pass by `convertIfFits`. Run with the rows' own
 * snake_case keys and with camelCase keys, which Glue's names turn back into
 * snake_case columns (renamed). CPU ms per million rows, best of 3 after a
 * warm-up pass.
 *
 *   npx tsx bench/schema-pass.ts [--rows 1000000]
 */
import os from 'node:os';
import type { SourceRecord } from '../connectors/sdk/types.js';
import { RowConverter } from '../engine/parquet/convert.js';
import { METADATA_COLUMNS, StreamSchema } from '../engine/schema.js';
import { buildPool, pages } from './pool.js';

const BATCH = 4_500;
const at = process.argv.indexOf('--rows');
const rows = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
const constants = { _sluice_run_id: 'run', _sluice_extracted_at: new Date(), _sluice_source: 'bench' };
const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function batchesOf(keys: 'snake_case' | 'camelCase'): SourceRecord[][] {
  const records = [...pages(buildPool(), rows)].flat() as SourceRecord[];
  // Through JSON, as an API's records arrive: flat strings, one key order.
  const shaped =
    keys === 'snake_case'
      ? records
      : (JSON.parse(
          JSON.stringify(
            records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [camel(k), v]))),
          ),
        ) as SourceRecord[]);
  const batches: SourceRecord[][] = [];
  for (let i = 0; i < shaped.length; i += BATCH) batches.push(shaped.slice(i, i + BATCH));
  return batches;
}

function cpuMs(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

const loadBefore = os.loadavg();
for (const keys of ['snake_case', 'camelCase'] as const) {
  const batches = batchesOf(keys);
  const schema = new StreamSchema([], { [keys === 'snake_case' ? 'created_at' : 'createdAt']: 'timestamp' });
  schema.apply(batches[0]!);
  const converter = new RowConverter([...schema.columns, ...METADATA_COLUMNS]);
  const ways: [string, () => void][] = [
    [
      'schema step + convert',
      () => {
        for (const b of batches) converter.convert(schema.apply(b).rows, constants);
      },
    ],
    [
      'one pass (convertIfFits)',
      () => {
        for (const b of batches) {
          const check = schema.fusedCheck(b[0]!);
          if (check === undefined || converter.convertIfFits(b, constants, check) === undefined)
            throw new Error(`A ${keys} batch did not take the one pass`);
        }
      },
    ],
  ];
  for (const [way, work] of ways) {
    work();
    const best = Math.min(cpuMs(work), cpuMs(work), cpuMs(work));
    process.stdout.write(
      `${JSON.stringify({ keys, way, rows, cpuMsPerMillionRows: Math.round((best * 1e6) / rows) })}\n`,
    );
  }
}
process.stdout.write(
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadavg: { before: loadBefore.map((l) => Number(l.toFixed(2))), after: os.loadavg().map((l) => Number(l.toFixed(2))) } })}\n`,
);
