import { DateTime } from 'luxon';
import { cachedLocalDay, cachedLocalWeekStart } from '../../shared/protocol/local-time.js';

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Answers of `weekStartOf` already worked out: a member's days are few, and the same from tap to tap. */
const weekStarts = new Map<string, string | undefined>();
const MAX_REMEMBERED_DAYS = 1000;

/** The Monday of a calendar day's ISO week, or undefined when it is not a `YYYY-MM-DD` date. */
function weekStartOf(day: string): string | undefined {
  if (weekStarts.has(day)) return weekStarts.get(day);
  if (weekStarts.size >= MAX_REMEMBERED_DAYS) weekStarts.clear();
  const week = computeWeekStart(day);
  weekStarts.set(day, week);
  return week;
}

function computeWeekStart(day: string): string | undefined {
  if (!LOCAL_DATE.test(day)) return undefined;
  // A calendar date: the zone only has to be fixed, not the site's.
  const date = DateTime.fromISO(day, { zone: 'UTC' });
  return date.isValid ? (date.startOf('week').toISODate() ?? undefined) : undefined;
}

/**
 * The distinct site-local days of the tap's ISO week on which the member already came. Days from
 * other weeks are ignored, so a store that hands over too much cannot spend this week's quota.
 */
export function daysSpentThisWeek(daysUsed: readonly string[], now: number, timeZone: string): Set<string> {
  const week = cachedLocalWeekStart(now, timeZone);
  return new Set(daysUsed.filter((day) => weekStartOf(day) === week));
}

/**
 * True when entering now would spend one day more than the plan allows this week. A day is spent
 * by the first entry of a local calendar day, so coming back on a day already spent costs nothing.
 */
export function quotaExhausted(
  daysPerWeek: number | undefined,
  daysUsed: readonly string[],
  now: number,
  timeZone: string,
): boolean {
  if (daysPerWeek === undefined) return false;
  const spent = daysSpentThisWeek(daysUsed, now, timeZone);
  if (spent.has(cachedLocalDay(now, timeZone))) return false;
  return spent.size >= daysPerWeek;
}
