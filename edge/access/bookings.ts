import { cachedLocalDayBounds } from '../../shared/protocol/local-time.js';
import { BOOKING_GRACE_MINUTES } from '../../shared/protocol/bookings.js';
import type { BookingSpan } from './types.js';

/** How long before its start and after its end a booking still opens its room's door. */
export const BOOKING_GRACE_MS = BOOKING_GRACE_MINUTES * 60_000;

/**
 * Whether one of the bookings covers `now` within the grace: from `start − grace` included to
 * `end + grace` excluded (a booking's end is exclusive). Instants, never wall-clock times, so a
 * booking across a change of the clocks lasts exactly what it lasts.
 */
export function coveredByBooking(bookings: readonly BookingSpan[], now: number): boolean {
  return bookings.some((b) => b.start - BOOKING_GRACE_MS <= now && now < b.end + BOOKING_GRACE_MS);
}

/**
 * The site-local calendar day of an instant, as the instants of its first and next midnights:
 * 23 or 25 hours long on the days the clocks change.
 */
export function localDayBounds(now: number, timeZone: string): { start: number; end: number } {
  return cachedLocalDayBounds(now, timeZone);
}

/** Whether one of the bookings touches the site-local day of `now` (any part of it, no grace). */
export function bookedOnDay(bookings: readonly BookingSpan[], now: number, timeZone: string): boolean {
  const day = localDayBounds(now, timeZone);
  return bookings.some((b) => b.start < day.end && b.end > day.start);
}
