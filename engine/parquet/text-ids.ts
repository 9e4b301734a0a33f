/**
 * Numbers a text column's distinct values as the rows are converted (ADR
 * 0017), so that neither the converter (UTF-8) nor the encoder (hashing the
 * bytes) handles a repeated value again: V8 keeps a string's hash with the
 * string, and the encoder receives each distinct value's UTF-8 bytes once
 * (`drain`), then only each row's id.
 *
 * One interner lives as long as its writer (a file), so a row's id means
 * the same value in every row group, however the groups are cut. It stops
 * for good once the column's distinct values outgrow what one dictionary
 * page may hold; the column's later rows are converted to UTF-8 as usual,
 * and the encoder interns their bytes itself or leaves them to parquet-rs.
 */
import { DICTIONARY_PAGE_LIMIT } from './text-dictionary.js';

/** Distinct values an interner numbers at most (16-bit dictionary indices). */
export const MAX_TEXT_IDS = 1 << 16;
/**
 * Once this many values were seen, a column whose values nearly never
 * repeat stops being numbered: a dictionary would cost more than plain text.
 */
export const DISTINCT_SAMPLE = 4096;

/** Values numbered since the last drain: ids `first` on, their UTF-8 bytes one after another. */
export interface TextEntries {
  readonly first: number;
  readonly bytes: Uint8Array;
  /** Byte offsets into `bytes`, one more than there are entries. */
  readonly offsets: Int32Array;
}

export class TextInterner {
  private readonly ids = new Map<string, number>();
  /** UTF-8 bytes of the values numbered, with 4 more each (the dictionary page's length prefix). */
  private pageBytes = 0;
  private stopped = false;
  /** Every value numbered, by id: kept after a stop, to turn ids back into text (`valueOf`). */
  private readonly values: string[] = [];
  private drained = 0;
  /** Non-null values numbered so far, repeats included. */
  private seen = 0;

  /** UTF-16 length of the longest value numbered. */
  public longest = 0;

  /** Ids no longer come, for this column, for the rest of the file. */
  public get overflowed(): boolean {
    return this.stopped;
  }

  /**
   * Each of `n` rows' id, or -1 where the row is null (`nulls`, ascending),
   * given every non-null value in row order; undefined once the interner
   * has stopped (it stops here when these values overflow it).
   */
  public idsOf(strings: readonly string[], nulls: readonly number[], n: number): Int32Array | undefined {
    if (this.stopped) return undefined;
    const out = new Int32Array(n);
    const ids = this.ids;
    let k = 0;
    let nextNull = nulls.length > 0 ? nulls[0]! : n;
    let q = 0;
    for (let row = 0; row < n; row++) {
      if (row === nextNull) {
        out[row] = -1;
        q++;
        nextNull = q < nulls.length ? nulls[q]! : n;
        continue;
      }
      const value = strings[k++]!;
      let id = ids.get(value);
      if (id === undefined) {
        id = this.add(value);
        if (id < 0) return undefined;
      }
      out[row] = id;
    }
    this.seen += k;
    // These rows keep their ids; later ones are left to the encoder when values hardly repeat.
    if (this.seen >= DISTINCT_SAMPLE && this.values.length * 10 > this.seen * 9) this.stop();
    return out;
  }

  /** `n` rows of one value's id; undefined once the interner has stopped. */
  public repeat(value: string, n: number): Int32Array | undefined {
    if (this.stopped) return undefined;
    const id = this.ids.get(value) ?? this.add(value);
    return id < 0 ? undefined : new Int32Array(n).fill(id);
  }

  /** The value numbered `id`. */
  public valueOf(id: number): string {
    const value = this.values[id];
    if (value === undefined) throw new Error(`No text value numbered ${id}`);
    return value;
  }

  /** The values numbered since the last drain, as UTF-8. */
  public drain(): TextEntries {
    const first = this.drained;
    const strings = this.values.slice(first);
    this.drained = this.values.length;
    const offsets = new Int32Array(strings.length + 1);
    let length = 0;
    for (let k = 0; k < strings.length; k++) {
      length += Buffer.byteLength(strings[k]!, 'utf8');
      offsets[k + 1] = length;
    }
    const bytes = new Uint8Array(length);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < strings.length; k++) buffer.write(strings[k]!, offsets[k]!, 'utf8');
    return { first, bytes, offsets };
  }

  /** Values numbered before still go out with the next drain: rows of groups not yet cut use them. */
  private stop(): void {
    this.stopped = true;
    this.ids.clear();
  }

  private add(value: string): number {
    this.pageBytes += 4 + Buffer.byteLength(value, 'utf8');
    if (this.values.length >= MAX_TEXT_IDS || this.pageBytes > DICTIONARY_PAGE_LIMIT) {
      this.stop();
      return -1;
    }
    const id = this.values.length;
    if (value.length > this.longest) this.longest = value.length;
    this.ids.set(value, id);
    this.values.push(value);
    return id;
  }
}
