/**
 * The API Lambda: API Gateway HTTP API (payload v2) events in, the routes of
 * routes.ts on the AWS adapters, one error body out. Thin: translate the
 * event, call the router, log 5xx with the request id.
 */
// @ts-nocheck

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { AwsService, clientConfig } from '../../adapters/aws/config.js';
import { EventBridgeScheduler } from '../../adapters/aws/scheduler.js';
import { StepFunctionsSyncTrigger } from '../../adapters/aws/step-functions.js';
import { registry } from '../../connectors/index.js';
import { awsSettings, backend } from '../shared/backend.js';
import { apiEnv, once } from '../shared/env.js';
import { wrap } from '../shared/middleware.js';
import { logger, metrics, tracer } from '../shared/powertools.js';
import type { ApiRequest } from './http.js';
import { observabilityPorts } from './observability.js';
import { type Api, createApi } from './routes.js';

const api = once((): Api => {
  const env = apiEnv();
  const aws = backend();
  const settings = awsSettings();
  return createApi(
    {
      state: aws.state,
      secrets: aws.secrets,
      objects: aws.objects,
      catalog: aws.catalog,
      registry,
      scheduler: new EventBridgeScheduler({
        groupName: env.schedulerGroup,
        stateMachineArn: env.stateMachineArn,
        roleArn: env.schedulerRoleArn,
        client: tracer.captureAWSv3Client(new SchedulerClient(clientConfig(AwsService.scheduler, settings))),
      }),
      trigger: new StepFunctionsSyncTrigger({
        stateMachineArn: env.stateMachineArn,
        client: tracer.captureAWSv3Client(new SFNClient(clientConfig(AwsService.sfn, settings))),
      }),
      ...observabilityPorts(settings),
    },
    { onError: (error, request) => logger.error('request failed', { error, requestId: request.requestId }) },
  );
});

/** The router's request from an API Gateway v2 event. */
export function toApiRequest(
  event: APIGatewayProxyEventV2,
  context: Pick<Context, 'awsRequestId'>,
): ApiRequest {
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.queryStringParameters ?? {},
    headers,
    body,
    requestId: event.requestContext.requestId ?? context.awsRequestId,
  };
}

async function handle(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> {
  const request = toApiRequest(event, context);
  logger.appendKeys({ requestId: request.requestId, route: `${request.method} ${request.path}` });
  try {
    const response = await api().handle(request);
    metrics.addMetric('requests', MetricUnit.Count, 1);
    if (response.statusCode >= 500) metrics.addMetric('serverErrors', MetricUnit.Count, 1);
    return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
  } catch (error) {
    // Only a broken environment gets here (routes answer every error themselves).
    logger.error('API not configured', { error });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        error: { code: 'InternalError', message: 'internal error', requestId: request.requestId },
      }),
    };
  }
}

export const handler = wrap(handle);
