/**
 * The AWS backend and SDK clients, built once per container (on first use,
 * so a bad environment fails the invocation with the variable named rather
 * than the container's init) and traced by X-Ray. No handler queries Athena,
 * so its client is not built (nor loaded: the backend imports it on demand).
 */
// @ts-nocheck

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type AwsBackend,
  AwsService,
  clientConfig,
  openAwsBackend,
  readAwsSettings,
} from '../../adapters/aws/index.js';
import { backendEnv, once } from './env.js';
import { tracer } from './powertools.js';

export const awsSettings = once(() => readAwsSettings());

export const backend = once((): AwsBackend => {
  const settings = awsSettings();
  return openAwsBackend(
    {
      ...backendEnv(),
      clients: {
        s3: tracer.captureAWSv3Client(new S3Client(clientConfig(AwsService.s3, settings))),
        dynamodb: tracer.captureAWSv3Client(new DynamoDBClient(clientConfig(AwsService.dynamodb, settings))),
        glue: tracer.captureAWSv3Client(new GlueClient(clientConfig(AwsService.glue, settings))),
        secretsManager: tracer.captureAWSv3Client(
          new SecretsManagerClient(clientConfig(AwsService.secretsManager, settings)),
        ),
      },
    },
    settings,
  );
});
