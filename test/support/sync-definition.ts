/**
 * The sync state machine's definition exactly as CDK renders it
 * (infra/constructs/sync-orchestration.ts), for the ASL interpreter
 * (test/support/asl.ts), with the sync and stages functions at fixed ARNs.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SYNC_STAGES } from '../../engine/stages.js';
import { SyncOrchestration } from '../../infra/constructs/sync-orchestration.js';
import type { StateMachineDefinition } from './asl.js';

export const SYNC_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-sync';
export const STAGES_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-stages';

export function renderSyncDefinition(): StateMachineDefinition {
  const stack = new Stack(new App(), 'Orchestration');
  new SyncOrchestration(stack, 'Sync', {
    syncFunction: lambda.Function.fromFunctionArn(stack, 'SyncFn', SYNC_ARN),
    stagesFunction: lambda.Function.fromFunctionArn(stack, 'StagesFn', STAGES_ARN),
    stages: SYNC_STAGES,
    scheduleGroupName: 'sluice-test',
  });
  const [machine] = Object.values(
    Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
  );
  const body = (machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString;
  const text =
    typeof body === 'string'
      ? body
      : (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
          .map((part) => {
            if (typeof part !== 'string') throw new Error(`unresolved part ${JSON.stringify(part)}`);
            return part;
          })
          .join('');
  return JSON.parse(text) as StateMachineDefinition;
}
