import { describe, expect, it } from 'vitest';
import { formatRunReport } from '../../../cli/format.js';
import {
  addInvocation,
  COUNTED_KEYS,
  estimateRunCost,
  formatUsd,
  LIST_PRICES,
} from '../../../engine/cost.js';

/**
 * Figures computed by hand from the AWS pricing pages (us-east-1): Lambda
 * $0.0000166667 per GB-s on x86_64, $0.0000133334 on arm64, $0.20 per
 * million requests; Step Functions Standard $0.025 per 1,000 transitions.
 */
describe('estimateRunCost against list-price figures', () => {
  it('prices a million 100 ms invocations of a 128 MB x86_64 function as the pricing page does', () => {
    // Act: 1,000,000 × 0.1 s × 0.125 GB = 12,500 GB-s
    const cost = estimateRunCost({
      lambdaMs: 100_000_000,
      memoryMb: 128,
      requests: 1_000_000,
      stateTransitions: 0,
      architecture: 'x86_64',
    });

    // Assess: 12,500 × 0.0000166667 = 0.20833375, plus 0.20 for the requests
    expect(cost.lambdaGbSeconds).toBe(12_500);
    expect(cost.usd).toBeCloseTo(0.40833375, 10);
  });

  it('prices the same on arm64 at the lower GB-second rate, and arm64 when none is given', () => {
    // Act
    const usage = { lambdaMs: 100_000_000, memoryMb: 128, requests: 1_000_000, stateTransitions: 0 };
    const arm = estimateRunCost({ ...usage, architecture: 'arm64' });
    const unsaid = estimateRunCost(usage);

    // Assess: 12,500 × 0.0000133334 = 0.1666675, plus 0.20
    expect(arm.usd).toBeCloseTo(0.3666675, 10);
    expect(unsaid.usd).toBeCloseTo(0.3666675, 10);
  });

  it('prices 10,000 state transitions at $0.25', () => {
    // Act
    const cost = estimateRunCost({ lambdaMs: 0, memoryMb: 1769, requests: 0, stateTransitions: 10_000 });

    // Assess
    expect(cost.usd).toBeCloseTo(0.25, 12);
  });

  it('sums a pulled run of four invocations, each rounded up to the millisecond', () => {
    // Prepare: begin 1,200.2 ms, two slices of 15,000 and 14,999.1 ms, finish 300 ms on 1,769 MB arm64,
    // and 12 transitions (HasRunId?, Begin, Drained?, 2 × (Slice, Drained?), Finish, a stage, Done, …)
    const durations = [1200.2, 15_000, 14_999.1, 300];
    let cost: ReturnType<typeof addInvocation> | undefined;

    // Act
    for (const [i, durationMs] of durations.entries()) {
      cost = addInvocation(cost, {
        key: `request-${i}`,
        durationMs,
        memoryMb: 1769,
        architecture: 'arm64',
        requests: 1,
        stateTransitions: 3,
      });
    }

    // Assess: 31,501 ms × 1769/1024 GB = 54.4192080078125 GB-s;
    // × 0.0000133334 + 4 × 0.0000002 + 12 × 0.000025 = $0.0010263930680513673
    expect(cost?.lambdaMs).toBe(31_501);
    expect(cost?.requests).toBe(4);
    expect(cost?.stateTransitions).toBe(12);
    expect(cost?.lambdaGbSeconds).toBeCloseTo(54.4192080078125, 10);
    expect(cost?.usd).toBeCloseTo(0.0010263930680513673, 15);
  });

  it('counts an invocation once when it is added twice, and a fixed charge as transitions only', () => {
    // Prepare
    const invocation = {
      key: 'request-1',
      durationMs: 1000,
      memoryMb: 1024,
      architecture: 'x86_64',
      requests: 1,
      stateTransitions: 2,
    } as const;
    const once = addInvocation(undefined, invocation);

    // Act
    const twice = addInvocation(once, invocation);
    const withStart = addInvocation(twice, { ...invocation, key: 'start:run', durationMs: 0, requests: 0 });

    // Assess: 1 GB-s × 0.0000166667 + 0.0000002 + 2 × 0.000025; then 2 transitions more
    expect(twice).toEqual(once);
    expect(once.usd).toBeCloseTo(0.0000668667, 15);
    expect(withStart).toMatchObject({ requests: 1, stateTransitions: 4, lambdaMs: 1000 });
    expect(withStart.usd).toBeCloseTo(0.0001168667, 15);
  });

  it('keeps only the newest counted keys, however many slices a run takes', () => {
    // Act
    let cost: ReturnType<typeof addInvocation> | undefined;
    for (let i = 0; i < COUNTED_KEYS + 10; i++) {
      cost = addInvocation(cost, {
        key: `request-${i}`,
        durationMs: 1,
        memoryMb: 128,
        architecture: 'arm64',
        requests: 1,
        stateTransitions: 2,
      });
    }

    // Assess
    expect(cost?.requests).toBe(COUNTED_KEYS + 10);
    expect(cost?.counted).toHaveLength(COUNTED_KEYS);
    expect(cost?.counted?.at(-1)).toBe(`request-${COUNTED_KEYS + 9}`);
  });
});

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
