import { BOOKING_GRACE_MS, localDayBounds } from '../access/bookings.js';
import { needsBooking } from '../access/decide.js';
import type { AccessRequest, SiteRules } from '../access/types.js';
import type { BookingRepo } from '../store/booking-repo.js';
import type { BadgeHolder } from '../store/directory-repo.js';
import type { ReaderBinding } from './reader-binding.js';

/**
 * The bookings a tap's decision looks at, read only where a rule needs them: at a room's reader,
 * the member's bookings of its room within the grace of the tap; at an entry, where the plan or
 * the site requires a booking, the member's bookings at this site that touch the tap's site-local day.
 * One indexed lookup on the member's own rows, from the directory in force: no network.
 */
export function bookingsForTap(
  bookings: Pick<BookingRepo, 'around' | 'overlapping'>,
  binding: ReaderBinding,
  holder: BadgeHolder | undefined,
  at: number,
  rules: SiteRules,
): Pick<AccessRequest, 'roomBookings' | 'siteBookings'> {
  const member = holder?.member;
  if (!member) return {};
  if (binding.role === 'room' && binding.resource !== undefined)
    return { roomBookings: bookings.around(member.id, rules.id, binding.resource, at, BOOKING_GRACE_MS) };
  if (binding.role === 'entry' && needsBooking(holder.plan, rules)) {
    const day = localDayBounds(at, rules.timeZone);
    return { siteBookings: bookings.overlapping(member.id, rules.id, day.start, day.end) };
  }
  return {};
}
