import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../engine/errors.js';
import { parseStagesEvent } from '../../../../functions/stages/index.js';

describe('parseStagesEvent', () => {
  it('reads a stage attempt as the state machine sends it', () => {
    // Act
    const event = parseStagesEvent({ stage: 'merge', source: 'shop', runId: 'r1', retryCount: 2 });

    // Assess
    expect(event).toEqual({ action: 'stage', stage: 'merge', source: 'shop', runId: 'r1', retryCount: 2 });
  });

  it('refuses a stage the list does not declare, naming the known ones', () => {
    // Act
    const parse = () => parseStagesEvent({ stage: 'dedupe', source: 'shop', runId: 'r1' });

    // Assess
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow('"stage" "dedupe" is not a stage (known: catalog, quality, merge, models)');
  });

  it('names the missing field and a bad retry count', () => {
    expect(() => parseStagesEvent({ stage: 'merge', runId: 'r1' })).toThrow(
      'the stages event needs "source" (a string)',
    );
    expect(() => parseStagesEvent({ stage: 'merge', source: 's', runId: 'r1', retryCount: -1 })).toThrow(
      '"retryCount" must be a whole number ≥ 0',
    );
  });

  it('reads the catch path and the maintenance event, and refuses an unknown action', () => {
    expect(
      parseStagesEvent({ action: 'fail', source: 's', runId: 'r', error: { Error: 'X', Cause: 'y' } }),
    ).toEqual({ action: 'fail', source: 's', runId: 'r', error: { Error: 'X', Cause: 'y' } });
    expect(parseStagesEvent({ action: 'maintain' })).toEqual({ action: 'maintain' });
    expect(() => parseStagesEvent({ action: 'maintain', sources: 'shop' })).toThrow(
      '"sources" must be an array of source names',
    );
    expect(() => parseStagesEvent({ action: 'compact' })).toThrow(
      '"action" must be one of stage, fail, maintain',
    );
  });
});
