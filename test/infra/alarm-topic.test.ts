/**
 * Template assertions for the alarm topic: its policy (which replaces SNS's
 * default access policy) must let CloudWatch publish for every alarm that
 * names the topic — the stack's own and the sources' freshness alarms the
 * API makes at run time — and nothing else's. Bundling is skipped.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchSourceAlarms } from '../../adapters/aws/cloudwatch-alarms.js';
import { SluiceServiceStack } from '../../infra/stacks/service-stack.js';

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
};

/** A CloudFormation string (literal, pseudo parameter Ref or Fn::Join of them) with the pseudo parameters filled in. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (node.Ref !== undefined && PSEUDO[node.Ref] !== undefined) return PSEUDO[node.Ref]!;
  if (node['Fn::Join']) return node['Fn::Join'][1].map(render).join(node['Fn::Join'][0]);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** IAM's ArnLike: `*` any run of characters, `?` one. */
function arnLike(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(arn);
}

interface Statement {
  readonly Effect: string;
  readonly Principal?: { Service?: string };
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

describe('alarm topic', () => {
  let template: Template;
  let topicId: string;
  let cloudwatch: Statement;
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    template = Template.fromStack(new SluiceServiceStack(app, 'Service', { stageName: 'test' }));
    const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(1);
    topicId = topics[0]!;
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as {
      Properties: { Topics: unknown[]; PolicyDocument: { Statement: Statement[] } };
    }[];
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties.Topics).toEqual([{ Ref: topicId }]);
    const allowed = policies[0]!.Properties.PolicyDocument.Statement.filter(
      (s) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(allowed, 'no statement of the topic policy allows cloudwatch.amazonaws.com').toHaveLength(1);
    cloudwatch = allowed[0]!;
  });

  /** The alarm ARNs the topic policy lets CloudWatch publish for. */
  const patterns = () => {
    const arns = cloudwatch.Condition?.ArnLike?.['aws:SourceArn'];
    return (Array.isArray(arns) ? arns : [arns]).map(render);
  };
  const alarmArn = (name: string) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`;

  it('lets CloudWatch publish to the topic when the alarm is in this account', () => {
    expect(cloudwatch.Action).toEqual('sns:Publish');
    expect(cloudwatch.Resource).toEqual({ Ref: topicId });
    expect(cloudwatch.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
  });

  it("lets every alarm of the stack publish, and every alarm's actions name that topic", () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { AlarmName: string; AlarmActions: unknown[]; OKActions: unknown[] };
    }[];
    expect(alarms.length).toBeGreaterThan(0);
    for (const { Properties: alarm } of alarms) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions, alarm.AlarmName).toEqual([{ Ref: topicId }]);
      expect(
        patterns().some((p) => arnLike(p, alarmArn(alarm.AlarmName))),
        alarm.AlarmName,
      ).toBe(true);
    }
  });

  it("lets the sources' freshness alarms the API makes publish, named as the API names them", () => {
    const api = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    }[];
    const variables = api.map((f) => f.Properties.Environment.Variables).find((v) => v.SLUICE_ALARM_PREFIX);
    expect(variables?.SLUICE_ALARM_TOPIC_ARN).toEqual({ Ref: topicId });
    const freshness = new CloudWatchSourceAlarms({
      client: undefined as never,
      namePrefix: String(variables?.SLUICE_ALARM_PREFIX),
      actions: [],
    }).alarmName('shop');
    expect(patterns().some((p) => arnLike(p, alarmArn(freshness)))).toBe(true);
  });

  it("does not let another stage's alarms publish", () => {
    for (const other of ['sluice-prod-P1-api-errors', 'sluice-test-2-P2-freshness-shop', 'other-P1-x']) {
      expect(
        patterns().some((p) => arnLike(p, alarmArn(other))),
        other,
      ).toBe(false);
    }
  });

  it('leaves the topic without a KMS key, which would need its own grant to CloudWatch', () => {
    const [topic] = Object.values(template.findResources('AWS::SNS::Topic')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(topic?.Properties.KmsMasterKeyId).toBeUndefined();
  });
});
