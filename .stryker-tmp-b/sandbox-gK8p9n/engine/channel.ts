/**
 * A one-producer, one-consumer byte channel with backpressure: the Parquet
 * writer pushes chunks, the object store's `put` pulls them. At most
 * `highWaterMark` chunks wait in between, so memory stays bounded.
 */
// @ts-nocheck

export class ByteChannel implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private failure: unknown;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  public constructor(private readonly highWaterMark = 4) {}

  public async push(chunk: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.queue.push(chunk);
    this.wake('consumer');
    while (this.queue.length > this.highWaterMark && this.failure === undefined) {
      await new Promise<void>((resolve) => {
        this.wakeProducer = resolve;
      });
    }
    if (this.failure !== undefined) throw this.failure;
  }

  public end(): void {
    this.ended = true;
    this.wake('consumer');
  }

  /** Fails both sides: the producer's next push and the consumer's next read throw. */
  public fail(error: unknown): void {
    this.failure = error ?? new Error('channel failed');
    this.wake('consumer');
    this.wake('producer');
  }

  private wake(side: 'consumer' | 'producer'): void {
    const wake = side === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (side === 'consumer') this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    wake?.();
  }

  public async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        this.wake('producer');
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wakeConsumer = resolve;
      });
    }
  }
}
