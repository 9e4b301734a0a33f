/**
 * Each function's Glue actions are the ones its code calls (the GlueCatalog
 * methods the engine uses on its path), on this stage's database only.
 * Bundling is skipped.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SluiceServiceStack } from '../../infra/stacks/service-stack.js';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

describe('Glue grants', () => {
  let template: Template;
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    template = Template.fromStack(new SluiceServiceStack(app, 'Service', { stageName: 'test' }));
  });

  /** The Glue statements of the role of the function whose description starts with `description`. */
  const glueOf = (description: string) => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Description: string; Role: { 'Fn::GetAtt': [string, string] } };
    }[];
    const found = functions.filter((f) => f.Properties.Description.startsWith(description));
    expect(found).toHaveLength(1);
    const role = found[0]!.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } };
    }[];
    const statements = policies
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const glue = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('glue:')));
    return {
      actions: [...new Set(glue.flatMap((s) => [s.Action].flat()))].sort(),
      resources: JSON.stringify(glue.map((s) => s.Resource)),
    };
  };

  it('lets the push consumer read, create and evolve tables and register partitions, and delete nothing', () => {
    // landPushBatch: getTable, ensurePartition (GetPartition, GetTable, CreatePartition), putTable; publishManifest: putTable.
    const { actions, resources } = glueOf('Sluice push consumer');
    expect(actions).toEqual(
      [
        'glue:CreatePartition',
        'glue:CreateTable',
        'glue:GetPartition',
        'glue:GetTable',
        'glue:UpdateTable',
      ].sort(),
    );
    expect(resources).toContain(':database/sluice_test');
  });

  it('lets the sync steps read, create and evolve the tables they commit to, and delete nothing', () => {
    // land-stream: getTable; commit (and recovery rolling a commit forward): putTable.
    const { actions, resources } = glueOf('Sluice sync steps');
    expect(actions).toEqual(['glue:CreateTable', 'glue:GetTable', 'glue:UpdateTable']);
    expect(resources).toContain(':database/sluice_test');
  });

  it('lets the API roll a commit forward on reset and list tables for lineage, and delete nothing', () => {
    // reset → recoverSource → publishManifest → putTable; GET /lineage → listTables (GetTables).
    const { actions, resources } = glueOf('Sluice HTTP API');
    expect(actions).toEqual(['glue:CreateTable', 'glue:GetTable', 'glue:GetTables', 'glue:UpdateTable']);
    expect(resources).toContain(':database/sluice_test');
  });

  it('lets the stages use Athena DDL on the database, which needs delete', () => {
    const { actions } = glueOf('Sluice stages');
    expect(actions).toEqual(
      expect.arrayContaining(['glue:DeleteTable', 'glue:GetDatabase', 'glue:CreateTable']),
    );
  });

  it('lets the monitor create and evolve the tables of the commits it rolls forward, and delete nothing', () => {
    // rollForwardStuck → publishManifest → putTable (GetTable, CreateTable, UpdateTable).
    const { actions, resources } = glueOf('Sluice monitor');
    expect(actions).toEqual(['glue:CreateTable', 'glue:GetTable', 'glue:UpdateTable']);
    expect(resources).toContain(':database/sluice_test');
  });
});
