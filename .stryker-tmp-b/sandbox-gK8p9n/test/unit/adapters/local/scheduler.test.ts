// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { LocalScheduler, parseSchedule } from '../../../../adapters/local/scheduler.js';
import { ValidationError } from '../../../../engine/errors.js';

const at = (iso: string) => new Date(iso);

describe('parseSchedule', () => {
  it('fires a rate once its interval has passed since the last run', () => {
    const due = parseSchedule({ expression: 'rate(2 hours)', timezone: 'UTC', enabled: true });
    expect(due(at('2026-01-01T01:59:59Z'), at('2026-01-01T00:00:00Z'))).toBe(false);
    expect(due(at('2026-01-01T02:00:00Z'), at('2026-01-01T00:00:00Z'))).toBe(true);
  });

  it('reads cron fields in the schedule time zone', () => {
    // 06:00 in Berlin is 05:00 UTC in winter.
    const due = parseSchedule({ expression: 'cron(0 6 * * ? *)', timezone: 'Europe/Berlin', enabled: true });
    const last = at('2026-01-01T00:00:00Z');
    expect(due(at('2026-01-05T05:00:10Z'), last)).toBe(true);
    expect(due(at('2026-01-05T06:00:10Z'), last)).toBe(false);
  });

  it('matches weekday names, ranges and steps, and fires once per minute', () => {
    const due = parseSchedule({
      expression: 'cron(0/15 9-17 ? * MON-FRI *)',
      timezone: 'UTC',
      enabled: true,
    });
    const last = at('2026-01-01T00:00:00Z');
    expect(due(at('2026-01-05T09:30:00Z'), last)).toBe(true); // a Monday
    expect(due(at('2026-01-05T09:31:00Z'), last)).toBe(false);
    expect(due(at('2026-01-04T09:30:00Z'), last)).toBe(false); // a Sunday
    expect(due(at('2026-01-05T09:30:30Z'), at('2026-01-05T09:30:00Z'))).toBe(false);
  });

  it('rejects what it cannot read with a ValidationError on schedule', () => {
    for (const expression of ['cron(0 6 * *)', 'cron(0 6 L * ? *)', 'cron(61 * * * ? *)', 'every day']) {
      expect(() => parseSchedule({ expression, timezone: 'UTC', enabled: true }), expression).toThrow(
        ValidationError,
      );
    }
  });
});

describe('LocalScheduler', () => {
  it('fires due enabled schedules and never a disabled one', async () => {
    // Prepare
    let now = at('2026-01-01T00:00:00Z');
    const fired: string[] = [];
    const scheduler = new LocalScheduler({ onDue: (s) => fired.push(s), clock: () => now });
    await scheduler.put('hourly', { expression: 'rate(1 hour)', timezone: 'UTC', enabled: true });
    await scheduler.put('paused', { expression: 'rate(1 hour)', timezone: 'UTC', enabled: false });

    // Act
    now = at('2026-01-01T00:30:00Z');
    scheduler.tick();
    now = at('2026-01-01T01:00:00Z');
    scheduler.tick();
    scheduler.tick();
    await scheduler.delete('hourly');
    now = at('2026-01-01T03:00:00Z');
    scheduler.tick();

    // Assess
    expect(fired).toEqual(['hourly']);
  });
});
