/**
 * Template assertions for push ingestion and observability in the service
 * stack: the encrypted stream (on-demand or provisioned), the consumer's
 * event source mapping, the monitor and its schedule, every alarm with its
 * severity, to the SNS topic, and the dashboard. Bundling is skipped.
 */
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SluiceServiceStack } from '../../infra/stacks/service-stack.js';

function template(ingest?: ConstructorParameters<typeof SluiceServiceStack>[2]['ingest']): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(
    new SluiceServiceStack(app, 'Service', { stageName: 'test', ...(ingest ? { ingest } : {}) }),
  );
}

describe('push ingestion and observability', () => {
  let onDemand: Template;
  beforeAll(() => {
    onDemand = template();
  });

  it('creates a KMS-encrypted on-demand stream by default, provisioned shards when asked', () => {
    onDemand.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
    });
    const provisioned = template({ shards: 4 });
    provisioned.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 4,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
    expect(() => template({ shards: -1 })).toThrow('ingest shards must be a whole number');
  });

  it('maps the stream to the consumer with partial batch responses, bisect, bounded retries and a DLQ', () => {
    const custom = template({ batchSize: 200, batchingWindow: Duration.seconds(3) });
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 6 * 3600,
      BatchSize: 200,
      MaximumBatchingWindowInSeconds: 3,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }) } },
    });
    onDemand.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('gives the API the stream and the sources freshness alarms, and nothing wider', () => {
    onDemand.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SLUICE_INGEST_STREAM: Match.anyValue(),
          SLUICE_ALARM_PREFIX: 'sluice-test-',
          SLUICE_ALARM_TOPIC_ARN: Match.anyValue(),
        }),
      },
    });
    onDemand.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
            Resource: {
              'Fn::Join': ['', Match.arrayWith([':alarm:sluice-test-P2-freshness-*'])],
            },
          }),
        ]),
      },
    });
  });

  it("lets the push consumer read the sources' pii salts under the stage's secret prefix, and change no secret", () => {
    // Prepare
    const functions = Object.values(onDemand.findResources('AWS::Lambda::Function')) as {
      Properties: { Description: string; Role: { 'Fn::GetAtt': [string, string] } };
    }[];
    const consumer = functions.filter((f) => f.Properties.Description.startsWith('Sluice push consumer'));
    const policies = Object.values(onDemand.findResources('AWS::IAM::Policy')) as {
      Properties: {
        Roles: unknown[];
        PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
      };
    }[];

    // Act
    expect(consumer).toHaveLength(1);
    const role = consumer[0]!.Properties.Role['Fn::GetAtt'][0];
    const secrets = policies
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:'));

    // Assess: the salt is read when a source masks fields (engine/push.ts pushSalt).
    expect(secrets.flatMap((s) => [s.Action].flat()).sort()).toEqual(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(secrets.map((s) => s.Resource))).toContain(':secret:sluice/test/*');
  });

  it('runs the monitor on a schedule', () => {
    onDemand.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    onDemand.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SLUICE_STUCK_AFTER_MINUTES: '10' }) },
    });
  });

  it('alarms on every failure it promises, severity in the name, all to the topic', () => {
    const alarms = onDemand.findResources('AWS::CloudWatch::Alarm');
    const names = Object.values(alarms)
      .map((a) => (a as { Properties: { AlarmName?: string } }).Properties.AlarmName)
      .filter((n): n is string => n !== undefined)
      .sort();
    expect(names).toEqual(
      [
        'P1-roll-forward-failed',
        'P1-monitor-errors',
        'P2-failed-runs',
        'P3-quality-failures',
        'P2-dlq-not-empty',
        'P2-iterator-age',
        'P2-executions-failed',
        'P2-executions-timed-out',
        'P1-api-errors',
        'P3-api-throttles',
        'P2-sync-errors',
        'P3-sync-throttles',
        'P2-stages-errors',
        'P3-stages-throttles',
        'P2-stream-errors',
        'P3-stream-throttles',
        'P3-compaction-failed',
      ]
        .map((n) => `sluice-test-${n}`)
        .sort(),
    );
    for (const alarm of Object.values(alarms)) {
      const props = (alarm as { Properties: { AlarmName?: string; AlarmActions?: unknown[] } }).Properties;
      if (props.AlarmName?.startsWith('sluice-test-')) expect(props.AlarmActions).toHaveLength(1);
    }
    onDemand.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'sluice-test-P2-dlq-not-empty',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    onDemand.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'sluice-test-P2-iterator-age',
      MetricName: 'IteratorAge',
      Threshold: 15 * 60 * 1000,
    });
  });

  it('draws the pipeline dashboard', () => {
    onDemand.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const dashboards = onDemand.findResources('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(Object.values(dashboards)[0]);
    for (const title of [
      'Runs and failures',
      'Rows and bytes landed',
      'Freshness per source',
      'Push lag and dead letters',
      'Lambda duration',
      'Lambda errors and throttles',
    ]) {
      expect(body).toContain(title);
    }
  });
});
