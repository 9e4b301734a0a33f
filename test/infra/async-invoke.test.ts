/**
 * EventBridge invokes its Lambda targets asynchronously. The rule's retry
 * policy covers only delivery; a run that fails is retried by Lambda itself
 * (twice, by default) unless the function's asynchronous invoke config says
 * otherwise. The scheduled functions (maintenance, compaction, monitor) run
 * again on their next schedule instead. Bundling is skipped.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SluiceServiceStack } from '../../infra/stacks/service-stack.js';

describe('asynchronous invocations', () => {
  let template: Template;
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    template = Template.fromStack(new SluiceServiceStack(app, 'Service', { stageName: 'test' }));
  });

  /** Logical ids of the functions EventBridge rules invoke. */
  const ruleTargets = () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as {
      Properties: { Targets: { Arn: { 'Fn::GetAtt'?: [string, string] } }[] };
    }[];
    const functions = template.findResources('AWS::Lambda::Function');
    return [
      ...new Set(
        rules
          .flatMap((r) => r.Properties.Targets)
          .map((t) => t.Arn['Fn::GetAtt']?.[0])
          .filter((id): id is string => id !== undefined && id in functions),
      ),
    ];
  };

  it('lets Lambda retry no failed run of a function an EventBridge rule invokes', () => {
    const targets = ruleTargets();
    const descriptions = targets.map(
      (id) =>
        (template.findResources('AWS::Lambda::Function')[id] as { Properties: { Description: string } })
          .Properties.Description,
    );
    expect(descriptions.map((d) => d.split(':')[0]).sort()).toEqual([
      'Sluice compaction',
      'Sluice monitor',
      'Sluice stages (catalog, quality, merge, models) and maintenance, through Athena',
    ]);
    for (const id of targets) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: id },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
      });
    }
  });

  it('configures asynchronous invocation of those functions only', () => {
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', ruleTargets().length);
  });
});
