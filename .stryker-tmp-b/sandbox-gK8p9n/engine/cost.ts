/**
 * The estimated AWS cost of a run, from what it used: Lambda GB-seconds and
 * requests, Step Functions state transitions, at list price. An estimate:
 * no free tier, no S3/DynamoDB/Glue/Kinesis requests, no data transfer.
 *
 * Prices: AWS public list prices for us-east-1 as published on the Lambda
 * and Step Functions pricing pages (Lambda arm64 first tier; Step Functions
 * Standard workflows), unchanged from 2021 to the date below. Check them
 * for your region before relying on them.
 */
// @ts-nocheck

export const LIST_PRICES = {
  asOf: '2026-11-27',
  source: 'AWS Lambda and AWS Step Functions pricing pages, us-east-1',
  /** USD per GB-second, arm64, first 7.5 billion GB-s a month. */
  lambdaArmGbSecond: 0.0000133334,
  /** USD per request (0.20 per million). */
  lambdaRequest: 0.0000002,
  /** USD per state transition, Standard workflows (0.025 per thousand). */
  stateTransition: 0.000025,
} as const;

export interface RunUsage {
  /** Milliseconds of Lambda billed for the run (its invocations' durations). */
  readonly lambdaMs: number;
  /** The function's memory. */
  readonly memoryMb: number;
  readonly requests: number;
  /** 0 for push micro-batches (no state machine). */
  readonly stateTransitions: number;
}

export interface RunCost extends RunUsage {
  readonly lambdaGbSeconds: number;
  /** Estimated USD at LIST_PRICES. */
  readonly usd: number;
  readonly pricesAsOf: string;
}

export function estimateRunCost(usage: RunUsage): RunCost {
  const lambdaGbSeconds = (Math.ceil(usage.lambdaMs) / 1000) * (usage.memoryMb / 1024);
  const usd =
    lambdaGbSeconds * LIST_PRICES.lambdaArmGbSecond +
    usage.requests * LIST_PRICES.lambdaRequest +
    usage.stateTransitions * LIST_PRICES.stateTransition;
  return { ...usage, lambdaGbSeconds, usd, pricesAsOf: LIST_PRICES.asOf };
}

/** `$0.0000123` with enough digits to see micro-batch costs. */
export function formatUsd(usd: number): string {
  return usd >= 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toPrecision(3)}`;
}
