import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3FilesConfig, s3FilesConnector } from '../../../../connectors/s3-files/index.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import {
  capturingLogger,
  committedAfter,
  createBucket,
  emptyAndDeleteBucket,
  emulatorUrl,
  keysOf,
  list,
  put,
  readStream,
  s3ErrorDocument,
  sleep,
  startProxy,
  streamOf,
  testClient,
  uniqueBucket,
} from './support.js';

const bucket = uniqueBucket('main');
let client: S3Client;

beforeAll(async () => {
  client = testClient();
  await createBucket(client, bucket);
});

afterAll(async () => {
  await emptyAndDeleteBucket(client, bucket);
  client.destroy();
});

function config(
  prefix: string,
  streams: S3FilesConfig['streams'],
  extra: Partial<S3FilesConfig> = {},
): S3FilesConfig {
  return { bucket, prefix, forcePathStyle: true, streams, ...extra };
}

describe('s3-files incremental reads on (LastModified, key)', () => {
  it('neither skips nor re-reads files that share one LastModified when a run stops inside the tie', async () => {
    // Prepare: 40 small files put as fast as the emulator takes them (LastModified has 1 s
    // granularity, so most share a second), in an order unlike their key order.
    const prefix = 'ties';
    const order = Array.from({ length: 40 }, (_, i) => i).sort(
      (a, b) => ((a * 7919) % 41) - ((b * 7919) % 41),
    );
    for (const i of order) {
      await put(client, bucket, `${prefix}/f-${String(i).padStart(3, '0')}.csv`, `id,n\n${i},a\n${i},b\n`);
    }
    const listed = (await list(client, bucket, `${prefix}/`)).sort(
      (a, b) => a.lastModified.getTime() - b.lastModified.getTime() || (a.key < b.key ? -1 : 1),
    );
    const seconds = new Map<number, number>();
    for (const f of listed)
      seconds.set(f.lastModified.getTime(), (seconds.get(f.lastModified.getTime()) ?? 0) + 1);
    const [tieTime, tieSize] = [...seconds].sort((a, b) => b[1] - a[1])[0]!;
    expect(tieSize, 'files sharing one LastModified').toBeGreaterThanOrEqual(3);
    // Cut the first run one file into the biggest tie group.
    const cut = listed.findIndex((f) => f.lastModified.getTime() === tieTime) + 1;
    const streams = [{ name: 'ties', glob: '*.csv', format: 'csv' as const }];

    // Act: run 1 reads cut+1 files; the engine commits the largest cursor; run 2 and 3 resume.
    const first = await readStream(
      await streamOf(config(prefix, streams, { maxFilesPerRun: cut + 1 }), 'ties'),
      undefined,
    );
    const committed1 = committedAfter(first);
    const second = await readStream(await streamOf(config(prefix, streams), 'ties'), committed1);
    const committed2 = committedAfter(second, committed1);
    const third = await readStream(await streamOf(config(prefix, streams), 'ties'), committed2);

    // Assess: the cut sits inside the tie; together the runs read every file exactly once.
    const firstKeys = keysOf(first);
    const secondKeys = keysOf(second);
    expect(firstKeys).toHaveLength(cut + 1);
    expect(String(committed1).startsWith(new Date(tieTime).toISOString())).toBe(true);
    expect(secondKeys.some((k) => listed.find((f) => f.key === k)!.lastModified.getTime() === tieTime)).toBe(
      true,
    );
    expect(firstKeys.filter((k) => secondKeys.includes(k))).toEqual([]);
    expect([...firstKeys, ...secondKeys].sort()).toEqual(listed.map((f) => f.key).sort());
    expect(first.length + second.length).toBe(80);
    expect(third).toEqual([]);
  });

  it('reads files in (LastModified, key) order and tags every record with its file', async () => {
    const prefix = 'order';
    await put(client, bucket, `${prefix}/b.csv`, 'id\n1\n2\n');
    await put(client, bucket, `${prefix}/a.csv`, 'id\n3\n');
    const records = await readStream(
      await streamOf(config(prefix, [{ name: 'o', glob: '*.csv', format: 'csv' }]), 'o'),
      undefined,
    );
    const cursors = records.map((r) => r._file_cursor as string);
    expect([...cursors].sort()).toEqual(cursors);
    const listed = await list(client, bucket, `${prefix}/`);
    for (const record of records) {
      const file = listed.find((f) => f.key === record._file_key)!;
      expect(record._file_modified_at).toEqual(file.lastModified);
      expect(
        (record._file_cursor as string).startsWith(`${file.lastModified.toISOString()}|${file.key}|`),
      ).toBe(true);
    }
    const b = listed.find((f) => f.key === `${prefix}/b.csv`)!.lastModified.toISOString();
    expect(
      records
        .filter((r) => r._file_key === `${prefix}/b.csv`)
        .map((r) => [r.id, r._file_line, r._file_cursor]),
    ).toEqual([
      ['1', 2, `${b}|${prefix}/b.csv|000000000002`],
      ['2', 3, `${b}|${prefix}/b.csv|eof`],
    ]);
  });

  it('resumes inside a file when the committed cursor points into it', async () => {
    // A run that committed mid-file (the engine commits at run end today; this keeps a resume exact anyway).
    const prefix = 'resume';
    await put(client, bucket, `${prefix}/a.csv`, 'id\n1\n2\n3\n4\n');
    const stream = await streamOf(config(prefix, [{ name: 'r', glob: '*.csv', format: 'csv' }]), 'r');
    const all = await readStream(stream, undefined);
    const resumed = await readStream(stream, all[1]!._file_cursor as string);
    const done = await readStream(stream, all[3]!._file_cursor as string);
    expect(all.map((r) => r.id)).toEqual(['1', '2', '3', '4']);
    expect(resumed.map((r) => r.id)).toEqual(['3', '4']);
    expect(resumed.at(-1)!._file_cursor).toBe(all.at(-1)!._file_cursor);
    expect(done).toEqual([]);
  });

  it('orders keys holding "|" or "%" without mixing their records', async () => {
    const prefix = 'pipes';
    await put(client, bucket, `${prefix}/a.csv`, 'id\n1\n2\n');
    await put(client, bucket, `${prefix}/a.csv|0001.csv`, 'id\n3\n');
    await put(client, bucket, `${prefix}/a.csv%7C.csv`, 'id\n4\n');
    const stream = await streamOf(config(prefix, [{ name: 'p', glob: '*', format: 'csv' }]), 'p');
    const records = await readStream(stream, undefined);
    const cursors = records.map((r) => r._file_cursor as string);
    expect([...cursors].sort()).toEqual(cursors);
    const runs = records.map((r) => r._file_key).filter((k, i, all) => i === 0 || all[i - 1] !== k);
    expect(runs).toHaveLength(3);
    for (let i = 0; i < records.length; i++) {
      const rest = await readStream(stream, cursors[i]);
      expect(rest.map((r) => r.id)).toEqual(records.slice(i + 1).map((r) => r.id));
    }
  });

  it('picks up a file added between runs and reads nothing else again', async () => {
    // Prepare
    const prefix = 'added';
    for (let i = 0; i < 5; i++) await put(client, bucket, `${prefix}/day-${i}.jsonl`, `{"i":${i}}\n`);
    const streams = [{ name: 'added', glob: '**/*.jsonl', format: 'jsonl' as const }];
    const first = await readStream(await streamOf(config(prefix, streams), 'added'), undefined);
    const committed = committedAfter(first);

    // Act: a new file lands (possibly in the same second as the last one: its key sorts after).
    await put(client, bucket, `${prefix}/day-9.jsonl`, '{"i":9}\n{"i":10}\n');
    const second = await readStream(await streamOf(config(prefix, streams), 'added'), committed);

    // Assess
    expect(first).toHaveLength(5);
    expect(second.map((r) => [r._file_key, r.i])).toEqual([
      [`${prefix}/day-9.jsonl`, 9],
      [`${prefix}/day-9.jsonl`, 10],
    ]);
  });

  it('re-reads a file replaced by a new upload (new LastModified), as a new version', async () => {
    const prefix = 'replaced';
    await put(client, bucket, `${prefix}/x.csv`, 'id\n1\n');
    const streams = [{ name: 'r', glob: '*.csv', format: 'csv' as const }];
    const first = await readStream(await streamOf(config(prefix, streams), 'r'), undefined);
    await sleep(1100);
    await put(client, bucket, `${prefix}/x.csv`, 'id\n1\n2\n');
    const second = await readStream(await streamOf(config(prefix, streams), 'r'), committedAfter(first));
    expect(second.map((r) => r.id)).toEqual(['1', '2']);
  });

  it('reads files modified at or after startDate only, and a cursor reset to a timestamp', async () => {
    const prefix = 'start';
    await put(client, bucket, `${prefix}/old.csv`, 'id\n1\n');
    const [old] = await list(client, bucket, `${prefix}/`);
    await sleep(1100);
    await put(client, bucket, `${prefix}/new.csv`, 'id\n2\n');
    const streams = [{ name: 's', glob: '*.csv', format: 'csv' as const }];
    const future = new Date(old!.lastModified.getTime() + 1000).toISOString();
    const fromStart = await readStream(
      await streamOf(config(prefix, streams, { startDate: future }), 's'),
      undefined,
    );
    const fromReset = await readStream(
      await streamOf(config(prefix, streams), 's'),
      old!.lastModified.toISOString(),
    );
    expect(keysOf(fromStart)).toEqual([`${prefix}/new.csv`]);
    // A bare timestamp is inclusive: files modified at that instant are read.
    expect(keysOf(fromReset)).toEqual([`${prefix}/new.csv`, `${prefix}/old.csv`]);
  });

  it('leaves files younger than settleSeconds for a later run', async () => {
    const prefix = 'settle';
    await put(client, bucket, `${prefix}/a.csv`, 'id\n1\n');
    const streams = [{ name: 's', glob: '*.csv', format: 'csv' as const }];
    const logger = capturingLogger();
    const early = await readStream(
      await streamOf(config(prefix, streams, { settleSeconds: 3600 }), 's'),
      undefined,
      logger,
    );
    const now = await readStream(await streamOf(config(prefix, streams), 's'), undefined);
    expect(early).toEqual([]);
    expect(logger.entries.find((e) => e.message === 's3-files: new files')?.extra?.unsettled).toBe(1);
    expect(now).toHaveLength(1);
  });
});

describe('s3-files malformed lines', () => {
  const prefix = 'malformed';
  const body = [
    'id,name', // 1
    '1,ok', // 2
    '2,too,many', // 3
    '3,"multi', // 4
    'line"', // 5
    '4,"bad"x', // 6
    '5,ok', // 7
    '6,"never closed', // 8
    '7,swallowed?', // 9
    '8,last', // 10
  ].join('\n');

  beforeAll(async () => {
    await put(client, bucket, `${prefix}/bad.csv`, body);
  });

  it('fails with a ConfigError naming the file and line when onMalformed is fail', async () => {
    const stream = await streamOf(config(prefix, [{ name: 'm', glob: '*.csv', format: 'csv' }]), 'm');
    const error = await readStream(stream, undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`s3://${bucket}/${prefix}/bad.csv`);
    expect((error as Error).message).toContain('line 3');
    expect((error as Error).message).toContain('expected 2 fields, found 3');
  });

  it('skips, logs (key and line) and counts malformed lines when onMalformed is skip', async () => {
    const logger = capturingLogger();
    const stream = await streamOf(
      config(prefix, [{ name: 'm', glob: '*.csv', format: 'csv', onMalformed: 'skip' }]),
      'm',
    );
    const records = await readStream(stream, undefined, logger);
    // Line 6 has a character after a closing quote; line 8 opens a quote that never closes,
    // so it is reported at line 8 and lines 9 and 10 are parsed again.
    expect(records.map((r) => [r.id, r.name, r._file_line])).toEqual([
      ['1', 'ok', 2],
      ['3', 'multi\nline', 4],
      ['5', 'ok', 7],
      ['7', 'swallowed?', 9],
      ['8', 'last', 10],
    ]);
    const skipped = logger.entries.filter((e) => e.message === 's3-files: skipped a malformed line');
    expect(skipped.map((e) => [e.extra?.key, e.extra?.line])).toEqual([
      [`${prefix}/bad.csv`, 3],
      [`${prefix}/bad.csv`, 6],
      [`${prefix}/bad.csv`, 8],
    ]);
    const summary = logger.entries.find((e) => e.message === 's3-files: read files');
    expect(summary?.extra).toMatchObject({ stream: 'm', files: 1, records: 5, malformed: 3 });
  });

  it('treats invalid JSON Lines the same way', async () => {
    await put(client, bucket, `${prefix}/bad.jsonl`, '{"a":1}\n{"a":\n[1,2]\n\n{"a":4}\n');
    const streams = (onMalformed: 'fail' | 'skip') =>
      config(prefix, [{ name: 'j', glob: '*.jsonl', format: 'jsonl', onMalformed }]);
    const error = await readStream(await streamOf(streams('fail'), 'j'), undefined).catch((e: unknown) => e);
    const logger = capturingLogger();
    const records = await readStream(await streamOf(streams('skip'), 'j'), undefined, logger);
    expect((error as Error).message).toMatch(/bad\.jsonl at line 2: invalid JSON/);
    expect(records.map((r) => [r.a, r._file_line])).toEqual([
      [1, 1],
      [4, 5],
    ]);
    expect(
      logger.entries
        .filter((e) => e.level === 'warn' && e.extra?.line !== undefined)
        .map((e) => e.extra?.line),
    ).toEqual([2, 3]);
  });

  it('fails on a header that names a column twice, whatever onMalformed says about lines', async () => {
    await put(client, bucket, `${prefix}/dup-header.tsv`, 'a\ta\n1\t2\n');
    const stream = await streamOf(
      config(prefix, [{ name: 'd', glob: '*.tsv', format: 'csv', csv: { delimiter: '\t' } }]),
      'd',
    );
    await expect(readStream(stream, undefined)).rejects.toThrow(
      /dup-header\.tsv at line 1: the header names column "a" twice/,
    );
  });
});

describe('s3-files formats and options', () => {
  it('applies CSV options: delimiter, quote, escape, header false with columns, latin1, CRLF, null values', async () => {
    // Prepare: latin1 bytes, ';' delimiter, "'" quote, '\' escape, a quoted line break, CRLF.
    const text = "1;'caf\u00e9; cr\u00e8me';\\N\r\n2;'it\\'s';x\r\n3;'two\r\nlines';\r\n";
    await put(client, bucket, 'options/eu.csv', Buffer.from(text, 'latin1'));
    const stream = await streamOf(
      config('options', [
        {
          name: 'eu',
          glob: 'eu.csv',
          format: 'csv',
          csv: {
            header: false,
            columns: ['id', 'label', 'note'],
            delimiter: ';',
            quote: "'",
            escape: '\\',
            encoding: 'latin1',
            nullValues: ['\\N', ''],
          },
        },
      ]),
      'eu',
    );

    // Act
    const records = await readStream(stream, undefined);

    // Assess: values stay strings; null values become null.
    expect(records.map(({ id, label, note, _file_line }) => ({ id, label, note, _file_line }))).toEqual([
      { id: '1', label: 'café; crème', note: null, _file_line: 1 },
      { id: '2', label: "it's", note: 'x', _file_line: 2 },
      { id: '3', label: 'two\r\nlines', note: null, _file_line: 3 },
    ]);
  });

  it('names columns column_1… when there is no header and no columns, and strips a UTF-8 BOM', async () => {
    await put(client, bucket, 'options/plain.csv', '\ufeffa,b\n"c ""quoted""",d\n');
    const noHeader = await readStream(
      await streamOf(
        config('options', [{ name: 'p', glob: 'plain.csv', format: 'csv', csv: { header: false } }]),
        'p',
      ),
      undefined,
    );
    const withHeader = await readStream(
      await streamOf(config('options', [{ name: 'p', glob: 'plain.csv', format: 'csv' }]), 'p'),
      undefined,
    );
    expect(noHeader.map((r) => [r.column_1, r.column_2])).toEqual([
      ['a', 'b'],
      ['c "quoted"', 'd'],
    ]);
    expect(withHeader.map((r) => [r.a, r.b])).toEqual([['c "quoted"', 'd']]);
  });

  it('reads JSON Lines values as parsed (nested objects, numbers, booleans, nulls)', async () => {
    await put(
      client,
      bucket,
      'json/events.jsonl',
      '{"id":1,"ok":true,"n":1.5,"tags":["a"],"user":{"name":"Ada"},"none":null}\r\n\n{"id":2,"ok":false}\n',
    );
    const records = await readStream(
      await streamOf(config('json', [{ name: 'events', glob: '*.jsonl', format: 'jsonl' }]), 'events'),
      undefined,
    );
    expect(records.map(({ _file_key, _file_modified_at, _file_cursor, ...rest }) => rest)).toEqual([
      { id: 1, ok: true, n: 1.5, tags: ['a'], user: { name: 'Ada' }, none: null, _file_line: 1 },
      { id: 2, ok: false, _file_line: 3 },
    ]);
  });

  it("gives a file's own _file_* field the metadata value, in the file's key order", async () => {
    // Prepare
    await put(client, bucket, 'own/rows.jsonl', '{"_file_line":99,"id":1,"_file_key":"mine"}\n');

    // Act
    const [record] = await readStream(
      await streamOf(config('own', [{ name: 'rows', glob: '*.jsonl', format: 'jsonl' }]), 'rows'),
      undefined,
    );

    // Assess
    expect(record?._file_line).toBe(1);
    expect(record?._file_key).toBe('own/rows.jsonl');
    expect(Object.keys(record!)).toEqual([
      '_file_line',
      'id',
      '_file_key',
      '_file_modified_at',
      '_file_cursor',
    ]);
  });

  it('gunzips .gz keys and objects stored with Content-Encoding gzip', async () => {
    await put(client, bucket, 'gz/a.csv.gz', gzipSync('id\n1\n2\n'));
    await put(client, bucket, 'gz/b.csv', gzipSync('id\n3\n'), { contentEncoding: 'gzip' });
    await put(client, bucket, 'gz/c.jsonl.gz', gzipSync('{"id":4}\n'));
    const records = await readStream(
      await streamOf(
        config('gz', [
          { name: 'csv', glob: '*.csv{,.gz}', format: 'csv' },
          { name: 'json', glob: '*.jsonl.gz', format: 'jsonl' },
        ]),
        'csv',
      ),
      undefined,
    );
    const json = await readStream(
      await streamOf(config('gz', [{ name: 'json', glob: '*.jsonl.gz', format: 'jsonl' }]), 'json'),
      undefined,
    );
    expect(records.map((r) => r.id).sort()).toEqual(['1', '2', '3']);
    expect(json.map((r) => r.id)).toEqual([4]);
  });

  it('reports a .gz key that is not gzip as a malformed file', async () => {
    await put(client, bucket, 'badgz/a.csv.gz', 'id\n1\n');
    const streams = (onMalformed: 'fail' | 'skip') =>
      config('badgz', [{ name: 'g', glob: '*.gz', format: 'csv', onMalformed }]);
    const error = await readStream(await streamOf(streams('fail'), 'g'), undefined).catch((e: unknown) => e);
    const logger = capturingLogger();
    const skipped = await readStream(await streamOf(streams('skip'), 'g'), undefined, logger);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^Malformed CSV in s3:\/\/.*\/badgz\/a\.csv\.gz: not valid gzip/,
    );
    expect(skipped).toEqual([]);
    expect(logger.entries.find((e) => e.message === 's3-files: read files')?.extra).toMatchObject({
      malformed: 1,
    });
  });

  it('matches globs against keys relative to the prefix, one stream per glob', async () => {
    await put(client, bucket, 'glob/orders/2026/01/a.csv', 'id\n1\n');
    await put(client, bucket, 'glob/orders/2026/02/b.csv', 'id\n2\n');
    await put(client, bucket, 'glob/orders/readme.txt', 'hello');
    await put(client, bucket, 'glob/returns/c.csv', 'id\n3\n');
    await put(client, bucket, 'glob-sibling/orders/d.csv', 'id\n4\n');
    const cfg = config('glob', [
      { name: 'orders', glob: 'orders/**/*.csv', format: 'csv' },
      { name: 'everything_csv', glob: '**/*.csv', format: 'csv' },
      { name: 'returns', glob: 'returns/*.csv', format: 'csv' },
    ]);
    const streams = await s3FilesConnector.streams(cfg);
    const read = async (name: string) =>
      keysOf(await readStream(streams.find((s) => s.name === name)!, undefined));
    expect(streams.map((s) => s.name)).toEqual(['orders', 'everything_csv', 'returns']);
    expect(await read('orders')).toEqual(['glob/orders/2026/01/a.csv', 'glob/orders/2026/02/b.csv']);
    expect(await read('everything_csv')).toEqual([
      'glob/orders/2026/01/a.csv',
      'glob/orders/2026/02/b.csv',
      'glob/returns/c.csv',
    ]);
    expect(await read('returns')).toEqual(['glob/returns/c.csv']);
  });

  it('declares the stream: key, disposition and the _file_cursor incremental', async () => {
    const [defaults, merged] = await s3FilesConnector.streams(
      config('x', [
        { name: 'a', glob: '*.csv', format: 'csv' },
        { name: 'b', glob: '*.csv', format: 'csv', primaryKey: ['id'], writeDisposition: 'merge' },
      ]),
    );
    expect(defaults).toMatchObject({
      primaryKey: ['_file_key', '_file_line'],
      writeDisposition: 'append',
      incremental: { cursorField: '_file_cursor', initialValue: '1970-01-01T00:00:00.000Z' },
    });
    expect(merged).toMatchObject({ primaryKey: ['id'], writeDisposition: 'merge' });
  });

  it('rejects invalid configs with the field named', async () => {
    const bad =
      (streams: unknown, extra: Record<string, unknown> = {}) =>
      () =>
        s3FilesConnector.streams({ bucket, streams, ...extra } as unknown as S3FilesConfig);
    expect(bad([{ name: 'Bad-Name', glob: '*', format: 'csv' }])).toThrow(
      /streams\[0\]\.name" must be snake_case/,
    );
    expect(bad([{ name: 'a', glob: '{a,b', format: 'csv' }])).toThrow(/streams\[0\]\.glob".*unclosed "\{"/);
    expect(bad([{ name: 'a', glob: '*', format: 'xml' }])).toThrow(/streams\[0\]\.format" must be one of/);
    expect(bad([{ name: 'a', glob: '*', format: 'jsonl', csv: { header: false } }])).toThrow(
      /only applies to format "csv"/,
    );
    expect(bad([{ name: 'a', glob: '*', format: 'csv', csv: { encoding: 'klingon' } }])).toThrow(
      /not a known encoding/,
    );
    expect(bad([{ name: 'a', glob: '*', format: 'csv', writeDisposition: 'merge', primaryKey: [] }])).toThrow(
      /primaryKey" must name at least one field/,
    );
    expect(bad([{ name: 'a', glob: '*', format: 'csv' }], { accessKeyId: 'x' })).toThrow(/go together/);
    expect(s3FilesConnector.configSchema.properties.secretAccessKey?.secret).toBe(true);
  });
});

describe('s3-files check', () => {
  it('passes, and warns about a glob that matches no file yet', async () => {
    await put(client, bucket, 'check/a.csv', 'id\n1\n');
    const result = await s3FilesConnector.check(
      config('check', [
        { name: 'a', glob: '*.csv', format: 'csv' },
        { name: 'later', glob: 'later/*.parquet', format: 'parquet' },
      ]),
    );
    expect(result.ok).toBe(true);
    expect((result as { warnings?: string[] }).warnings).toEqual([
      `No file under s3://${bucket}/check/later/ matches the glob "later/*.parquet" of stream "later" yet; check "prefix" and "glob" if files should be there.`,
    ]);
  });

  it('says the bucket does not exist', async () => {
    const result = await s3FilesConnector.check({
      ...config('', [{ name: 'a', glob: '*', format: 'csv' }]),
      bucket: `${bucket}-missing`,
    });
    expect(result).toEqual({
      ok: false,
      message: `Bucket "${bucket}-missing" does not exist: create it or fix "bucket".`,
    });
  });

  it('says which permission is missing when access is denied', async () => {
    const proxy = await startProxy(emulatorUrl(), {
      inject: () => ({ status: 403, body: s3ErrorDocument('AccessDenied', 'Access Denied') }),
    });
    try {
      const result = await s3FilesConnector.check({
        ...config('check', [{ name: 'a', glob: '*', format: 'csv' }]),
        endpoint: proxy.url,
      });
      expect(result).toEqual({
        ok: false,
        message: `Access denied while listing s3://${bucket}/check/: grant these credentials s3:ListBucket on "${bucket}" and s3:GetObject on its objects.`,
      });
    } finally {
      await proxy.close();
    }
  });

  it('names the field of an invalid config', async () => {
    const result = await s3FilesConnector.check({ bucket, streams: [] } as S3FilesConfig);
    expect(result).toEqual({ ok: false, message: 'invalid config: "streams" must list at least one stream' });
  });

  it('says when the endpoint cannot be reached', async () => {
    const result = await s3FilesConnector.check({
      ...config('', [{ name: 'a', glob: '*', format: 'csv' }]),
      endpoint: 'http://127.0.0.1:9',
    });
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toMatch(
      /^S3 did not answer while listing s3:\/\/.* at http:\/\/127\.0\.0\.1:9 .*try again later\.$/,
    );
  });
});
