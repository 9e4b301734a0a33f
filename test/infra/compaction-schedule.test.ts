/**
 * Template assertions for the compaction job in the service stack: its
 * schedule and settings (defaults and props), least-privilege grants (Glue
 * partition actions, no partition creation or deletion, nothing on other
 * databases), and its P3 alarm to the topic. Bundling is skipped.
 */
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { compactionDefaults } from '../../infra/constructs/compaction-schedule.js';
import { SluiceServiceStack } from '../../infra/stacks/service-stack.js';

function template(compaction?: ConstructorParameters<typeof SluiceServiceStack>[2]['compaction']): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(
    new SluiceServiceStack(app, 'Service', { stageName: 'test', ...(compaction ? { compaction } : {}) }),
  );
}

/** The compaction function's logical id. */
function compactionFunction(t: Template): string {
  const found = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([, r]) =>
    JSON.stringify(r).includes('SLUICE_COMPACTION_TARGET_BYTES'),
  );
  expect(found).toHaveLength(1);
  return found[0]![0];
}

describe('compaction schedule', () => {
  let defaults: Template;
  beforeAll(() => {
    defaults = template();
  });

  it('runs the compaction daily with 128 MiB files and a one-hour grace period by default', () => {
    const id = compactionFunction(defaults);
    defaults.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
      ],
    });
    defaults.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          SLUICE_COMPACTION_TARGET_BYTES: String(128 * 1024 * 1024),
          SLUICE_COMPACTION_GRACE_MINUTES: '60',
          SLUICE_BUCKET: Match.anyValue(),
          POWERTOOLS_SERVICE_NAME: 'sluice-compaction',
        }),
      },
    });
  });

  it('takes its rate, target size and grace period from props', () => {
    const custom = template({
      rate: Duration.hours(6),
      targetFileBytes: 64 * 1024 * 1024,
      gracePeriod: Duration.hours(2),
    });
    custom.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SLUICE_COMPACTION_TARGET_BYTES: String(64 * 1024 * 1024),
          SLUICE_COMPACTION_GRACE_MINUTES: '120',
        }),
      },
    });
  });

  it('refuses settings that would break readers or thrash, naming them', () => {
    expect(() => compactionDefaults({ rate: Duration.minutes(5) })).toThrow(
      'compaction rate must be at least 1 hour',
    );
    expect(() => compactionDefaults({ targetFileBytes: 1000 })).toThrow(
      'targetFileBytes must be a whole number',
    );
    expect(() => compactionDefaults({ gracePeriod: Duration.seconds(10) })).toThrow(
      'gracePeriod must be at least',
    );
  });

  it('lets the function switch Glue partitions of its database only, and never create or delete them', () => {
    const id = compactionFunction(defaults);
    const role = (defaults.findResources('AWS::Lambda::Function')[id] as { Properties: { Role: unknown } })
      .Properties.Role as { 'Fn::GetAtt': [string, string] };
    const policies = Object.values(defaults.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(
        role['Fn::GetAtt'][0],
      ),
    );
    const statements = policies.flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])) as string[];
    expect(actions).toEqual(expect.arrayContaining(['glue:GetPartitions', 'glue:UpdatePartition']));
    expect(actions.filter((a) => a.startsWith('glue:'))).not.toEqual(
      expect.arrayContaining(['glue:CreatePartition']),
    );
    for (const forbidden of [
      'glue:DeletePartition',
      'glue:BatchDeletePartition',
      'glue:DeleteTable',
      'glue:*',
      's3:*',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
    const glue = statements.find((s) => JSON.stringify(s.Action).includes('glue:UpdatePartition'));
    expect(JSON.stringify(glue?.Resource)).toContain(':database/sluice_test');
    expect(JSON.stringify(glue?.Resource)).not.toContain('"*"');
  });

  it('gives the push consumer the partition calls of landing (register a day, find its version)', () => {
    defaults.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['glue:GetPartition', 'glue:CreatePartition'] }),
        ]),
      },
    });
  });

  it('alarms at P3 to the topic when a run fails', () => {
    defaults.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'sluice-test-P3-compaction-failed',
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [Match.anyValue()],
      AlarmDescription: Match.stringLikeRegexp('Runbook: docs/operations.md#compaction-failed'),
    });
  });
});
