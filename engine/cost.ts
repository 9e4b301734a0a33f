/**
 * The estimated AWS cost of a run, from what it used: Lambda GB-seconds and
 * requests, Step Functions state transitions, at list price. An estimate:
 * no free tier, no S3/DynamoDB/Glue/Kinesis requests, no data transfer
 * (docs/operations.md#cost-estimate).
 *
 * Prices: AWS public list prices for us-east-1 as published on the Lambda
 * and Step Functions pricing pages (Lambda first tier, arm64 and x86_64;
 * Step Functions Standard workflows), unchanged from 2021 to the date below.
 * Check them for your region before relying on them.
 */
export const LIST_PRICES = {
  asOf: '2026-11-27',
  source: 'AWS Lambda and AWS Step Functions pricing pages, us-east-1',
  /** USD per GB-second, arm64, first 7.5 billion GB-s a month. */
  lambdaArmGbSecond: 0.0000133334,
  /** USD per GB-second, x86_64, first 6 billion GB-s a month. */
  lambdaX86GbSecond: 0.0000166667,
  /** USD per request (0.20 per million), either architecture. */
  lambdaRequest: 0.0000002,
  /** USD per state transition, Standard workflows (0.025 per thousand). */
  stateTransition: 0.000025,
} as const;

export const LambdaArchitecture = { arm64: 'arm64', x86_64: 'x86_64' } as const;
export type LambdaArchitecture = (typeof LambdaArchitecture)[keyof typeof LambdaArchitecture];

export interface RunUsage {
  /** Milliseconds of Lambda billed for the run (its invocations' durations, each rounded up to 1 ms). */
  readonly lambdaMs: number;
  /** The function's memory. */
  readonly memoryMb: number;
  readonly requests: number;
  /** 0 for push micro-batches (no state machine). */
  readonly stateTransitions: number;
  /** Which GB-second price applies. @default 'arm64' (as infra/constructs/sluice-function.ts deploys) */
  readonly architecture?: LambdaArchitecture;
  /**
   * Keys of the invocations (Lambda request ids) and fixed charges already
   * counted, newest last, so that writing one invocation again adds nothing.
   * Only the last {@link COUNTED_KEYS} are kept: a repeat comes right after its own write.
   */
  readonly counted?: readonly string[];
}

export interface RunCost extends RunUsage {
  readonly lambdaGbSeconds: number;
  /** Estimated USD at LIST_PRICES. */
  readonly usd: number;
  readonly pricesAsOf: string;
}

/** How many counted keys a run record keeps (bounds the record however many slices a run takes). */
export const COUNTED_KEYS = 32;

/** What one Lambda invocation of a run used (or a fixed charge, such as the state machine's own states). */
export interface InvocationUsage {
  /** Unique per invocation (its Lambda request id) or per fixed charge (e.g. `start:<execution>`). */
  readonly key: string;
  /** Measured duration; 0 for a fixed charge. */
  readonly durationMs: number;
  readonly memoryMb: number;
  readonly architecture: LambdaArchitecture;
  /** 1 for an invocation, 0 for a fixed charge. */
  readonly requests: number;
  /** State transitions this invocation (or charge) stands for. */
  readonly stateTransitions: number;
}

export function estimateRunCost(usage: RunUsage): RunCost {
  const lambdaGbSeconds = (Math.ceil(usage.lambdaMs) / 1000) * (usage.memoryMb / 1024);
  const gbSecondPrice =
    usage.architecture === LambdaArchitecture.x86_64
      ? LIST_PRICES.lambdaX86GbSecond
      : LIST_PRICES.lambdaArmGbSecond;
  const usd =
    lambdaGbSeconds * gbSecondPrice +
    usage.requests * LIST_PRICES.lambdaRequest +
    usage.stateTransitions * LIST_PRICES.stateTransition;
  return { ...usage, lambdaGbSeconds, usd, pricesAsOf: LIST_PRICES.asOf };
}

/**
 * Adds one invocation to what a run used and prices the sum; adding a key
 * already counted returns `cost` unchanged (idempotent). Billed duration is
 * rounded up to the next millisecond per invocation, as Lambda bills it.
 * A run's invocations share one function, so the latest memory size and
 * architecture stand for all of them.
 */
export function addInvocation(cost: RunUsage | undefined, invocation: InvocationUsage): RunCost {
  const counted = cost?.counted ?? [];
  if (cost && counted.includes(invocation.key)) return estimateRunCost(cost);
  return estimateRunCost({
    lambdaMs: (cost?.lambdaMs ?? 0) + Math.ceil(Math.max(0, invocation.durationMs)),
    memoryMb: invocation.requests > 0 ? invocation.memoryMb : (cost?.memoryMb ?? invocation.memoryMb),
    requests: (cost?.requests ?? 0) + invocation.requests,
    stateTransitions: (cost?.stateTransitions ?? 0) + invocation.stateTransitions,
    architecture: invocation.architecture,
    counted: [...counted, invocation.key].slice(-COUNTED_KEYS),
  });
}

/** `$0.0000123` with enough digits to see micro-batch costs. */
export function formatUsd(usd: number): string {
  return usd >= 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toPrecision(3)}`;
}
