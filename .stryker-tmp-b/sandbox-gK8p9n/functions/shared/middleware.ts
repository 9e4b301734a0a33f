/**
 * The one wrapper every handler gets: Lambda context in the logs, metrics
 * flushed after each invocation, the handler traced.
 */
// @ts-nocheck

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './powertools.js';

export interface WrapOptions {
  /**
   * Let middy answer `TimeoutError` this long before Lambda's timeout, leaving
   * the handler's work running unobserved; 0 turns that off for handlers that
   * stop their own work at a deadline (the sync handler).
   * @default 5 (middy's default)
   */
  readonly timeoutEarlyInMillis?: number;
}

export function wrap<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  options: WrapOptions = {},
): MiddyfiedHandler<TEvent, TResult, Error, Context> {
  return middy<TEvent, TResult, Error, Context>(handler, {
    ...(options.timeoutEarlyInMillis === undefined
      ? {}
      : { timeoutEarlyInMillis: options.timeoutEarlyInMillis }),
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer));
}
