/**
 * A timestamp with the microseconds a `Date` cannot hold. It is a `Date` (at
 * millisecond precision, rounded down), so schema inference sees a timestamp
 * and cursors compare it as one; the Parquet writer lands `micros` exactly.
 * Connectors that read microsecond sources (Parquet files, databases) yield
 * it where a plain `Date` would drop the last three digits. Treat it as
 * immutable: `Date` setters change the millisecond part, not `micros`.
 */
export class PreciseDate extends Date {
  /** Epoch microseconds, exact. */
  public readonly micros: bigint;

  public constructor(micros: bigint) {
    // Floor, not truncation: 1969-12-31T23:59:59.999999Z is -1 µs, in millisecond -1.
    const ms = floorDiv(micros, 1000n);
    // Beyond a Date's ±8.64e15 ms the Date is invalid; `micros` still holds the instant.
    super(Number(ms));
    this.micros = micros;
  }

  /**
   * ISO-8601 in UTC: six fractional digits when the microseconds are not a
   * whole millisecond, else a Date's own three, so text keyed on a whole
   * millisecond (cursors, tie keys, hashes) reads as it did for a Date.
   */
  public toPreciseISOString(): string {
    const base = this.toISOString();
    const sub = Number(((this.micros % 1000n) + 1000n) % 1000n);
    return sub === 0 ? base : `${base.slice(0, -1)}${String(sub).padStart(3, '0')}Z`;
  }
}

/** `a / b` rounded toward −∞ (BigInt division truncates toward zero); `b` > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  return a >= 0n ? a / b : -((-a + b - 1n) / b);
}
