/**
 * The local scheduler of `sluice serve`: the same `rate(…)` and `cron(…)`
 * expressions EventBridge Scheduler reads, evaluated in-process in the
 * schedule's time zone; a due schedule calls `onDue(source)`. Disabled
 * schedules (paused sources) are kept and never fire.
 *
 * Cron fields: minutes hours day-of-month month day-of-week year, with `*`,
 * `?`, lists, ranges, steps and month/day names. EventBridge's `L`, `W` and
 * `#` are not supported locally (an error says so).
 */
// @ts-nocheck

import { ValidationError } from '../../engine/errors.js';

export interface LocalScheduleSpec {
  readonly expression: string;
  readonly timezone: string;
  readonly enabled: boolean;
}

interface Entry {
  readonly spec: LocalScheduleSpec;
  readonly due: (now: Date, last: Date) => boolean;
  last: Date;
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The set of values one cron field allows; undefined for `*` and `?`. */
function cronField(
  text: string,
  min: number,
  max: number,
  names: readonly string[] = [],
  offset = 0,
): Set<number> | undefined {
  if (text === '*' || text === '?') return undefined;
  const value = (part: string): number => {
    const named = names.indexOf(part.toUpperCase());
    const n = named >= 0 ? named + offset : Number(part);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`"${part}" is out of range ${min}-${max}`);
    return n;
  };
  const out = new Set<number>();
  for (const item of text.split(',')) {
    if (/[LW#]/.test(item)) throw new Error(`"${item}": L, W and # are not supported by the local scheduler`);
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`"${item}" has a bad step`);
    const [from, to] =
      range === '*'
        ? [min, max]
        : range.includes('-')
          ? range.split('-').map(value)
          : [value(range), stepText ? max : value(range)];
    for (let n = from!; n <= to!; n += step) out.add(n);
  }
  return out;
}

/** Wall-clock fields of `date` in `zone`. */
function fieldsIn(
  date: Date,
  zone: string,
): { minute: number; hour: number; day: number; month: number; weekday: number; year: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      minute: 'numeric',
      hour: 'numeric',
      day: 'numeric',
      month: 'numeric',
      year: 'numeric',
      weekday: 'short',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return {
    minute: Number(parts.minute),
    hour: Number(parts.hour),
    day: Number(parts.day),
    month: Number(parts.month),
    weekday: DAYS.indexOf(String(parts.weekday).toUpperCase()),
    year: Number(parts.year),
  };
}

/** A predicate "is this expression due at `now`, last fired at `last`", or a ValidationError on `schedule`. */
export function parseSchedule(spec: LocalScheduleSpec): (now: Date, last: Date) => boolean {
  const rate = RATE.exec(spec.expression);
  if (rate) {
    const every = Number(rate[1]) * UNIT_MS[rate[2]!.replace(/s$/, '')]!;
    if (every <= 0) throw new ValidationError('"schedule" rate must be at least 1', { field: 'schedule' });
    return (now, last) => now.getTime() - last.getTime() >= every;
  }
  const cron = /^cron\((.+)\)$/.exec(spec.expression);
  const fields = cron?.[1]?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6) {
    throw new ValidationError('"schedule" must be rate(N unit) or cron(min hour day month weekday year)', {
      field: 'schedule',
    });
  }
  try {
    const [minute, hour, day, month, weekday, year] = [
      cronField(fields[0]!, 0, 59),
      cronField(fields[1]!, 0, 23),
      cronField(fields[2]!, 1, 31),
      cronField(fields[3]!, 1, 12, MONTHS, 1),
      // EventBridge numbers days 1 (SUN) to 7 (SAT).
      cronField(fields[4]!, 1, 7, DAYS, 1),
      cronField(fields[5]!, 1970, 2199),
    ];
    const ok = (set: Set<number> | undefined, n: number) => set === undefined || set.has(n);
    return (now, last) => {
      const f = fieldsIn(now, spec.timezone);
      const sameMinute = Math.floor(now.getTime() / 60_000) === Math.floor(last.getTime() / 60_000);
      return (
        !sameMinute &&
        ok(minute, f.minute) &&
        ok(hour, f.hour) &&
        ok(day, f.day) &&
        ok(month, f.month) &&
        ok(weekday, f.weekday + 1) &&
        ok(year, f.year)
      );
    };
  } catch (error) {
    throw new ValidationError(`"schedule" ${spec.expression}: ${(error as Error).message}`, {
      field: 'schedule',
      cause: error,
    });
  }
}

export interface LocalSchedulerOptions {
  /** Called when a source's schedule is due. Errors are the callee's to handle. */
  readonly onDue: (source: string) => void;
  /** @default 1000 */
  readonly tickMs?: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

export class LocalScheduler {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => Date;

  public constructor(private readonly options: LocalSchedulerOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  public async put(source: string, spec: LocalScheduleSpec): Promise<void> {
    this.entries.set(source, { spec, due: parseSchedule(spec), last: this.clock() });
  }

  public async delete(source: string): Promise<void> {
    this.entries.delete(source);
  }

  /** The schedule of a source, if any. */
  public get(source: string): LocalScheduleSpec | undefined {
    return this.entries.get(source)?.spec;
  }

  /** Fires every enabled schedule due now. */
  public tick(): string[] {
    const now = this.clock();
    const fired: string[] = [];
    for (const [source, entry] of this.entries) {
      if (!entry.spec.enabled || !entry.due(now, entry.last)) continue;
      entry.last = now;
      fired.push(source);
      this.options.onDue(source);
    }
    return fired;
  }

  public start(): void {
    this.timer ??= setInterval(() => this.tick(), this.options.tickMs ?? 1000);
  }

  public stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
