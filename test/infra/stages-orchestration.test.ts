/**
 * The stage list as the service stack renders it: one Task state per
 * declared stage (engine/stages/declarations.ts STAGES), in order, its Retry
 * from the declaration, one catch path; the maintenance schedule; the
 * stages function's Athena access.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FATAL_STAGE_ERRORS, STAGES } from '../../engine/stages/declarations.js';
import { SluiceServiceStack } from '../../infra/stacks/service-stack.js';

interface TaskState {
  readonly Type: string;
  readonly Next?: string;
  readonly Comment?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly Retry?: readonly Record<string, unknown>[];
  readonly Catch?: readonly { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
}

/** The definition with the function ARNs (tokens) left as placeholders. */
function definitionOf(template: Template): { StartAt: string; States: Record<string, TaskState> } {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const body = (machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString;
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'ARN')).join(''));
}

describe('the stages in the sync state machine', () => {
  let template: Template;
  let states: Record<string, TaskState>;
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    template = Template.fromStack(new SluiceServiceStack(app, 'Service', { stageName: 'test' }));
    states = definitionOf(template).States;
  });

  it('renders one Task state per declared stage, in the declared order, after Finish', () => {
    // Act
    const order: string[] = [];
    for (let name = states.Finish?.Next; name !== undefined && name !== 'Done'; name = states[name]?.Next) {
      order.push(name);
    }

    // Assess
    expect(order).toEqual(STAGES.map((s) => `Stage ${s.name}`));
    for (const stage of STAGES) {
      const state = states[`Stage ${stage.name}`]!;
      expect(state.Type).toBe('Task');
      expect(state.Comment).toBe(stage.description);
      expect(state.Parameters).toEqual({
        stage: stage.name,
        'source.$': '$.source',
        'runId.$': '$.run.runId',
        'retryCount.$': '$$.State.RetryCount',
      });
    }
  });

  it('takes each stage’s Retry from its declaration, after a retrier that stops fatal errors at once', () => {
    for (const stage of STAGES) {
      // Act
      const retry = states[`Stage ${stage.name}`]?.Retry;

      // Assess
      expect(retry).toEqual([
        { ErrorEquals: [...FATAL_STAGE_ERRORS], MaxAttempts: 0 },
        {
          ErrorEquals: ['States.ALL'],
          IntervalSeconds: stage.retry.intervalMs / 1000,
          MaxAttempts: stage.retry.maxAttempts - 1,
          BackoffRate: stage.retry.backoffRate,
          MaxDelaySeconds: stage.retry.maxDelayMs / 1000,
        },
      ]);
    }
  });

  it('sends every stage’s failure down one catch path that records it and fails the execution', () => {
    // Act
    const catches = STAGES.map((s) => states[`Stage ${s.name}`]?.Catch);
    const record = states.RecordStageFailure;

    // Assess
    for (const c of catches) {
      expect(c).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordStageFailure' }]);
    }
    expect(record?.Parameters).toEqual({
      action: 'fail',
      'source.$': '$.source',
      'runId.$': '$.run.runId',
      'error.$': '$.error',
    });
    expect(record?.Next).toBe('StagesFailed');
    expect(states.StagesFailed?.Type).toBe('Fail');
  });

  it('runs maintenance on a schedule through the stages function', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 3 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StagesFunction'), 'Arn'] },
          Input: JSON.stringify({ action: 'maintain' }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StagesFunction'), 'Arn'] },
    });
  });

  it('lets the stages function query Athena in the stage’s workgroup only', () => {
    // Act
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p).includes('athena:StartQueryExecution'))
      .map((p) => JSON.stringify(p));

    // Assess
    expect(policies).toHaveLength(1);
    expect(policies[0]).toContain('StagesFunction');
    expect(policies[0]).toContain(':workgroup/sluice-test');
    expect(policies[0]).not.toContain('"athena:*"');
  });
});
