import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { correlationOf } from '../../../../functions/api/index.js';
import { wrap } from '../../../../functions/shared/middleware.js';
import { logger } from '../../../../functions/shared/powertools.js';

const context = (id: string) =>
  ({ awsRequestId: id, functionName: 'test', getRemainingTimeInMillis: () => 10_000 }) as unknown as Context;

/** The JSON log lines written while `act` runs. */
async function logLines(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.message !== undefined);
}

describe('the handler wrapper', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('keeps correlation keys to the invocation that set them', async () => {
    // Prepare: a warm container runs two invocations; only the first knows its source and run
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const handler = wrap(async (event: { source?: string }) => {
      if (event.source) logger.appendKeys({ source: event.source, run: 'r1' });
      logger.info('step');
      return 'ok';
    });

    // Act
    const lines = await logLines(async () => {
      await handler({ source: 'shop' }, context('a'));
      await handler({}, context('b'));
    });

    // Assess
    expect(lines.map((l) => [l.source, l.run])).toEqual([
      ['shop', 'r1'],
      [undefined, undefined],
    ]);
  });

  it('names the source and run an API path is about', () => {
    // Act + Assess
    expect(correlationOf('/sources/shop')).toEqual({ source: 'shop' });
    expect(correlationOf('/sources/shop/runs/20261127T100000000Z-c0ffee')).toEqual({
      source: 'shop',
      run: '20261127T100000000Z-c0ffee',
    });
    expect(correlationOf('/runs/abc%2Fdef')).toEqual({ run: 'abc/def' });
    expect(correlationOf('/connectors')).toEqual({});
  });
});
