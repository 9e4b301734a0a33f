/**
 * `sluice --api <url> …`: sources add/list, sync and runs against a deployed
 * API (or `sluice serve`) instead of a backend opened in this process.
 * Requests are SigV4-signed (cli/api-client.ts); answers print as the local
 * commands print theirs.
 */
// @ts-nocheck

import type { RunRecord } from '../../engine/ports.js';
import { ApiClient } from '../api-client.js';
import { renderTable } from '../format.js';
import { printLine, printResult } from '../output.js';
import { renderRuns } from './runs.js';
import { readJsonFile } from './sources.js';

interface SourceView {
  readonly name: string;
  readonly type: string;
  readonly schedule?: string;
  readonly paused?: boolean;
  readonly secrets?: Readonly<Record<string, string>>;
}

const path = (name: string): string => encodeURIComponent(name);

export function apiClient(url: string): ApiClient {
  return new ApiClient({ url });
}

export async function addSourceRemote(api: ApiClient, file: string, json: boolean): Promise<void> {
  const definition = await readJsonFile(file);
  const created = (await api.request('POST', '/sources', definition)) as SourceView;
  printResult(json, created, (s) => `added source "${s.name}" (${s.type})`);
}

export async function listSourcesRemote(api: ApiClient, json: boolean): Promise<void> {
  const sources = await api.all<SourceView>('/sources?limit=100');
  printResult(json, sources, (all) =>
    all.length === 0
      ? 'no sources yet'
      : renderTable(
          ['source', 'type', 'schedule'],
          all.map((s) => [s.name, s.type, s.schedule ? `${s.schedule}${s.paused ? ' (paused)' : ''}` : '-']),
        ),
  );
}

export async function syncRemote(
  api: ApiClient,
  name: string,
  streams: readonly string[] | undefined,
  json: boolean,
): Promise<void> {
  const started = (await api.request('POST', `/sources/${path(name)}/sync`, streams ? { streams } : {})) as {
    runId: string;
  };
  printResult(
    json,
    started,
    (s) => `started run ${s.runId} of "${name}"; follow it with: sluice --api <url> runs ${name}`,
  );
}

export async function listRunsRemote(
  api: ApiClient,
  source: string,
  limit: number,
  json: boolean,
): Promise<void> {
  const runs = await api.all<RunRecord>(
    `/sources/${path(source)}/runs?limit=${Math.min(100, Math.max(1, limit))}`,
    limit,
  );
  if (json) printResult(true, runs, () => '');
  else printLine(renderRuns(runs, source));
}
