/**
 * The stream consumer construct alone (infra/constructs/stream-consumer.ts):
 * one batch per shard at a time, because the lander keeps one high-water
 * mark per shard. Bundling is skipped.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { StreamConsumer, type StreamConsumerProps } from '../../infra/constructs/stream-consumer.js';

function consumerStack(props: Partial<StreamConsumerProps> = {}): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Consumer');
  new StreamConsumer(stack, 'Consumer', {
    stream: new kinesis.Stream(stack, 'Stream'),
    deadLetters: new sqs.Queue(stack, 'Dlq'),
    environment: {},
    ...props,
  });
  return stack;
}

describe('StreamConsumer', () => {
  it('maps one batch per shard at a time when no parallelization factor is given', () => {
    // Act
    const template = Template.fromStack(consumerStack());

    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ParallelizationFactor: 1 });
  });

  it('refuses a parallelization factor above 1, which would drop records as duplicates', () => {
    // Act
    const build = () => consumerStack({ parallelizationFactor: 2 as never });

    // Assess
    expect(build).toThrow(/parallelizationFactor must be 1 \(got 2\).*high-water mark per shard/);
  });
});
