/**
 * A source's `sla`, e.g. `{"freshness": "PT2H"}`: an ISO-8601 duration
 * (`PnDTnHnM`, days/hours/minutes) after which data counts as stale. Stored
 * as `slaMinutes`, the form the freshness alarm uses.
 */
// @ts-nocheck

import { ValidationError } from './errors.js';

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/;

export function slaMinutesOf(sla: unknown): number {
  if (typeof sla !== 'object' || sla === null || Array.isArray(sla)) {
    throw new ValidationError('"sla" must be an object such as {"freshness": "PT2H"}', { field: 'sla' });
  }
  for (const key of Object.keys(sla)) {
    if (key !== 'freshness') {
      throw new ValidationError(`"sla.${key}" is not an SLA field (known: freshness)`, {
        field: `sla.${key}`,
      });
    }
  }
  const freshness = (sla as { freshness?: unknown }).freshness;
  const match = typeof freshness === 'string' ? DURATION.exec(freshness) : null;
  const minutes = match
    ? Number(match[1] ?? 0) * 1440 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
    : 0;
  if (!match || minutes <= 0) {
    throw new ValidationError(
      '"sla.freshness" must be a positive ISO-8601 duration in days, hours or minutes, e.g. "PT2H", "P1D", "PT30M"',
      { field: 'sla.freshness' },
    );
  }
  return minutes;
}
