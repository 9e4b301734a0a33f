import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../../adapters/local/object-store.js';
import { canFreeChunks, markChunkDisposable } from '../../../../engine/disposable-chunks.js';
import { NotFoundError, ValidationError } from '../../../../engine/errors.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined): string | undefined =>
  data === undefined ? undefined : new TextDecoder().decode(data);

describe('LocalObjectStore', () => {
  let root: string;
  let store: LocalObjectStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sluice-lake-'));
    store = new LocalObjectStore(root);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('frees the disposable chunks of a stream once written (Node ≥ 21), and only those', async () => {
    // Prepare
    const handed = [bytes('PAR1 row group one, '), bytes('row group two, ')];
    for (const chunk of handed) markChunkDisposable(chunk);
    const kept = bytes('footer');
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield* handed;
      yield kept;
    }

    // Act
    const size = await store.put('raw/t/file.parquet', chunks());

    // Assess
    expect(text(await store.get('raw/t/file.parquet'))).toBe('PAR1 row group one, row group two, footer');
    expect(size).toBe(41);
    // Node 20 cannot free: the chunks stay for the collector (test:node22 runs this file too).
    expect(handed.map((chunk) => chunk.byteLength)).toEqual(canFreeChunks() ? [0, 0] : [20, 15]);
    expect(text(kept)).toBe('footer');
  });

  it('writes bytes and chunk streams, returns the size, and reads them back', async () => {
    // Prepare
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield bytes('hello ');
      yield bytes('lake');
    }

    // Act
    const a = await store.put('raw/shop/orders/dt=2026-01-01/a.parquet', bytes('abc'));
    const b = await store.put('_manifests/shop/pending/r1.json', chunks());

    // Assess
    expect(a).toBe(3);
    expect(b).toBe(10);
    expect(text(await store.get('raw/shop/orders/dt=2026-01-01/a.parquet'))).toBe('abc');
    expect(text(await store.get('_manifests/shop/pending/r1.json'))).toBe('hello lake');
    expect(await store.get('raw/missing')).toBeUndefined();
    expect(await store.get('raw/shop')).toBeUndefined(); // a "directory" is not an object
  });

  it('never exposes a partial object while a put is still streaming', async () => {
    // Prepare
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstWritten!: () => void;
    const started = new Promise<void>((resolve) => {
      firstWritten = resolve;
    });
    async function* slow(): AsyncIterable<Uint8Array> {
      yield bytes('first half,');
      firstWritten();
      await gate;
      yield bytes('second half');
    }
    await store.put('raw/t/x.parquet', bytes('old'));

    // Act
    const writing = store.put('raw/t/x.parquet', slow());
    await started;
    const duringGet = text(await store.get('raw/t/x.parquet'));
    const duringList = await store.list('raw/');
    release();
    await writing;

    // Assess
    expect(duringGet).toBe('old');
    expect(duringList).toEqual([{ key: 'raw/t/x.parquet', size: 3 }]);
    expect(text(await store.get('raw/t/x.parquet'))).toBe('first half,second half');
    expect((await readdir(join(root, 'raw/t'))).sort()).toEqual(['x.parquet']);
  });

  it('leaves neither an object nor a temp file when the body fails mid-stream', async () => {
    // Prepare
    async function* failing(): AsyncIterable<Uint8Array> {
      yield bytes('partial');
      throw new Error('source went away');
    }

    // Act
    const put = store.put('raw/t/y.parquet', failing());

    // Assess
    await expect(put).rejects.toThrow('source went away');
    expect(await store.get('raw/t/y.parquet')).toBeUndefined();
    expect(await readdir(join(root, 'raw/t'))).toEqual([]);
  });

  it('lists recursively and sorted, relative to the root, ignoring temp files left by killed writers', async () => {
    // Prepare
    await store.put('raw/shop/orders/dt=2026-01-02/b.parquet', bytes('bb'));
    await store.put('raw/shop/orders/dt=2026-01-01/a.parquet', bytes('a'));
    await store.put('raw/shop/orders_archive/z.parquet', bytes('z'));
    await store.put('raw/crm/contacts/dt=2026-01-01/c.parquet', bytes('c'));
    await store.put('_staging/shop/r1/orders/00000.parquet', bytes('s'));
    // What a writer killed between open and rename leaves behind:
    await writeFile(join(root, 'raw/shop/orders/dt=2026-01-01/.a.parquet.4242.abcdef.tmp'), 'half');

    // Act
    const all = await store.list('');
    const orders = await store.list('raw/shop/orders/');
    const partial = await store.list('raw/shop/ord');

    // Assess
    expect(all.map((o) => o.key)).toEqual([
      '_staging/shop/r1/orders/00000.parquet',
      'raw/crm/contacts/dt=2026-01-01/c.parquet',
      'raw/shop/orders/dt=2026-01-01/a.parquet',
      'raw/shop/orders/dt=2026-01-02/b.parquet',
      'raw/shop/orders_archive/z.parquet',
    ]);
    expect(orders).toEqual([
      { key: 'raw/shop/orders/dt=2026-01-01/a.parquet', size: 1 },
      { key: 'raw/shop/orders/dt=2026-01-02/b.parquet', size: 2 },
    ]);
    expect(partial.map((o) => o.key)).toEqual([
      'raw/shop/orders/dt=2026-01-01/a.parquet',
      'raw/shop/orders/dt=2026-01-02/b.parquet',
      'raw/shop/orders_archive/z.parquet',
    ]);
    expect(await store.list('nothing/here/')).toEqual([]);
  });

  it('moves idempotently: a repeated move succeeds once the target exists and the source is gone', async () => {
    // Prepare
    await store.put('_staging/shop/r1/orders/00000.parquet', bytes('data'));

    // Act
    await store.move(
      '_staging/shop/r1/orders/00000.parquet',
      'raw/shop/orders/dt=2026-01-01/r1-00000.parquet',
    );
    await store.move(
      '_staging/shop/r1/orders/00000.parquet',
      'raw/shop/orders/dt=2026-01-01/r1-00000.parquet',
    );

    // Assess
    expect(text(await store.get('raw/shop/orders/dt=2026-01-01/r1-00000.parquet'))).toBe('data');
    expect(await store.get('_staging/shop/r1/orders/00000.parquet')).toBeUndefined();
    // Empty staging directories are pruned, as prefixes vanish in S3.
    expect(await readdir(root)).toEqual(['raw']);
  });

  it('throws NotFoundError when moving an object that exists at neither end', async () => {
    // Act
    const move = store.move('_staging/none.parquet', 'raw/none.parquet');

    // Assess
    await expect(move).rejects.toBeInstanceOf(NotFoundError);
    await expect(move).rejects.toMatchObject({ statusCode: 404 });
  });

  it('overwrites the target of a move, like an S3 copy', async () => {
    // Prepare
    await store.put('a/new.parquet', bytes('new'));
    await store.put('b/old.parquet', bytes('old'));

    // Act
    await store.move('a/new.parquet', 'b/old.parquet');

    // Assess
    expect(text(await store.get('b/old.parquet'))).toBe('new');
  });

  it('deletes, succeeding when the object is already gone', async () => {
    // Prepare
    await store.put('_manifests/shop/pending/r1.json', bytes('{}'));
    await mkdir(join(root, 'keep'), { recursive: true });

    // Act
    await store.delete('_manifests/shop/pending/r1.json');
    await store.delete('_manifests/shop/pending/r1.json');

    // Assess
    expect(await store.list('_manifests/')).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(['keep']);
  });

  it('rejects keys that could escape the lake root or collide with temp files', async () => {
    // Act & Assess
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', 'a/.hidden', 'a/', '']) {
      await expect(store.put(key, bytes('x')), key).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(store.list('../')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.get('../secret')).rejects.toMatchObject({ field: 'key' });
  });

  it('returns absolute file paths as URIs, for keys and prefixes', () => {
    // Act
    const file = store.uri('raw/shop/orders/dt=2026-01-01/a.parquet');
    const prefix = store.uri('raw/shop/orders/');

    // Assess
    expect(isAbsolute(file)).toBe(true);
    expect(file).toBe(join(root, 'raw/shop/orders/dt=2026-01-01/a.parquet'));
    expect(prefix).toBe(`${join(root, 'raw/shop/orders')}/`);
  });
});
