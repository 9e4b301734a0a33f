/**
 * The embedded local backend: everything under one home directory
 * (e.g. `.sluice/`), nothing but Node and DuckDB.
 *
 *   <home>/lake/      the bucket (raw/, _staging/, manifests, …)
 *   <home>/state/     sources, cursors, runs, leases
 *   <home>/catalog/   tables, schema versions, committed files
 */
// @ts-nocheck

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Backend, QueryEngine } from '../../engine/ports.js';
import { LocalCatalog } from './catalog.js';
import { LocalObjectStore } from './object-store.js';
import { DuckDbQueryEngine } from './query-engine.js';
import { LocalSecretStore } from './secret-store.js';
import { LocalStateStore } from './state-store.js';

export type { LocalCatalogOptions } from './catalog.js';
export { LocalCatalog } from './catalog.js';
export type { FileLockOptions } from './lock.js';
export { LocalObjectStore } from './object-store.js';
export type { DuckDbQueryEngineOptions } from './query-engine.js';
export { DuckDbQueryEngine, formatTable, PARTITION_COLUMN } from './query-engine.js';
export { LocalSecretStore } from './secret-store.js';
export type { LocalStateStoreOptions } from './state-store.js';
export { LocalStateStore } from './state-store.js';

export interface LocalBackend extends Backend {
  /** Absolute path of the home directory. */
  readonly home: string;
  readonly objects: LocalObjectStore;
  readonly state: LocalStateStore;
  readonly catalog: LocalCatalog;
  readonly secrets: LocalSecretStore;
  /** A fresh DuckDB over the lake; close it when done. */
  openQueryEngine(): Promise<QueryEngine>;
}

export async function openLocalBackend(home: string): Promise<LocalBackend> {
  const root = resolve(home);
  const dirs = { lake: join(root, 'lake'), state: join(root, 'state'), catalog: join(root, 'catalog') };
  await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })));
  const objects = new LocalObjectStore(dirs.lake);
  const state = new LocalStateStore(dirs.state);
  const catalog = new LocalCatalog(dirs.catalog);
  return {
    home: root,
    objects,
    state,
    catalog,
    secrets: new LocalSecretStore(root),
    openQueryEngine: () => DuckDbQueryEngine.open({ catalog, objects, state }),
  };
}
