// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { formatRunReport } from '../../../cli/format.js';
import { estimateRunCost, formatUsd, LIST_PRICES } from '../../../engine/cost.js';

describe('estimateRunCost', () => {
  it('prices GB-seconds, requests and state transitions at the listed prices', () => {
    // Act
    const cost = estimateRunCost({ lambdaMs: 2000, memoryMb: 1024, requests: 3, stateTransitions: 8 });

    // Assess
    expect(cost.lambdaGbSeconds).toBe(2);
    expect(cost.usd).toBeCloseTo(
      2 * LIST_PRICES.lambdaArmGbSecond + 3 * LIST_PRICES.lambdaRequest + 8 * LIST_PRICES.stateTransition,
      12,
    );
    expect(cost.pricesAsOf).toBe(LIST_PRICES.asOf);
  });

  it('shows the estimate in the run report', () => {
    // Prepare
    const cost = estimateRunCost({ lambdaMs: 500, memoryMb: 1769, requests: 1, stateTransitions: 0 });

    // Act
    const text = formatRunReport({
      runId: 'r1',
      source: 'app',
      status: 'SUCCEEDED',
      startedAt: '2026-11-27T00:00:00.000Z',
      endedAt: '2026-11-27T00:00:01.000Z',
      streams: {},
      cost,
    });

    // Assess
    expect(text).toContain(`estimated cost: ${formatUsd(cost.usd)} (0.86 Lambda GB-s, 1 requests`);
    expect(formatUsd(0.0000123)).toBe('$0.0000123');
    expect(formatUsd(1.5)).toBe('$1.5000');
  });
});
