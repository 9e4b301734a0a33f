/**
 * What keeping 64-bit integers exact costs a JSON source (connectors/sdk/json.ts):
 * `JSON.parse` against `parseJsonExact` on REST-like pages of the benchmark's
 * order rows (`{"data": [1,000 rows]}`, ~490 KB, no integer of 16 digits, so
 * the digit-run scan finds none), and on the same page with 64-bit ids (the
 * slow path: mark, parse, restore). CPU ms per page, median of 9 rounds of 200
 * pages after a warm-up; one JSON line.
 *
 *   npx tsx bench/json-exact.ts
 */
import os from 'node:os';
import { parseJsonExact } from '../connectors/sdk/json.js';
import { buildPool } from './pool.js';

const PAGES = 200;
const pool = buildPool();
const page = JSON.stringify({ data: pool.slice(0, 1000) });
// The same rows with snowflake-style ids (19 digits), as an API with 64-bit keys sends them.
const withIds = JSON.stringify({ data: pool.slice(0, 1000).map((row) => ({ ...row, id: 0 })) }).replace(
  /"id":0/g,
  (() => {
    let n = 0;
    return () => `"id":${1_234_567_890_123_000_000n + BigInt(n++)}`;
  })(),
);

function cpuMsPerPage(parse: (text: string) => unknown, text: string): number {
  const rounds: number[] = [];
  for (let r = 0; r < 10; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < PAGES; i++) parse(text);
    const used = process.cpuUsage(start);
    if (r > 0) rounds.push((used.user + used.system) / 1000 / PAGES);
  }
  return rounds.sort((a, b) => a - b)[rounds.length >> 1]!;
}

const round = (ms: number): number => Number(ms.toFixed(3));
const jsonParse = cpuMsPerPage((t) => JSON.parse(t), page);
const exact = cpuMsPerPage(parseJsonExact, page);
const exactWithIds = cpuMsPerPage(parseJsonExact, withIds);
console.log(
  JSON.stringify({
    workload: 'json-exact',
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      node: process.version,
      platform: process.platform,
    },
    loadavg: os.loadavg().map((l) => round(l)),
    pageBytes: page.length,
    rowsPerPage: 1000,
    jsonParseMs: round(jsonParse),
    parseJsonExactMs: round(exact),
    overhead: round(exact / jsonParse - 1),
    pageWithIdsBytes: withIds.length,
    jsonParseWithIdsMs: round(cpuMsPerPage((t) => JSON.parse(t), withIds)),
    parseJsonExactWithIdsMs: round(exactWithIds),
  }),
);
