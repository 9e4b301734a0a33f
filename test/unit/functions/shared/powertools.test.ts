import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { publishMetrics } from '../../../../functions/shared/powertools.js';

describe('publishMetrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('publishes every metric under the given dimensions in one EMF document', () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });

    // Act
    try {
      publishMetrics({ source: 'shop', stream: 'orders' }, [
        ['rows', MetricUnit.Count, 7],
        ['bytes', MetricUnit.Bytes, 700],
        ['duration', MetricUnit.Milliseconds, 12],
      ]);
    } finally {
      spy.mockRestore();
    }

    // Assess
    const docs = out
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ source: 'shop', stream: 'orders', rows: 7, bytes: 700, duration: 12 });
    expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'source', 'stream']]);
    expect(docs[0]._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      'rows',
      'bytes',
      'duration',
    ]);
  });
});
