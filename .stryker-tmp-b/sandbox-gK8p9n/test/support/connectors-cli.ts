/**
 * Helpers for the connector tests that drive the real `sluice` CLI: register a
 * source from JSON on stdin, sync it and read the run report, query the lake,
 * and look for a secret in the files a home keeps.
 */
// @ts-nocheck

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type CliResult, runCli } from './cli.js';

/** Runs the CLI and fails the test, showing stderr, when it exits non-zero. */
export async function cliOk(args: readonly string[], home: string, input?: string): Promise<CliResult> {
  const result = await runCli(args, { home, ...(input === undefined ? {} : { input }) });
  expect(result.code, `sluice ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result;
}

/** `sluice sources add --file -` with the definition on stdin. */
export async function addSource(home: string, definition: Record<string, unknown>): Promise<CliResult> {
  return cliOk(['sources', 'add', '--file', '-'], home, JSON.stringify(definition));
}

/** One stream's line of the run report `sluice sync` prints. */
export interface ReportLine {
  readonly sync: 'full' | 'incremental';
  readonly rows: number;
  readonly skipped: number;
}

export interface SyncReport {
  readonly status: string;
  readonly streams: Readonly<Record<string, ReportLine>>;
  readonly text: string;
}

const count = (text: string): number => Number(text.replace(/,/g, ''));

/** Parses the report `formatRunReport` renders: a status line, then `stream  sync  rows  skipped  …`. */
export function parseRunReport(text: string): SyncReport {
  const status = /^run \S+ · source \S+ · (\w+) in /m.exec(text)?.[1] ?? 'unknown';
  const streams: Record<string, ReportLine> = {};
  for (const match of text.matchAll(/^([a-z][a-z0-9_]*)\s+(full|incremental)\s+([\d,]+)\s+([\d,]+)\s/gm)) {
    streams[match[1]!] = {
      sync: match[2] as ReportLine['sync'],
      rows: count(match[3]!),
      skipped: count(match[4]!),
    };
  }
  return { status, streams, text };
}

/** `sluice sync <source> --quiet [args…]`, its printed report parsed. */
export async function sync(home: string, source: string, args: readonly string[] = []): Promise<SyncReport> {
  const result = await cliOk(['sync', source, '--quiet', ...args], home);
  return parseRunReport(result.stdout);
}

/** How many slices the run `sluice runs <source> --json` lists first (the latest) published. */
export async function latestRunSlices(home: string, source: string): Promise<number> {
  const result = await cliOk(['runs', source, '--json'], home);
  const runs = JSON.parse(result.stdout) as { slices?: number }[];
  return runs[0]?.slices ?? 0;
}

/**
 * Every row of a table, the columns that name the run left out, sorted: two
 * lakes that landed the same records compare equal row for row, repeats included.
 */
export async function tableRows(home: string, table: string): Promise<string[]> {
  const rows = await query(home, `SELECT * EXCLUDE (_sluice_run_id, _sluice_extracted_at) FROM ${table}`);
  return rows.map((row) => JSON.stringify(row)).sort();
}

/** `sluice query <sql> --json`: the rows. */
export async function query<T = Record<string, unknown>>(home: string, sql: string): Promise<T[]> {
  const result = await cliOk(['query', sql, '--json'], home);
  return JSON.parse(result.stdout) as T[];
}

/** Every file under `dir` (recursively) whose content contains `needle`, as paths relative to `dir`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const hits: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) hits.push(path.slice(dir.length + 1));
  }
  return hits;
}

/** How many files `filesContaining` looked at, so a test can tell an empty directory from a clean one. */
export async function fileCount(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).length;
}

/** One record version as `id|name|cursor instant`, from a server row or a lake row alike. */
export function itemVersion(item: object): string {
  const row = item as Readonly<Record<string, unknown>>;
  const at = row.updated_at;
  const instant = at instanceof Date ? at : new Date(String(at));
  return `${Number(row.id)}|${String(row.name)}|${instant.toISOString()}`;
}

/**
 * The server's ground truth for an append-only raw table: every distinct
 * version the server held when a successful sync read it, sorted. A lake
 * must hold exactly these, once each.
 */
export function versionsShown(snapshots: readonly (readonly object[])[]): string[] {
  return [...new Set(snapshots.flatMap((rows) => rows.map(itemVersion)))].sort();
}

/** The lake's rows as versions, sorted, duplicates kept. */
export async function landedItemVersions(home: string, table: string): Promise<string[]> {
  return (await query(home, `SELECT id, name, updated_at FROM ${table}`)).map(itemVersion).sort();
}
