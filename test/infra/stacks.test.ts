/**
 * Template assertions per stack (no snapshots). Bundling is skipped
 * (`aws:cdk:bundling-stacks: []`): the bundle test builds the handlers.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { StateTableSchema } from '../../adapters/aws/dynamodb-state-store.js';
import { SluiceFunction } from '../../infra/constructs/sluice-function.js';
import { SluiceDataStack } from '../../infra/stacks/data-stack.js';
import { SluiceServiceStack } from '../../infra/stacks/service-stack.js';

function app(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

/** The environment of the Lambda function in `template` whose description starts with `description`. */
function environmentOf(template: Template, description: string): Record<string, unknown> {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
    Properties: { Description: string; Environment: { Variables: Record<string, unknown> } };
  }[];
  return functions.find((f) => f.Properties.Description.startsWith(description))!.Properties.Environment
    .Variables;
}

describe('SluiceDataStack', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(new SluiceDataStack(app(), 'Data', { stageName: 'test' }));
  });

  it('creates the lake bucket encrypted, versioned, private, logged', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'lake/' }),
    });
  });

  it('denies requests without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('never expires a current staged file, and drops the copies moves leave behind after a day', () => {
    const buckets = template.findResources('AWS::S3::Bucket', {
      Properties: { VersioningConfiguration: {} },
    });
    const rules = Object.values(buckets).flatMap(
      (b) =>
        (b as { Properties: { LifecycleConfiguration: { Rules: Record<string, unknown>[] } } }).Properties
          .LifecycleConfiguration.Rules,
    );
    const staging = rules.filter((r) => r.Prefix === '_staging/');
    expect(staging).toHaveLength(1);
    expect(staging[0]).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      ExpiredObjectDeleteMarker: true,
    });
    for (const rule of rules) {
      if (rule.ExpirationInDays !== undefined) expect(rule.Prefix, JSON.stringify(rule)).toBe('_athena/');
    }
  });

  it('creates the state table with the adapter keys, three GSIs (runs by source, by status, by id), TTL, PITR and SSE', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'sluice-test-state',
      KeySchema: [
        { AttributeName: StateTableSchema.partitionKey, KeyType: 'HASH' },
        { AttributeName: StateTableSchema.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [StateTableSchema.gsi1, StateTableSchema.gsi2, StateTableSchema.gsi3].map(
        (gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['data'] },
        }),
      ),
      TimeToLiveSpecification: { AttributeName: StateTableSchema.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('creates the Glue database and an Athena engine v3 workgroup that enforces encrypted results', () => {
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'sluice_test' } });
    template.resourceCountIs('AWS::Athena::WorkGroup', 1);
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'sluice-test',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } }),
      }),
    });
  });

  it('retains data on stack deletion unless told otherwise', () => {
    const kept = JSON.stringify(template.findResources('AWS::DynamoDB::Table'));
    expect(kept).toContain('"DeletionPolicy":"Retain"');
    const dropped = Template.fromStack(
      new SluiceDataStack(app(), 'Dropped', { stageName: 'test', retainData: false }),
    );
    expect(JSON.stringify(dropped.findResources('AWS::S3::Bucket'))).toContain('"DeletionPolicy":"Delete"');
  });
});

describe('SluiceServiceStack', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(
      new SluiceServiceStack(app(), 'Service', { stageName: 'test', alertEmail: 'data@example.com' }),
    );
  });

  it('runs every function (sync, stages, api, stream consumer, monitor, compaction) on nodejs22.x arm64 with tracing, wired to the stage', () => {
    template.resourceCountIs('AWS::Lambda::Function', 6);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1769,
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          SLUICE_TABLE: 'sluice-test-state',
          SLUICE_GLUE_DATABASE: 'sluice_test',
          SLUICE_ATHENA_WORKGROUP: 'sluice-test',
          SLUICE_SECRETS_PREFIX: 'sluice/test/',
        }),
      },
    });
  });

  it('encodes Parquet inline in the functions with one vCPU or less (sync, stages, push consumer, compaction), and sets nothing where no Parquet is written', () => {
    const placeOf = (description: string) => environmentOf(template, description).SLUICE_PARQUET_ENCODER;
    expect(placeOf('Sluice sync steps')).toBe('inline');
    expect(placeOf('Sluice stages')).toBe('inline');
    expect(placeOf('Sluice push consumer')).toBe('inline');
    expect(placeOf('Sluice compaction')).toBe('inline');
    expect(placeOf('Sluice HTTP API')).toBeUndefined();
    expect(placeOf('Sluice monitor')).toBeUndefined();
  });

  it("fixes glibc's mmap threshold at 1 MiB in the Parquet functions and nowhere else", () => {
    const thresholdOf = (description: string) => environmentOf(template, description).MALLOC_MMAP_THRESHOLD_;
    for (const parquet of ['Sluice sync steps', 'Sluice stages', 'Sluice push consumer', 'Sluice compaction'])
      expect(thresholdOf(parquet)).toBe('1048576');
    expect(thresholdOf('Sluice HTTP API')).toBeUndefined();
    expect(thresholdOf('Sluice monitor')).toBeUndefined();
  });

  it('leaves the encoder thread to a Parquet function given more than one vCPU of memory', () => {
    const stack = new Stack(app(), 'Big');
    new SluiceFunction(stack, 'Big', {
      entry: 'functions/sync/index.ts',
      description: 'big',
      serviceName: 'big',
      environment: {},
      parquet: true,
      memorySize: 3538,
    });
    const environment = environmentOf(Template.fromStack(stack), 'big');
    expect(environment.SLUICE_PARQUET_ENCODER).toBeUndefined();
    expect(environment.MALLOC_MMAP_THRESHOLD_).toBe('1048576');
  });

  it('gives the API the state machine, scheduler group and role it needs', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SLUICE_STATE_MACHINE_ARN: Match.anyValue(),
          SLUICE_SCHEDULER_GROUP: 'sluice-test',
          SLUICE_SCHEDULER_ROLE_ARN: Match.anyValue(),
        }),
      },
    });
  });

  it('serves an IAM-authorised HTTP API with access logs', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { AuthorizationType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('orchestrates begin → slices → finish → stages with retries, jitter and a catch path', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(
      (machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString,
    );
    for (const state of [
      'Begin',
      'Slice',
      'Drained?',
      'Finish',
      'Stage catalog',
      'Stage quality',
      'Stage merge',
      'Stage models',
      'RecordFailure',
      'RecordStageFailure',
      'AlreadyRunning',
    ]) {
      expect(definition).toContain(`\\"${state}\\"`);
    }
    expect(definition).toContain('\\"JitterStrategy\\":\\"FULL\\"');
    expect(definition).toContain('\\"TransientError\\"');
    expect(definition).toContain('\\"LeaseHeldError\\"');
    // The checkpoint reference goes from step to step; the execution's input (its streams) goes to begin.
    expect(definition).toContain('\\"checkpoint.$\\":\\"$.run.checkpoint\\"');
    expect(definition).toContain('\\"trigger.$\\":\\"$\\"');
  });

  it('creates the Scheduler group and a role only the scheduler can assume to start executions', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'sluice-test' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })],
      },
    });
  });

  it('limits the API to its own schedule group and secret prefix', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain(':schedule/sluice-test/*');
    expect(policies).toContain(':secret:sluice/test/*');
    expect(policies).not.toContain('"secretsmanager:*"');
  });

  it('alarms on failed executions once, severity-named and runbook-linked, to a topic that mails the alert address', () => {
    const failed = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'ExecutionsFailed' } }),
    ).map((a) => (a as { Properties: { AlarmName?: string; AlarmDescription?: string } }).Properties);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.AlarmName).toBe('sluice-test-P2-executions-failed');
    expect(failed[0]?.AlarmDescription).toContain('Runbook: docs/operations.md#executions-failed');
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'data@example.com',
    });
  });
});
