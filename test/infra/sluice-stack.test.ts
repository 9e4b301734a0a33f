import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SluiceStack } from '../../infra/stacks/sluice-stack.js';

function template(props = {}): Template {
  return Template.fromStack(new SluiceStack(new App(), 'Test', props));
}

describe('SluiceStack', () => {
  it('creates an encrypted, versioned, private lake bucket', () => {
    template().hasResourceProperties('AWS::S3::Bucket', {
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
    });
  });

  it('denies requests without TLS', () => {
    template().hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('expires abandoned staging files as a backstop to roll-back', () => {
    template().hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-abandoned-staging', Prefix: '_staging/', ExpirationInDays: 7 }),
        ]),
      },
    });
  });

  it('retains the lake on stack deletion unless told otherwise', () => {
    expect(JSON.stringify(template().findResources('AWS::S3::Bucket'))).toContain(
      '"DeletionPolicy":"Retain"',
    );
    expect(JSON.stringify(template({ retainData: false }).findResources('AWS::S3::Bucket'))).toContain(
      '"DeletionPolicy":"Delete"',
    );
  });
});
