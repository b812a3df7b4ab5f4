import type { Plan } from '../../shared/protocol/directory.js';
import type { WeeklyWindow } from '../../shared/protocol/schedule.js';
import { closedOn, coversWholeWeek, withinAtWallClock } from '../../shared/protocol/schedule.js';
import { cachedLocalDay, cachedWallClock } from '../../shared/protocol/local-time.js';
import type { SiteRules } from './types.js';

/**
 * Whether the plan's access windows are open at this instant, in the site's time zone.
 * Closures (holidays, works) close only the staffed hours: a 24/7 subscriber still comes in on
 * Christmas, and so does a plan with windows of its own.
 */
export function planOpensAt(plan: Plan, site: SiteRules, now: number): boolean {
  const { access } = plan;
  if (access === 'always') return true;
  if (access === 'staffed')
    return within(site.hours, now, site.timeZone) && !closedOn(site.closures, cachedLocalDay(now, site.timeZone));
  return within(access, now, site.timeZone);
}

/** `isWithin` of shared/protocol/schedule.ts, the wall clock read through the per-day cache. */
function within(windows: readonly WeeklyWindow[], now: number, timeZone: string): boolean {
  const wall = cachedWallClock(now, timeZone);
  return wall !== undefined && withinAtWallClock(windows, wall.weekday, wall.minuteOfDay);
}

/**
 * Whether the plan opens at every hour of every day, so that a door can admit its holder without
 * knowing what time it is. `staffed` never does: closures depend on the date.
 */
export function planOpensAllWeek(plan: Plan): boolean {
  const { access } = plan;
  if (access === 'always') return true;
  if (access === 'staffed') return false;
  return coversWholeWeek(access);
}
