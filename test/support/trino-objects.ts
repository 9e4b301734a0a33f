import type { ObjectStore } from '../../engine/ports.js';

/** The lake as Trino addresses it: `local:///abs/path`. */
export function trinoObjects(objects: ObjectStore): ObjectStore {
  return Object.assign(Object.create(objects) as ObjectStore, {
    uri: (key: string) => `local://${objects.uri(key)}`,
  });
}
