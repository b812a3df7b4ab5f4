import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import { isClosed, isWithin, type Closure, type WeeklyWindow } from '../../shared/protocol/schedule.js';
import type { FreeAccessRule } from './door-options.js';

/** The site's calendar, as a door's free-access rule needs it. */
export interface SiteCalendar {
  timeZone: string;
  /** Staffed hours, site-local. */
  hours: readonly WeeklyWindow[];
  closures: readonly Closure[];
}

/**
 * Whether a door is held unlocked at an instant. A closure day (holiday, works) cancels free
 * access whatever the rule, explicit windows included: a closed site must not stand open.
 */
export function isFreeAccessAt(rule: FreeAccessRule, site: SiteCalendar, at: number): boolean {
  if (rule === 'none') return false;
  if (isClosed(site.closures, at, site.timeZone)) return false;
  return isWithin(rule === 'staffed' ? site.hours : rule, at, site.timeZone);
}

/**
 * Calls `fn` every `periodMs`, on multiples of `periodMs` since the epoch. With a period that
 * divides a minute, ticks land on the site's whole minutes (every zone's offset is whole
 * minutes), so a window starting at 08:30 opens the door at 08:30:00, not up to a period late.
 */
export function everyAligned(clock: Clock, periodMs: number, fn: () => void): TimerHandle {
  let interval: TimerHandle | null = null;
  const first = clock.setTimeout(
    () => {
      interval = clock.setInterval(fn, periodMs);
      fn();
    },
    periodMs - (((clock.now() % periodMs) + periodMs) % periodMs),
  );
  return {
    cancel: () => {
      first.cancel();
      interval?.cancel();
    },
  };
}
