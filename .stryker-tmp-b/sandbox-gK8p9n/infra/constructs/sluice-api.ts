// @ts-nocheck
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SluiceFunction } from './sluice-function.js';

export interface SluiceApiProps {
  /** Variables of the API handler (functions/shared/env.ts). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Steady-state requests per second across the API.
   * @default 50
   */
  readonly rateLimit?: number;
  /**
   * Burst of requests above the rate.
   * @default 100
   */
  readonly burstLimit?: number;
}

/**
 * The HTTP API: every route IAM-authorised (callers sign with SigV4), one
 * Lambda behind a catch-all route that routes itself (functions/api), access
 * logs in JSON, throttled. Grants are the stack's to give (`handler`).
 */
export class SluiceApi extends Construct {
  public readonly api: apigw.HttpApi;
  public readonly handler: SluiceFunction;

  public constructor(scope: Construct, id: string, props: SluiceApiProps) {
    super(scope, id);
    this.handler = new SluiceFunction(this, 'Handler', {
      entry: 'functions/api/index.ts',
      description: 'Sluice HTTP API: sources, syncs, runs, connectors',
      serviceName: 'sluice-api',
      environment: props.environment,
      timeout: Duration.seconds(29),
      memorySize: 1024,
    });
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Sluice: sources, syncs and runs',
      defaultAuthorizer: new HttpIamAuthorizer(),
      defaultIntegration: new HttpLambdaIntegration('Handler', this.handler.function),
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            error: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
  }
}
