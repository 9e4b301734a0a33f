// @ts-nocheck
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** One physical line of a text file, without its line break. */
export interface PhysicalLine {
  readonly text: string;
  /** The line break that ended it: "\n", "\r\n", or "" for the last line. */
  readonly eol: string;
  /** 1-based. */
  readonly number: number;
  /** Longer than the limit: `text` is empty and the line is malformed. */
  readonly overlong: boolean;
}

/** Lines (and CSV records) longer than this are malformed rather than buffered without bound. */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Gunzips on the fly when asked; the returned stream destroys `body` when it is itself destroyed. */
export function maybeGunzip(body: Readable, gzip: boolean): AsyncIterable<Uint8Array> {
  if (!gzip) return body;
  // pipeline() forwards errors both ways and destroys `body` when the consumer stops early.
  return pipeline(body, createGunzip(), () => undefined);
}

/** Decodes bytes incrementally (multi-byte characters may straddle chunks); strips a BOM. */
export async function* decodeText(
  chunks: AsyncIterable<Uint8Array>,
  encoding: string,
): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding);
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield text;
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield tail;
}

/**
 * Splits decoded text into physical lines ("\n" or "\r\n"), one batch per
 * input chunk so the per-line cost stays synchronous. Holds at most one
 * partial line; a line over `maxChars` is reported as overlong and dropped.
 */
export async function* splitLines(
  texts: AsyncIterable<string>,
  maxChars = MAX_LINE_CHARS,
): AsyncGenerator<PhysicalLine[]> {
  let pending = '';
  let overlong = false;
  let number = 0;
  const lineOf = (full: string, ended: boolean): PhysicalLine => {
    number++;
    if (overlong || full.length > maxChars)
      return { text: '', eol: ended ? '\n' : '', number, overlong: true };
    if (ended && full.endsWith('\r'))
      return { text: full.slice(0, -1), eol: '\r\n', number, overlong: false };
    return { text: full, eol: ended ? '\n' : '', number, overlong: false };
  };
  for await (const text of texts) {
    const lines: PhysicalLine[] = [];
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      const piece = text.slice(start, newline);
      lines.push(lineOf(pending.length > 0 ? pending + piece : piece, true));
      pending = '';
      overlong = false;
      start = newline + 1;
    }
    if (start < text.length && !overlong) {
      pending += text.slice(start);
      if (pending.length > maxChars) {
        overlong = true;
        pending = '';
      }
    }
    if (lines.length > 0) yield lines;
  }
  if (pending.length > 0 || overlong) yield [lineOf(pending, false)];
}
