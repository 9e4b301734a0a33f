// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { registry } from '../../../connectors/index.js';
import { slaMinutesOf } from '../../../engine/sla.js';
import { parseSourceInput } from '../../../engine/sources.js';

describe('a source sla', () => {
  it('reads ISO-8601 durations in days, hours and minutes', () => {
    expect(slaMinutesOf({ freshness: 'PT2H' })).toBe(120);
    expect(slaMinutesOf({ freshness: 'P1DT30M' })).toBe(1470);
    expect(slaMinutesOf({ freshness: 'PT45M' })).toBe(45);
  });

  it('refuses what is not one, naming the field', () => {
    expect(() => slaMinutesOf({ freshness: 'PT0M' })).toThrow('"sla.freshness"');
    expect(() => slaMinutesOf({ freshness: 'PT2S' })).toThrow('"sla.freshness"');
    expect(() => slaMinutesOf({ volume: 1 })).toThrow('"sla.volume"');
    expect(() => slaMinutesOf('PT2H')).toThrow('"sla" must be an object');
  });

  it('is stored as slaMinutes, and cannot be given with it', () => {
    const base = { name: 'hooks', type: 'push', config: { streams: [{ name: 'e' }] } };
    expect(parseSourceInput({ ...base, sla: { freshness: 'PT2H' } }, registry).slaMinutes).toBe(120);
    expect(() => parseSourceInput({ ...base, sla: { freshness: 'PT2H' }, slaMinutes: 5 }, registry)).toThrow(
      'not both',
    );
  });
});
