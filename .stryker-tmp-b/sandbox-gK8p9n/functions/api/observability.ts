/**
 * The API's push and alarm ports on AWS, when the stack configured them:
 * `SLUICE_INGEST_STREAM` (the Kinesis stream pushes go to) and
 * `SLUICE_ALARM_TOPIC_ARN` + `SLUICE_ALARM_PREFIX` (sources' freshness alarms).
 */
// @ts-nocheck

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CloudWatchSourceAlarms } from '../../adapters/aws/cloudwatch-alarms.js';
import { AwsService, type AwsSettings, clientConfig } from '../../adapters/aws/config.js';
import { KinesisEventSink } from '../../adapters/aws/kinesis-events.js';
import { optionalEnv } from '../shared/env.js';
import { tracer } from '../shared/powertools.js';
import type { ApiDeps } from './ports.js';

export function observabilityPorts(
  settings: AwsSettings,
  env: NodeJS.ProcessEnv = process.env,
): Pick<ApiDeps, 'events' | 'alarms'> {
  const stream = optionalEnv('SLUICE_INGEST_STREAM', env);
  const topic = optionalEnv('SLUICE_ALARM_TOPIC_ARN', env);
  const prefix = optionalEnv('SLUICE_ALARM_PREFIX', env);
  return {
    ...(stream
      ? {
          events: new KinesisEventSink({
            streamName: stream,
            client: tracer.captureAWSv3Client(new KinesisClient(clientConfig(AwsService.kinesis, settings))),
          }),
        }
      : {}),
    ...(topic && prefix
      ? {
          alarms: new CloudWatchSourceAlarms({
            namePrefix: prefix,
            actions: [topic],
            client: tracer.captureAWSv3Client(
              new CloudWatchClient(clientConfig(AwsService.cloudWatch, settings)),
            ),
          }),
        }
      : {}),
  };
}
