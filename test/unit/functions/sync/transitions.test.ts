import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newRunId } from '../../../../engine/layout.js';
import {
  invocationTransitions,
  startedWithoutRunId,
  startTransitions,
} from '../../../../functions/sync/transitions.js';

describe('the sync state machine’s transitions', () => {
  it('tells a run id the API issued from an execution name a schedule got', () => {
    // Act + Assess
    expect(startedWithoutRunId(newRunId(new Date()))).toBe(false);
    expect(startedWithoutRunId(randomUUID())).toBe(true);
    expect(startTransitions(newRunId(new Date()))).toBe(1);
    expect(startTransitions(randomUUID())).toBe(2);
  });

  it('counts an invocation’s Task attempt, and the states up to the next Task when it returned', () => {
    // Act + Assess
    expect(invocationTransitions('slice', false, 1)).toBe(1);
    expect(invocationTransitions('begin', true, 1)).toBe(2);
    expect(invocationTransitions('slice', true, 1)).toBe(2);
    expect(invocationTransitions('finish', true, 3)).toBe(5);
    expect(invocationTransitions('fail', true, 3)).toBe(2);
  });
});
