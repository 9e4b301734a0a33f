/**
 * SQL models: `models/<name>.sql` files, each one SELECT that names its
 * inputs as `ref('shop__orders__current')` (a raw table, a current table or
 * another model). They run after the merge in dependency order and are
 * materialised as tables named after their files. A model that cannot run
 * fails the stage with its file's path.
 *
 * Locally a model is a Parquet file `models/<name>/<runId>/data.parquet` and
 * `models/<name>/_current.json` names the live one (written last, atomically);
 * it is written beside it first and renamed into place, so a re-run for the
 * same run never exposes a partial file;
 * on Athena it is an Iceberg table built by CTAS next to the old one, then
 * swapped in by DROP + RENAME.
 */

import { SluiceError } from '../errors.js';
import type { ObjectStore, QueryEngine } from '../ports.js';
import { ModelError } from './errors.js';
import { quoteIdentifier, quoteString } from './merge-sql.js';

export interface ModelFile {
  /** As the user knows it, e.g. `models/orders_by_status.sql`. */
  readonly path: string;
  readonly sql: string;
}

export interface Model extends ModelFile {
  readonly name: string;
  /** Names given to `ref(…)`, in order of appearance, without repeats. */
  readonly refs: readonly string[];
}

/**
 * Where the deployed service reads the SQL models: `_models/<name>.sql` in
 * the lake (a Lambda has no `./models`; `aws s3 sync models/
 * s3://<bucket>/_models/` publishes them). Only direct children count.
 */
export const LAKE_MODELS_PREFIX = '_models/';

/** The SQL models kept in the lake under `_models/`, by name; none when there are none. */
export async function loadLakeModels(objects: ObjectStore): Promise<ModelFile[]> {
  const decoder = new TextDecoder();
  const keys = (await objects.list(LAKE_MODELS_PREFIX))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.sql') && !k.slice(LAKE_MODELS_PREFIX.length).includes('/'))
    .sort();
  const files: ModelFile[] = [];
  for (const key of keys) {
    const bytes = await objects.get(key);
    if (bytes) files.push({ path: key, sql: decoder.decode(bytes) });
  }
  return files;
}

const REF = /\bref\(\s*(['"])([A-Za-z0-9_]+)\1\s*\)/g;
const NAME = /^[a-z][a-z0-9_]{0,127}$/;

export function modelPointerKey(name: string): string {
  return `models/${name}/_current.json`;
}

export function modelDataKey(name: string, version: string): string {
  return `models/${name}/${version}/data.parquet`;
}

/** Where DuckDB writes a model before it is renamed to its data key (never a key a pointer names). */
export function modelBuildKey(name: string, version: string): string {
  return `models/${name}/${version}/_building.parquet`;
}

export function parseModel(file: ModelFile): Model {
  const base = file.path.split('/').at(-1) ?? file.path;
  if (!base.endsWith('.sql')) throw new ModelError(file.path, 'a model file ends in .sql');
  const name = base.slice(0, -'.sql'.length);
  if (!NAME.test(name)) {
    throw new ModelError(
      file.path,
      `"${name}" is not a table name (lowercase letters, digits and _, starting with a letter)`,
    );
  }
  const sql = file.sql.trim().replace(/;\s*$/, '');
  if (!/^(with|select)\b/i.test(sql))
    throw new ModelError(file.path, 'a model is one SELECT (or WITH … SELECT)');
  if (sql.includes(';')) throw new ModelError(file.path, 'a model is one statement; it has a ";" inside');
  const refs = [...new Set([...sql.matchAll(REF)].map((m) => m[2]!))];
  return { ...file, sql, name, refs };
}

/** Models in dependency order (a model after every model it refs); a cycle fails naming its files. */
export function orderModels(files: readonly ModelFile[]): Model[] {
  const models = files.map(parseModel);
  const byName = new Map<string, Model>();
  for (const model of models) {
    const other = byName.get(model.name);
    if (other) throw new ModelError(model.path, `has the same name as ${other.path}`);
    byName.set(model.name, model);
  }
  const ordered: Model[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (model: Model, path: readonly Model[]): void => {
    if (state.get(model.name) === 'done') return;
    if (state.get(model.name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(model)), model].map((m) => m.path).join(' → ');
      throw new ModelError(model.path, `refs form a cycle: ${cycle}`);
    }
    state.set(model.name, 'visiting');
    for (const ref of model.refs) {
      const dependency = byName.get(ref);
      if (dependency) visit(dependency, [...path, model]);
    }
    state.set(model.name, 'done');
    ordered.push(model);
  };
  for (const model of [...models].sort((a, b) => (a.name < b.name ? -1 : 1))) visit(model, []);
  return ordered;
}

/** The model's SELECT with every `ref('x')` replaced by the table it names. */
export function resolveRefs(model: Model): string {
  return model.sql.replace(REF, (_match, _quote, name: string) => quoteIdentifier(name));
}

/** The statements that (re)build a model as a table, in the engine's dialect. */
export function renderModel(
  model: Model,
  dialect: 'duckdb' | 'athena',
  options: { uri: (key: string) => string; version: string },
): string[] {
  const select = resolveRefs(model);
  if (dialect === 'duckdb') {
    return [
      `COPY (${select}) TO ${quoteString(options.uri(modelBuildKey(model.name, options.version)))} (FORMAT parquet, COMPRESSION zstd)`,
    ];
  }
  const next = `${model.name}__sluice_next`;
  return [
    `DROP TABLE IF EXISTS \`${next}\``,
    `CREATE TABLE ${quoteIdentifier(next)} WITH (table_type = 'ICEBERG', is_external = false, location = ${quoteString(options.uri(`models/${model.name}/${options.version}/`))}) AS ${select}`,
    // Hive DDL: Athena quotes identifiers with backticks there (the CTAS above is Trino SQL).
    // A failed RENAME leaves the model missing until the stage's retry rebuilds it (docs/transforms.md).
    `DROP TABLE IF EXISTS \`${model.name}\``,
    `ALTER TABLE \`${next}\` RENAME TO \`${model.name}\``,
  ];
}

export interface ModelDeps {
  readonly objects: ObjectStore;
  readonly engine: () => Promise<QueryEngine>;
}

/** Builds every model in dependency order; returns the models built. */
export async function runModels(
  deps: ModelDeps,
  files: readonly ModelFile[],
  version: string,
): Promise<Model[]> {
  const models = orderModels(files);
  if (models.length === 0) return [];
  const engine = await deps.engine();
  const built: Model[] = [];
  const encoder = new TextEncoder();
  for (const model of models) {
    const uri = (key: string) => deps.objects.uri(key);
    try {
      if (engine.dialect === 'athena') {
        for (const sql of renderModel(model, 'athena', { uri, version })) await engine.query(sql);
      } else {
        // Built beside the live file, then renamed over it: a re-run for the same run id (whose
        // data key is the file the pointer names) never leaves a placeholder where readers look.
        const key = modelDataKey(model.name, version);
        const building = modelBuildKey(model.name, version);
        await deps.objects.put(building, new Uint8Array()); // the directory DuckDB writes into
        for (const sql of renderModel(model, 'duckdb', { uri, version })) await engine.query(sql);
        await deps.objects.move(building, key);
        await deps.objects.put(
          modelPointerKey(model.name),
          encoder.encode(JSON.stringify({ key, path: model.path })),
        );
        await deps.objects.deletePrefix(`models/${model.name}/`, new Set([key, modelPointerKey(model.name)]));
      }
    } catch (error) {
      if (error instanceof ModelError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      // A throttle or an engine fault is the stage's to retry; only the model's own SQL is fatal.
      if (isTransient(error)) throw new SluiceError(`model ${model.path}: ${reason}`, { cause: error });
      throw new ModelError(model.path, reason, { cause: error });
    }
    built.push(model);
  }
  return built;
}

/**
 * Whether a failed model statement may succeed when tried again: the
 * engine's own fault (a SluiceError with a 5xx status: Athena's system
 * errors, a timed-out query, Trino's internal errors), an AWS service
 * error that is a throttle or a server fault, or a network error. The rest
 * (Athena's user errors, DuckDB's binder and parser errors) are the model's.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof SluiceError) return error.statusCode >= 500;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $fault?: unknown; $retryable?: unknown; name?: unknown; code?: unknown };
  if (e.$fault === 'server') return true;
  if (e.$fault === 'client') {
    return e.$retryable !== undefined || /Throttl|TooManyRequests/.test(String(e.name));
  }
  return typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && e.code !== 'ENOENT';
}
