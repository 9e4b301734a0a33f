// @ts-nocheck
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AwsConfigError,
  AwsService,
  clientConfig,
  endpointVariable,
  readAwsSettings,
} from '../../../adapters/aws/config.js';
import { createStateTable, DynamoDbStateStore } from '../../../adapters/aws/dynamodb-state-store.js';
import { awsBackendOptionsFromEnv } from '../../../adapters/aws/index.js';
import { S3ObjectStore } from '../../../adapters/aws/s3-object-store.js';
import { createBucket, endpoint, startFaultProxy, uniqueName } from './support.js';

describe('readAwsSettings', () => {
  it('uses virtual-hosted S3 and HTTP/1.1 when no endpoint is configured', () => {
    const settings = readAwsSettings({ AWS_REGION: 'eu-central-1' });
    expect(settings).toMatchObject({ region: 'eu-central-1', s3ForcePathStyle: false, httpVersion: '1.1' });
    expect(settings.endpointOverrides.size).toBe(0);
  });

  it('turns on path-style S3 when AWS_ENDPOINT_URL is set, for every service', () => {
    const settings = readAwsSettings({ AWS_ENDPOINT_URL: 'http://localhost:4566' });
    expect(settings.s3ForcePathStyle).toBe(true);
    expect(settings.endpointOverrides.has(AwsService.dynamodb)).toBe(true);
  });

  it('reads service-specific endpoint variables', () => {
    const settings = readAwsSettings({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' });
    expect(settings.s3ForcePathStyle).toBe(true);
    expect([...settings.endpointOverrides]).toEqual([AwsService.s3]);
    expect(readAwsSettings({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' }).s3ForcePathStyle).toBe(
      false,
    );
  });

  it('lets SLUICE_S3_FORCE_PATH_STYLE decide either way', () => {
    expect(
      readAwsSettings({ AWS_ENDPOINT_URL: 'http://x:1', SLUICE_S3_FORCE_PATH_STYLE: 'false' })
        .s3ForcePathStyle,
    ).toBe(false);
    expect(readAwsSettings({ SLUICE_S3_FORCE_PATH_STYLE: 'true' }).s3ForcePathStyle).toBe(true);
  });

  it('ignores endpoint variables when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, as the SDK does', () => {
    const settings = readAwsSettings({
      AWS_ENDPOINT_URL: 'http://x:1',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
    });
    expect(settings.s3ForcePathStyle).toBe(false);
    expect(settings.endpointOverrides.size).toBe(0);
  });

  it('names the variable when a value is invalid', () => {
    expect(() => readAwsSettings({ SLUICE_AWS_HTTP_VERSION: '3' })).toThrow(/SLUICE_AWS_HTTP_VERSION/);
    expect(() => readAwsSettings({ SLUICE_S3_FORCE_PATH_STYLE: 'yes' })).toThrow(AwsConfigError);
    expect(() => readAwsSettings({ SLUICE_AWS_REQUEST_TIMEOUT_MS: '-1' })).toThrow(
      /SLUICE_AWS_REQUEST_TIMEOUT_MS/,
    );
  });

  it('names endpoint variables after the SDK service id', () => {
    expect(endpointVariable(AwsService.secretsManager)).toBe('AWS_ENDPOINT_URL_SECRETS_MANAGER');
    expect(endpointVariable(AwsService.cloudWatchLogs)).toBe('AWS_ENDPOINT_URL_CLOUDWATCH_LOGS');
    expect(endpointVariable(AwsService.dynamodb)).toBe('AWS_ENDPOINT_URL_DYNAMODB');
  });
});

describe('clientConfig', () => {
  it('chooses the HTTP handler from configuration', () => {
    const http1 = clientConfig(AwsService.kinesis, readAwsSettings({}));
    const http2 = clientConfig(AwsService.kinesis, readAwsSettings({ SLUICE_AWS_HTTP_VERSION: '2' }));
    expect(http1.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(http2.requestHandler).toBeInstanceOf(NodeHttp2Handler);
  });

  it('adds forcePathStyle to S3 clients only', () => {
    const settings = readAwsSettings({ AWS_ENDPOINT_URL: 'http://x:1', AWS_REGION: 'us-west-2' });
    expect(clientConfig(AwsService.s3, settings)).toMatchObject({
      region: 'us-west-2',
      forcePathStyle: true,
    });
    expect(clientConfig(AwsService.glue, settings)).not.toHaveProperty('forcePathStyle');
  });
});

describe('awsBackendOptionsFromEnv', () => {
  it('reads the backend names from SLUICE_* variables', () => {
    expect(
      awsBackendOptionsFromEnv({
        SLUICE_BUCKET: 'lake',
        SLUICE_TABLE: 'state',
        SLUICE_GLUE_DATABASE: 'sluice',
        SLUICE_ATHENA_WORKGROUP: 'sluice',
        SLUICE_LAKE_PREFIX: 'data/',
      }),
    ).toEqual({
      bucket: 'lake',
      table: 'state',
      glueDatabase: 'sluice',
      athenaWorkgroup: 'sluice',
      prefix: 'data/',
    });
  });

  it('names the missing variable', () => {
    expect(() => awsBackendOptionsFromEnv({ SLUICE_BUCKET: 'lake' })).toThrow(/SLUICE_TABLE is not set/);
  });
});

describe('clients built from the environment', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  it('send each service to its AWS_ENDPOINT_URL_<SERVICE>, others to AWS_ENDPOINT_URL, S3 path-style', async () => {
    // Prepare
    const bucket = uniqueName('sluice-config');
    const tableName = uniqueName('sluice-config');
    await createBucket(bucket);
    await createStateTable({ tableName });
    const proxy = await startFaultProxy(endpoint());
    process.env.AWS_ENDPOINT_URL_S3 = proxy.url;

    try {
      // Act: adapters with default clients, configured only by the environment
      const objects = new S3ObjectStore({ bucket });
      const state = new DynamoDbStateStore({ tableName });
      await objects.put('probe/key.json', new TextEncoder().encode('{}'));
      await state.getCursor('probe', 'stream');

      // Assess
      expect(proxy.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toContain(
        `PUT /${bucket}/probe/key.json`,
      );
      expect(proxy.requests.some((r) => r.target?.startsWith('DynamoDB'))).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});
