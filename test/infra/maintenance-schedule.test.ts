import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { MaintenanceSchedule } from '../../infra/constructs/maintenance-schedule.js';

const STAGES_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-stages';

describe('MaintenanceSchedule', () => {
  it('invokes the stages function with a maintenance event for the given sources on the given schedule', () => {
    // Prepare
    const stack = new Stack(new App(), 'Maintenance');
    const fn = lambda.Function.fromFunctionArn(stack, 'Stages', STAGES_ARN);

    // Act
    new MaintenanceSchedule(stack, 'Schedule', {
      stagesFunction: fn,
      schedule: events.Schedule.rate(Duration.hours(6)),
      sources: ['shop'],
    });

    // Assess
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.ScheduleExpression).toBe('rate(6 hours)');
    expect(rules[0]?.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: STAGES_ARN,
        Input: JSON.stringify({ action: 'maintain', sources: ['shop'] }),
      }),
    ]);
  });
});
