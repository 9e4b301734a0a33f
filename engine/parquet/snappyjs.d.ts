/** snappyjs ships no types: the two functions this project calls. */
declare module 'snappyjs' {
  /** Snappy's raw format (no framing), as Parquet's SNAPPY codec stores a page. */
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array): Uint8Array;
}
