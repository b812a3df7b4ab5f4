import type { Plan } from '../../shared/protocol/directory.js';
import { coversWholeWeek, isClosed, isWithin } from '../../shared/protocol/schedule.js';
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
    return isWithin(site.hours, now, site.timeZone) && !isClosed(site.closures, now, site.timeZone);
  return isWithin(access, now, site.timeZone);
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
