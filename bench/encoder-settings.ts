/**
 * What parquet-rs (parquet-wasm) spends encoding one row group of the
 * benchmark's rows under each writer setting, for ADR 0002: CPU time of
 * `writeParquet` on 65,536 converted rows (best of 4, this thread only) and
 * the bytes it writes. The engine's setting is the first line.
 *
 *   npx tsx bench/encoder-settings.ts [--rows 65536]
 */
import os from 'node:os';
import {
  Compression,
  EnabledStatistics,
  Table,
  type WriterProperties,
  WriterPropertiesBuilder,
  WriterVersion,
  writeParquet,
} from 'parquet-wasm';
import { ArrowIpcWriter } from '../engine/parquet/arrow.js';
import { RowConverter } from '../engine/parquet/convert.js';
import { plainColumns } from '../engine/parquet/dictionary.js';
import { buildPool, BENCH_COLUMNS as COLUMNS, pages } from './pool.js';

const at = process.argv.indexOf('--rows');
const rows = at > 0 ? Number(process.argv[at + 1]) : 65_536;
const records = [...pages(buildPool(), rows)].flat();
const data = new RowConverter(COLUMNS).convert(records);
const ipc = new ArrowIpcWriter(COLUMNS).write([data]);
const plain = plainColumns(COLUMNS, [data]);

/** Writer properties are consumed by each write: build them anew every time. */
function properties(compression: Compression, statistics: EnabledStatistics, dictionary = true) {
  return (): WriterProperties => {
    let builder = new WriterPropertiesBuilder()
      .setCompression(compression)
      .setStatisticsEnabled(statistics)
      .setWriterVersion(WriterVersion.V1)
      .setMaxRowGroupSize(rows);
    if (!dictionary) builder = builder.setDictionaryEnabled(false);
    else for (const name of plain) builder = builder.setColumnDictionaryEnabled(name, false);
    return builder.build();
  };
}

const settings: [string, () => WriterProperties][] = [
  ['snappy, page statistics (the engine)', properties(Compression.SNAPPY, EnabledStatistics.Page)],
  ['snappy, chunk statistics', properties(Compression.SNAPPY, EnabledStatistics.Chunk)],
  ['snappy, no statistics', properties(Compression.SNAPPY, EnabledStatistics.None)],
  ['uncompressed, page statistics', properties(Compression.UNCOMPRESSED, EnabledStatistics.Page)],
  ['zstd, page statistics', properties(Compression.ZSTD, EnabledStatistics.Page)],
  ['snappy, page statistics, no dictionary', properties(Compression.SNAPPY, EnabledStatistics.Page, false)],
];

const loadBefore = os.loadavg();
for (const [setting, build] of settings) {
  let best = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let i = 0; i < 4; i++) {
    const table = Table.fromIPCStream(ipc);
    const start = process.cpuUsage();
    bytes = writeParquet(table, build()).length;
    const cpu = process.cpuUsage(start);
    best = Math.min(best, (cpu.user + cpu.system) / 1000);
  }
  process.stdout.write(`${JSON.stringify({ setting, rows, cpuMs: Math.round(best), bytes })}\n`);
}
process.stdout.write(
  `${JSON.stringify({ loadavg: { before: loadBefore.map((l) => Number(l.toFixed(2))), after: os.loadavg().map((l) => Number(l.toFixed(2))) } })}\n`,
);
