/**
 * Generated record builders (`new Function` code per header or schema),
 * shared by every file of the process: a drop of many small files with one
 * header compiles one builder, which the JIT then optimizes once, instead
 * of a fresh, cold one per file. The newest few dozen keys are kept.
 */
const MAX_KEYS = 64;
const builders = new Map<string, unknown>();

/** The builder for `key`, made by `make` the first time (keys name their format and field names). */
export function generated<T>(key: string, make: () => T): T {
  let builder = builders.get(key) as T | undefined;
  if (builder === undefined) {
    if (builders.size >= MAX_KEYS) builders.delete(builders.keys().next().value as string);
    builder = make();
    builders.set(key, builder);
  }
  return builder;
}
