/**
 * The sync state machine's definition as CDK renders it (SyncOrchestration
 * with the declared stages), with the given function ARNs, for the ASL
 * interpreter (asl.ts).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { STAGES, type StageDeclaration } from '../../engine/stages/declarations.js';
import { SyncOrchestration } from '../../infra/constructs/sync-orchestration.js';
import type { StateMachineDefinition } from './asl.js';

export const SYNC_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-sync';
export const STAGES_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-stages';

export function renderSyncDefinition(
  syncArn: string = SYNC_ARN,
  stagesArn: string = STAGES_ARN,
  stages: readonly StageDeclaration[] = STAGES,
): StateMachineDefinition {
  const stack = new Stack(new App(), 'Orchestration');
  new SyncOrchestration(stack, 'Sync', {
    syncFunction: lambda.Function.fromFunctionArn(stack, 'SyncFn', syncArn),
    stagesFunction: lambda.Function.fromFunctionArn(stack, 'StagesFn', stagesArn),
    stages,
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
