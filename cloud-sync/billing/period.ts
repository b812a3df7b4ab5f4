import { DateTime } from 'luxon';

/**
 * A billing period is a calendar month, `YYYY-MM`. Days are site-local calendar dates
 * (`YYYY-MM-DD`, the date part of an event's `at`): date arithmetic here is on the calendar
 * only, in UTC, so no offset or DST ever enters it.
 */
export { PeriodId } from '../../shared/protocol/api/hub-billing.js';
import type { PeriodId } from '../../shared/protocol/api/hub-billing.js';

const day = (date: string) => DateTime.fromISO(date, { zone: 'utc' });
const iso = (d: DateTime) => d.toISODate() ?? '';

export const periodOf = (date: string): PeriodId => date.slice(0, 7);

export function firstDay(period: PeriodId): string {
  return `${period}-01`;
}

const following = remembered((period) => iso(day(firstDay(period)).plus({ months: 1 })).slice(0, 7));

export const nextPeriod = (period: PeriodId): PeriodId => following(period);

export function previousPeriod(period: PeriodId): PeriodId {
  return iso(day(firstDay(period)).minus({ months: 1 })).slice(0, 7);
}

const shifts = new Map<number, (date: string) => string>();

/** `date` moved by `days`, remembered by the number of days (a close adds 6 to every week's Monday, …). */
export function addDays(date: string, days: number): string {
  let shift = shifts.get(days);
  if (!shift) {
    if (shifts.size >= 64) shifts.clear();
    shift = remembered((d) => iso(day(d).plus({ days })));
    shifts.set(days, shift);
  }
  return shift(date);
}

/**
 * A rating asks the week of the same few dozen dates for every member-day: remembered, a few
 * thousand dates at most (a calendar fact never changes, so the cache never goes stale).
 */
function remembered(fn: (date: string) => string): (date: string) => string {
  const known = new Map<string, string>();
  return (date) => {
    let value = known.get(date);
    if (value === undefined) {
      if (known.size >= 4096) known.clear();
      value = fn(date);
      known.set(date, value);
    }
    return value;
  };
}

/** The Monday of the ISO week of `date`. */
export const weekOf = remembered((date) => iso(day(date).startOf('week')));

/**
 * The period a whole ISO week is billed in: the month of its Thursday (the ISO rule that puts a
 * week in the year holding its Thursday), so a week across two months is counted once.
 */
export const periodOfWeek = remembered((monday) => periodOf(addDays(monday, 3)));

/**
 * The site-local dates whose events a period's rating reads: the month, widened by a week on
 * each side for the weeks billed by their Thursday. `to` is exclusive.
 */
export function readWindow(period: PeriodId): { from: string; to: string } {
  return { from: addDays(firstDay(period), -7), to: addDays(firstDay(nextPeriod(period)), 7) };
}

/** The last day of a period. */
export const lastDay = remembered((period) => addDays(firstDay(nextPeriod(period)), -1));

/** Days from `from` to `to` (calendar dates), 0 when they are the same day. */
export const daysFrom = (from: string, to: string): number =>
  Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);

/** The part of a period a membership covers: its first and last day there, how many days that is, and of how many. */
export interface Coverage {
  from: string;
  to: string;
  days: number;
  monthDays: number;
}

/**
 * The days of `period` within a membership valid from `from` to `until` (inclusive, either
 * open); undefined when it covers none of them.
 */
export function coverage(period: PeriodId, from: string | undefined, until: string | undefined): Coverage | undefined {
  const first = firstDay(period);
  const last = lastDay(period);
  const start = from !== undefined && from > first ? from : first;
  const end = until !== undefined && until < last ? until : last;
  if (start > end) return undefined;
  return { from: start, to: end, days: daysFrom(start, end) + 1, monthDays: daysFrom(first, last) + 1 };
}

/** Whether a membership valid from `from` to `until` (inclusive, either open) overlaps the period. */
export function overlaps(period: PeriodId, from: string | undefined, until: string | undefined): boolean {
  const first = firstDay(period);
  const last = lastDay(period);
  return (from === undefined || from <= last) && (until === undefined || until >= first);
}

/**
 * The earliest instant a period may be closed: the 2nd of the next month at 00:00 UTC, when
 * the month is over in every time zone on Earth.
 */
export function closableFrom(period: PeriodId): number {
  return Date.parse(`${addDays(firstDay(nextPeriod(period)), 1)}T00:00:00Z`);
}
