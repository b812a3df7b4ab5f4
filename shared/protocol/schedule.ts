import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * Weekly windows in a site's own wall-clock time. All local-time questions go through luxon
 * (docs/architecture.md, invariant 8): never offsets computed by hand, so DST changes are the library's job.
 */
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Day = z.enum(DAYS, { error: `expected a day, one of ${DAYS.join(', ')}` });
export type Day = z.infer<typeof Day>;

const HHMM_PATTERN = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
export const TimeOfDay = z.string({ error: 'expected a time "HH:MM" (00:00 to 24:00)' }).regex(HHMM_PATTERN, {
  error: 'expected a time "HH:MM" (00:00 to 24:00)',
});

/** `from` to `to` on each listed day; `to` earlier than `from` means the window runs past midnight. */
export const WeeklyWindow = z
  .strictObject({
    days: z.array(Day).min(1, { error: 'expected at least one day' }),
    from: TimeOfDay,
    to: TimeOfDay,
  })
  .refine((w) => w.from !== w.to, { error: 'a window needs "from" and "to" to differ', path: ['to'] });
export type WeeklyWindow = z.infer<typeof WeeklyWindow>;

export const ALWAYS: readonly WeeklyWindow[] = [{ days: [...DAYS], from: '00:00', to: '24:00' }];

export const TimeZone = z
  .string({ error: 'expected an IANA time zone such as "Europe/Paris"' })
  .refine((tz) => IANAZone.isValidZone(tz), { error: 'expected an IANA time zone such as "Europe/Paris"' });

export const LocalDate = z.iso.date({ error: 'expected a date "YYYY-MM-DD"' });

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function local(epochMs: number, zone: string): DateTime {
  return DateTime.fromMillis(epochMs, { zone });
}

function dayName(weekday: number): Day {
  return DAYS[(weekday + 6) % 7] as Day;
}

/**
 * True when the instant falls inside one of the windows, in the zone's wall-clock time: the door
 * follows the clock on the wall. A wall time skipped by spring-forward is simply never shown; in
 * the hour repeated by fall-back, a boundary inside that hour is crossed twice.
 */
export function isWithin(windows: readonly WeeklyWindow[], epochMs: number, zone: string): boolean {
  const t = local(epochMs, zone);
  return withinAtWallClock(windows, t.weekday, t.hour * 60 + t.minute);
}

/** `isWithin` for a wall clock already read in the zone: ISO weekday (1 = Monday) and minute of the day. */
export function withinAtWallClock(windows: readonly WeeklyWindow[], weekday: number, m: number): boolean {
  const today = dayName(weekday);
  const yesterday = dayName(weekday === 1 ? 7 : weekday - 1);
  return windows.some((w) => {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    if (from < to) return w.days.includes(today) && m >= from && m < to;
    return (w.days.includes(today) && m >= from) || (w.days.includes(yesterday) && m < to);
  });
}

const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/**
 * True when the windows cover every minute of the week (a 24/7 plan), however they are cut:
 * `00:00-12:00` plus `12:00-24:00`, or a day window plus an overnight one, count too.
 */
export function coversWholeWeek(windows: readonly WeeklyWindow[]): boolean {
  const covered = new Uint8Array(MINUTES_PER_WEEK);
  for (const w of windows) {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    // Same reading as isWithin: `to` at or before `from` ends on the next day (Sunday night runs into Monday).
    const length = from < to ? to - from : MINUTES_PER_DAY - from + to;
    for (const d of w.days) {
      const start = DAYS.indexOf(d) * MINUTES_PER_DAY + from;
      for (let i = 0; i < length; i++) covered[(start + i) % MINUTES_PER_WEEK] = 1;
    }
  }
  return covered.every((c) => c === 1);
}

/** The site-local calendar day of an instant, `YYYY-MM-DD`. */
export function localDay(epochMs: number, zone: string): string {
  return local(epochMs, zone).toISODate() ?? '';
}

/** The Monday that starts the site-local ISO week of an instant, `YYYY-MM-DD`. */
export function localWeekStart(epochMs: number, zone: string): string {
  return local(epochMs, zone).startOf('week').toISODate() ?? '';
}

/** ISO 8601 with the zone's offset at that instant, e.g. `2026-03-29T03:00:00.000+02:00`. */
export function isoInZone(epochMs: number, zone: string): string {
  return local(epochMs, zone).toISO() ?? new Date(epochMs).toISOString();
}

/**
 * The next instant strictly after `epochMs` when the site's wall clock reads `hhmm`. On a day
 * when that wall time does not exist (spring forward), luxon moves it past the gap by the gap's
 * length (02:30 becomes 03:30). On a day when it happens twice (fall back), the first one still
 * ahead wins.
 */
export function nextLocalTime(epochMs: number, zone: string, hhmm: string): number {
  const minutes = minutesOf(hhmm);
  const base = local(epochMs, zone);
  for (let add = 0; add < 3; add++) {
    // Calendar arithmetic (plus days, set wall time), never a duration added to midnight.
    const day = base.plus({ days: add });
    const at =
      minutes === MINUTES_PER_DAY
        ? day.plus({ days: 1 }).startOf('day')
        : day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 });
    // luxon resolves a repeated wall time to its later occurrence; the earlier may be the next one.
    const next = at
      .getPossibleOffsets()
      .map((candidate) => candidate.toMillis())
      .sort((a, b) => a - b)
      .find((ms) => ms > epochMs);
    if (next !== undefined) return next;
  }
  return base.plus({ days: 1 }).toMillis();
}

/** A closed day, or a run of them (`to` inclusive): holidays, works. */
export const Closure = z.strictObject({
  from: LocalDate,
  to: LocalDate.optional(),
  reason: z.string().max(200).optional(),
});
export type Closure = z.infer<typeof Closure>;

export function isClosed(closures: readonly Closure[], epochMs: number, zone: string): boolean {
  return closedOn(closures, localDay(epochMs, zone));
}

/** Whether a site-local day `YYYY-MM-DD` falls in one of the closures. */
export function closedOn(closures: readonly Closure[], day: string): boolean {
  return closures.some((c) => day >= c.from && day <= (c.to ?? c.from));
}
