import type { ResolvedCsv } from '../config.js';
import { generated } from './generated.js';
import { MAX_LINE_CHARS, type PhysicalLine } from './text.js';
import type { MalformedHandler, Row } from './types.js';

export type CsvEvent =
  | { readonly kind: 'record'; readonly fields: string[]; readonly line: number }
  | { readonly kind: 'malformed'; readonly line: number; readonly reason: string };

export interface CsvSyntax {
  readonly delimiter: string;
  /** "" when quoting is off. */
  readonly quote: string;
  readonly escape: string;
  /** @default MAX_LINE_CHARS */
  readonly maxRecordChars?: number;
}

/**
 * An RFC 4180 parser fed one physical line at a time. It is ours rather than
 * csv-parse's because skipping a malformed line needs line-exact recovery:
 * after a quote error csv-parse may stay inside a quoted field and silently
 * swallow the lines that follow. Here a bad line is reported with the line
 * its record starts on, and parsing resumes on the next line; a quote that
 * never closes is reported at its record's first line and the lines after it
 * are parsed again (they are held, bounded by `maxRecordChars`).
 *
 * Rules: fields are separated by `delimiter`; a field that starts with
 * `quote` is quoted and may contain delimiters and line breaks; inside it
 * `escape` + quote (RFC 4180: `""`) is a literal quote; after the closing
 * quote only a delimiter or the end of the line may follow. A quote in the
 * middle of an unquoted field is kept as a literal character. Empty lines
 * between records are skipped.
 */
export class CsvParser {
  private readonly delimiter: string;
  private readonly quote: string;
  private readonly escape: string;
  private readonly maxRecordChars: number;
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  private afterQuote = false;
  /** First line of the record being read; 0 between records. */
  private startLine = 0;
  private recordChars = 0;
  /** Lines of a record that spans lines (a quoted line break), for recovery. */
  private held: PhysicalLine[] = [];

  public constructor(syntax: CsvSyntax) {
    this.delimiter = syntax.delimiter;
    this.quote = syntax.quote;
    this.escape = syntax.escape;
    this.maxRecordChars = syntax.maxRecordChars ?? MAX_LINE_CHARS;
  }

  public push(line: PhysicalLine, out: CsvEvent[]): void {
    if (line.overlong) {
      if (this.startLine !== 0)
        this.abandon(out, `a quoted field is still open at line ${line.number}`, true);
      out.push({ kind: 'malformed', line: line.number, reason: 'the line is too long' });
      return;
    }
    if (this.startLine === 0) {
      if (line.text.length === 0) return;
      this.startLine = line.number;
    }
    this.recordChars += line.text.length;
    const error = this.scan(line.text);
    if (error !== undefined) {
      const at = line.number === this.startLine ? '' : ` (at line ${line.number})`;
      const startLine = this.startLine;
      this.reset();
      out.push({ kind: 'malformed', line: startLine, reason: error + at });
      return;
    }
    if (this.inQuotes) {
      this.field += line.eol;
      this.held.push(line);
      if (this.recordChars > this.maxRecordChars) {
        this.abandon(out, 'a quoted field grows past the record size limit (is a quote never closed?)', true);
      }
      return;
    }
    this.fields.push(this.field);
    out.push({ kind: 'record', fields: this.fields, line: this.startLine });
    this.reset();
  }

  /** Call after the last line: a record still open has an unclosed quote. */
  public end(out: CsvEvent[]): void {
    if (this.startLine !== 0) this.abandon(out, 'a quoted field is never closed', true);
  }

  private reset(): void {
    this.fields = [];
    this.field = '';
    this.inQuotes = false;
    this.afterQuote = false;
    this.startLine = 0;
    this.recordChars = 0;
    this.held = [];
  }

  /** Reports the open record as malformed and, if asked, parses the lines after its first line again. */
  private abandon(out: CsvEvent[], reason: string, replay: boolean): void {
    const startLine = this.startLine;
    const again = this.held.slice(1);
    this.reset();
    out.push({ kind: 'malformed', line: startLine, reason });
    if (replay) for (const line of again) this.push(line, out);
  }

  /** Scans one line's text into the current record; returns an error message or undefined. */
  private scan(text: string): string | undefined {
    const { delimiter, quote, escape: escapeChar } = this;
    const quoting = quote !== '';
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.inQuotes) {
        let next = text.indexOf(quote, i);
        if (escapeChar !== quote) {
          const e = text.indexOf(escapeChar, i);
          if (e >= 0 && (next < 0 || e < next)) next = e;
        }
        if (next < 0) {
          this.field += text.slice(i);
          return undefined;
        }
        this.field += text.slice(i, next);
        const c = text[next];
        const after = text[next + 1];
        if (c === escapeChar && (after === quote || (escapeChar !== quote && after === escapeChar))) {
          this.field += after;
          i = next + 2;
        } else if (c === quote) {
          this.inQuotes = false;
          this.afterQuote = true;
          i = next + 1;
        } else {
          // A lone escape character that escapes nothing is kept.
          this.field += c;
          i = next + 1;
        }
        continue;
      }
      if (text.startsWith(delimiter, i)) {
        this.fields.push(this.field);
        this.field = '';
        this.afterQuote = false;
        i += delimiter.length;
        continue;
      }
      if (this.afterQuote) {
        return `unexpected ${JSON.stringify(text[i])} after a closing quote in field ${this.fields.length + 1}`;
      }
      if (quoting && this.field.length === 0 && text[i] === quote) {
        this.inQuotes = true;
        i++;
        continue;
      }
      // An unquoted run up to the next delimiter (quotes inside it are literal).
      let end = text.indexOf(delimiter, i);
      if (end < 0) end = n;
      this.field += text.slice(i, end);
      i = end;
    }
    return undefined;
  }
}

type RecordBuilder = (fields: readonly string[]) => Record<string, unknown>;

/**
 * Builds a row's record from its fields: an object literal with every column
 * name as a literal key (a `new Function`, as the engine's converter), so
 * records share one shape with their properties in the object itself, where
 * assigning them one by one cost a property-store lookup per value and grew
 * an outside property store. Same keys, order and values as the assignments,
 * except a "__proto__" column: assigned, it set the prototype or vanished;
 * now it is kept.
 */
function recordBuilder(columns: readonly string[], nullValues: ReadonlySet<string>): RecordBuilder {
  const value = (i: number): string =>
    nullValues.size > 0 ? `(n.has(f[${i}]) ? null : f[${i}])` : `f[${i}]`;
  // A literal "__proto__" key would set the prototype; computed, it is a field like any other (as in JSON.parse).
  const key = (name: string): string =>
    name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
  // Generated code: names enter only as JSON string literals.
  const make = generated(
    `csv:${nullValues.size > 0}:${JSON.stringify(columns)}`,
    () =>
      new Function(
        'f',
        'n',
        `return { ${columns.map((name, i) => `${key(name)}: ${value(i)}`).join(', ')} };`,
      ) as (fields: readonly string[], nulls: ReadonlySet<string>) => Record<string, unknown>,
  );
  return (fields) => make(fields, nullValues);
}

/**
 * Turns CSV lines into rows: the header (or configured columns) names the
 * fields, every value stays a string (or null for a configured null value),
 * and a record with the wrong number of fields is malformed.
 */
export async function* csvRows(
  batches: AsyncIterable<PhysicalLine[]>,
  options: ResolvedCsv,
  malformed: MalformedHandler,
): AsyncGenerator<Row[]> {
  const parser = new CsvParser(options);
  let columns: readonly string[] | undefined = options.header ? undefined : options.columns;
  let headerPending = options.header;
  const events: CsvEvent[] = [];
  let build: RecordBuilder | undefined;
  let builtFor: readonly string[] | undefined;

  const toRows = (): Row[] | 'stop' => {
    const rows: Row[] = [];
    for (const event of events) {
      if (event.kind === 'malformed') {
        if (headerPending) {
          malformed.file(event.line, `cannot read the header line: ${event.reason}`);
          return 'stop';
        }
        malformed.line(event.line, event.reason);
        continue;
      }
      if (headerPending) {
        headerPending = false;
        if (options.columns) {
          columns = options.columns;
          continue;
        }
        const names = event.fields.map((name, i) => (name.trim() === '' ? `column_${i + 1}` : name));
        const duplicate = names.find((name, i) => names.indexOf(name) !== i);
        if (duplicate !== undefined) {
          malformed.file(event.line, `the header names column "${duplicate}" twice`);
          return 'stop';
        }
        columns = names;
        continue;
      }
      columns ??= event.fields.map((_, i) => `column_${i + 1}`);
      if (event.fields.length !== columns.length) {
        malformed.line(event.line, `expected ${columns.length} fields, found ${event.fields.length}`);
        continue;
      }
      if (build === undefined || builtFor !== columns) {
        build = recordBuilder(columns, options.nullValues);
        builtFor = columns;
      }
      rows.push({ values: build(event.fields), line: event.line });
    }
    events.length = 0;
    return rows;
  };

  for await (const lines of batches) {
    for (const line of lines) parser.push(line, events);
    const rows = toRows();
    if (rows === 'stop') return;
    if (rows.length > 0) yield rows;
  }
  parser.end(events);
  const rows = toRows();
  if (rows !== 'stop' && rows.length > 0) yield rows;
}
