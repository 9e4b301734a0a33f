// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { expectPromptAbort } from '../../../../connectors/sdk/conformance.js';
import type { ReadContext, SourceRecord, Stream } from '../../../../connectors/sdk/types.js';

/** A stream of `pages` pages of 10 records whose reading is `read`. */
function stream(read: (ctx: ReadContext) => AsyncIterable<SourceRecord[]>): Stream {
  return { name: 'things', primaryKey: ['id'], writeDisposition: 'append', read };
}

const page = (n: number): SourceRecord[] => Array.from({ length: 10 }, (_, i) => ({ id: n * 10 + i }));

describe('the conformance kit checks that a read stops when its signal aborts', () => {
  it('passes a stream that throws its abort at the next page', async () => {
    // Prepare
    const good = stream(async function* (ctx) {
      for (let n = 0; n < 100; n++) {
        ctx.signal.throwIfAborted();
        yield page(n);
      }
    });

    // Act / Assess
    await expect(expectPromptAbort(good)).resolves.toBeUndefined();
  });

  it('passes a stream that simply ends after the abort', async () => {
    // Prepare
    const ends = stream(async function* (ctx) {
      for (let n = 0; n < 100 && !ctx.signal.aborted; n++) yield page(n);
    });

    // Act / Assess
    await expect(expectPromptAbort(ends)).resolves.toBeUndefined();
  });

  it('fails a stream that ignores the signal and reads on', async () => {
    // Prepare
    const deaf = stream(async function* () {
      for (let n = 0; n < 100; n++) yield page(n);
    });

    // Act / Assess
    await expect(expectPromptAbort(deaf)).rejects.toThrow(/things: items after abort/);
  });

  it('fails a stream that fails with another error instead of its abort', async () => {
    // Prepare
    const confused = stream(async function* (ctx) {
      for (let n = 0; n < 100; n++) {
        if (ctx.signal.aborted) throw new Error('socket hang up');
        yield page(n);
      }
    });

    // Act / Assess
    await expect(expectPromptAbort(confused)).rejects.toThrow(
      /must end or throw its abort, not "Error: socket hang up"/,
    );
  });

  it('fails a stream that hangs after the abort', async () => {
    // Prepare
    const stuck = stream(async function* () {
      yield page(0);
      await new Promise(() => undefined);
    });

    // Act / Assess
    await expect(expectPromptAbort(stuck, 200)).rejects.toThrow(
      /still reading 200 ms after its signal aborted/,
    );
  });
});
