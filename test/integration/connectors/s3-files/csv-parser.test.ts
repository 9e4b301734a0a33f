import { describe, expect, it } from 'vitest';
import {
  type CsvEvent,
  CsvParser,
  type CsvSyntax,
  csvRows,
} from '../../../../connectors/s3-files/formats/csv.js';
import { splitLines } from '../../../../connectors/s3-files/formats/text.js';

async function parse(text: string | string[], syntax: Partial<CsvSyntax> = {}): Promise<CsvEvent[]> {
  const parser = new CsvParser({ delimiter: ',', quote: '"', escape: '"', ...syntax });
  const events: CsvEvent[] = [];
  async function* chunks() {
    for (const chunk of Array.isArray(text) ? text : [text]) yield chunk;
  }
  for await (const lines of splitLines(chunks(), syntax.maxRecordChars ?? 1000)) {
    for (const line of lines) parser.push(line, events);
  }
  parser.end(events);
  return events;
}

const records = (events: CsvEvent[]) =>
  events.map((e) => (e.kind === 'record' ? [e.line, ...e.fields] : [e.line, `!${e.reason}`]));

describe('s3-files CSV parser', () => {
  it('reads RFC 4180: quoted delimiters, doubled quotes, quoted line breaks, empty fields', async () => {
    const events = await parse('a,"b,c","d ""e""",\n"multi\r\nline",,x\n\n"",y,z');
    expect(records(events)).toEqual([
      [1, 'a', 'b,c', 'd "e"', ''],
      [2, 'multi\r\nline', '', 'x'],
      [5, '', 'y', 'z'],
    ]);
  });

  it('handles records and characters split across chunks', async () => {
    const events = await parse(['a,"b', '\n', 'c",d\r', '\ne,f']);
    expect(records(events)).toEqual([
      [1, 'a', 'b\nc', 'd'],
      [3, 'e', 'f'],
    ]);
  });

  it('reports a character after a closing quote at the record line and resumes on the next line', async () => {
    const events = await parse('1,"a"b,c\n2,ok\n');
    expect(records(events)).toEqual([
      [1, '!unexpected "b" after a closing quote in field 2'],
      [2, '2', 'ok'],
    ]);
  });

  it('reports a quote that never closes at its first line and parses the following lines again', async () => {
    const events = await parse('1,"open\n2,x\n3,y\n');
    expect(records(events)).toEqual([
      [1, '!a quoted field is never closed'],
      [2, '2', 'x'],
      [3, '3', 'y'],
    ]);
  });

  it('gives up on a quoted field that grows past the record limit and recovers', async () => {
    const long = 'z'.repeat(60);
    const events = await parse(`1,"${long}\n${long}\n2,ok\n`, { maxRecordChars: 100 });
    expect(records(events)[0]).toEqual([
      1,
      '!a quoted field grows past the record size limit (is a quote never closed?)',
    ]);
    expect(records(events).at(-1)).toEqual([3, '2', 'ok']);
  });

  it('supports multi-character delimiters, a separate escape and no quoting', async () => {
    expect(records(await parse('a||b||"c||d"', { delimiter: '||' }))).toEqual([[1, 'a', 'b', 'c||d']]);
    expect(records(await parse('"a\\"b\\\\",c', { escape: '\\' }))).toEqual([[1, 'a"b\\', 'c']]);
    expect(records(await parse('"a","b', { quote: '', escape: '' }))).toEqual([[1, '"a"', '"b']]);
  });

  it('keeps a quote in the middle of an unquoted field', async () => {
    expect(records(await parse('5" screen,x'))).toEqual([[1, '5" screen', 'x']]);
  });
});

describe('s3-files CSV rows', () => {
  async function rows(text: string, nullValues: readonly string[] = []) {
    async function* chunks() {
      yield text;
    }
    const options = {
      header: true,
      delimiter: ',',
      quote: '"',
      escape: '"',
      encoding: 'utf-8',
      nullValues: new Set(nullValues),
    };
    const out: Record<string, unknown>[] = [];
    for await (const batch of csvRows(splitLines(chunks()), options as never, {
      line: () => {},
      file: () => {},
    }))
      for (const row of batch) out.push(row.values);
    return out;
  }

  it('names values by the header, odd names included, in header order, nulls where configured', async () => {
    // Act
    const [first, second] = await rows(
      'id,"a ""q""",back\\slash,toString,ünï,constructor\n1,x,NULL,t,,c\n2,,y,,u,\n',
      ['NULL', ''],
    );

    // Assess
    expect(Object.keys(first!)).toEqual(['id', 'a "q"', 'back\\slash', 'toString', 'ünï', 'constructor']);
    expect(first).toEqual({
      id: '1',
      'a "q"': 'x',
      'back\\slash': null,
      toString: 't',
      ünï: null,
      constructor: 'c',
    });
    expect(second).toEqual({
      id: '2',
      'a "q"': null,
      'back\\slash': 'y',
      toString: null,
      ünï: 'u',
      constructor: null,
    });
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
  });

  it('keeps a "__proto__" column as a field, and the prototype as it is', async () => {
    // Act
    const [record, empty] = await rows('id,__proto__\n1,x\n2,\n', ['']);

    // Assess
    expect(Object.keys(record!)).toEqual(['id', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(record, '__proto__')?.value).toBe('x');
    expect(Object.getOwnPropertyDescriptor(empty, '__proto__')?.value).toBeNull();
    expect(Object.getPrototypeOf(empty)).toBe(Object.prototype);
  });
});
