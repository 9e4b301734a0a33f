/**
 * `sluice --api <url> …`: sources add/list, sync and runs against a deployed
 * API (or `sluice serve`) instead of a backend opened in this process.
 * Requests are SigV4-signed (cli/api-client.ts); answers print as the local
 * commands print theirs.
 */
import type { RunRecord } from '../../engine/ports.js';
import { SOURCE_NAME } from '../../engine/sources.js';
import { ApiClient } from '../api-client.js';
import { renderTable } from '../format.js';
import { printLine, printResult } from '../output.js';
import { renderRun, renderRuns } from './runs.js';
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

/** `runs <source> [run]` or `runs <run>` against the API: a list, or one run (`GET /sources/{name}/runs/{id}`, `GET /runs/{id}`). */
export async function runsRemote(
  api: ApiClient,
  name: string,
  runId: string | undefined,
  limit: number,
  json: boolean,
): Promise<void> {
  if (runId === undefined && SOURCE_NAME.test(name)) return listRunsRemote(api, name, limit, json);
  const run = (await api.request(
    'GET',
    runId === undefined ? `/runs/${path(name)}` : `/sources/${path(name)}/runs/${path(runId)}`,
  )) as RunRecord;
  printResult(json, run, (r) => renderRun(r));
}
