import type { Member, Plan } from '../../shared/protocol/directory.js';
import type { DenyReason, GrantReason } from '../../shared/protocol/reasons.js';
import { cachedLocalDay } from '../../shared/protocol/local-time.js';
import { bookedOnDay, coveredByBooking } from './bookings.js';
import { planOpensAllWeek, planOpensAt } from './plan-window.js';
import { quotaExhausted } from './quota.js';
import type { AccessRequest, Decision, SiteRules } from './types.js';

/**
 * The access policy: a pure function of the request, which holds everything it
 * looks at. No clock, no store, no network (docs/architecture.md, invariant 1).
 *
 * First failing check wins. Checks that do not depend on the time (unknown badge, revoked badge,
 * a secure badge whose card failed its check, suspended member, no plan) come first, so a refused badge is refused for what it is even when
 * the clock cannot be trusted. Then, on entry: expired, site_not_allowed, outside_hours,
 * anti_passback, booking_required, at_capacity, quota_exhausted. Staff skip hours, the booking
 * a plan requires, capacity and quota. Cleaners and visitors follow their plan like members; a
 * visitor's day pass is validFrom = validUntil. A room's reader admits staff, and anyone else
 * only during a booking of that room (± its grace): a booking is a time, so without a trusted
 * clock only staff. A lockdown refuses every entry, room and locker tap before anything else,
 * and no exit (fail-safe egress). A member held for an overdue bill (`billingHold`) is refused
 * `payment_overdue` at entries and rooms, right after who they are and before the time checks;
 * exits and lockers stay open to them.
 */
export function decideAccess(req: AccessRequest): Decision {
  if (req.lockdown && req.role !== 'exit' && !isCheckOutTap(req)) return refuse('lockdown');
  const holder = identify(req);
  if (typeof holder === 'string') return refuse(holder);
  // Letting people out is never refused for hours, capacity, quota or site.
  if (req.role === 'exit' || isCheckOutTap(req)) return admit(holder, 'ok');
  // A bill overdue past the network's limit closes the entries and rooms; a locker still opens,
  // so that someone inside when the hold arrives takes their things on the way out.
  if (holder.billingHold === true && req.role !== 'locker-bank') return refuse('payment_overdue');
  const plan = req.plan?.id === holder.plan ? req.plan : undefined;
  if (!plan) return refuse('expired'); // no valid plan
  if (req.role === 'room') return roomDecision(req, holder, plan);
  const refusal = req.clockSynced ? refusalWithClock(req, holder, plan) : refusalWithoutClock(req, holder, plan);
  if (refusal) return refuse(refusal);
  return admit(holder, req.clockSynced ? 'ok' : 'clock_unsynced_always_open');
}

function refuse(reason: DenyReason): Decision {
  return { granted: false, reason };
}

/** Staff are admitted as staff whatever else would have let them in. */
function admit(member: Member, reason: GrantReason): Decision {
  return { granted: true, reason: member.role === 'staff' ? 'staff' : reason };
}

/** The badge's holder, or why the directory does not vouch for them. */
function identify({ badge, member, card, staleDirectory }: AccessRequest): Member | DenyReason {
  if (!badge) return 'unknown_badge';
  if (badge.status !== 'active') return 'badge_revoked';
  // A secure badge is only itself if the card proved it; its UID alone can be cloned.
  if (badge.type === 'ntag424' && card !== 'genuine') return card === 'replayed' ? 'card_replayed' : 'card_not_genuine';
  if (!member || member.id !== badge.member) return 'unknown_badge';
  if (member.status !== 'active') return 'member_suspended';
  if (staleDirectory && !staleDirectory.roles.includes(member.role)) return 'directory_stale';
  return member;
}

/** With second-tap checkout, an entry tap by someone already inside is their way out. */
function isCheckOutTap({ role, site, presence }: AccessRequest): boolean {
  return role === 'entry' && site.secondTapChecksOut && presence.inside;
}

function refusalWithClock(req: AccessRequest, member: Member, plan: Plan): DenyReason | undefined {
  if (!validOn(member, cachedLocalDay(req.now, req.site.timeZone))) return 'expired';
  if (!opensSite(plan, req.site)) return 'site_not_allowed';
  if (req.role === 'locker-bank') return plan.lockers ? undefined : 'locker_not_entitled';
  const staff = member.role === 'staff';
  if (!staff && !planOpensAt(plan, req.site, req.now)) return 'outside_hours';
  if (blockedByAntiPassback(req)) return 'anti_passback';
  if (staff) return undefined;
  if (
    req.role === 'entry' &&
    needsBooking(plan, req.site) &&
    !bookedOnDay(req.siteBookings ?? [], req.now, req.site.timeZone)
  )
    return 'booking_required';
  if (atCapacity(req)) return 'at_capacity';
  if (!req.presence.inside && quotaExhausted(plan.daysPerWeek, req.daysUsedThisWeek, req.now, req.site.timeZone))
    return 'quota_exhausted';
  return undefined;
}

/**
 * Without a trusted clock the date is unknown, so validity dates, hours and quota days cannot be
 * judged. Staff, and members whose plan opens at every hour, are let in on trust; everyone else
 * waits for the clock. What does not depend on the time is still checked.
 */
function refusalWithoutClock(req: AccessRequest, member: Member, plan: Plan): DenyReason | undefined {
  if (!opensSite(plan, req.site)) return 'site_not_allowed';
  if (req.role === 'locker-bank' && !plan.lockers) return 'locker_not_entitled';
  const staff = member.role === 'staff';
  if (!staff && !planOpensAllWeek(plan)) return 'clock_unsynced';
  // Which day it is decides whether the member has booked it.
  if (!staff && req.role === 'entry' && needsBooking(plan, req.site)) return 'clock_unsynced';
  if (req.role === 'locker-bank') return undefined;
  if (blockedByAntiPassback(req)) return 'anti_passback';
  if (!staff && atCapacity(req)) return 'at_capacity';
  return undefined;
}

/**
 * A room's reader: the booking is the rule, so neither the plan's hours nor the site's capacity
 * or the days of a quota apply, and the member's plan need not open the site (the hub let them
 * book the room). Staff open any room of a site their plan opens, without a booking.
 */
function roomDecision(req: AccessRequest, member: Member, plan: Plan): Decision {
  const staff = member.role === 'staff';
  if (staff && !opensSite(plan, req.site)) return refuse('site_not_allowed');
  if (!req.clockSynced) return staff ? admit(member, 'staff') : refuse('clock_unsynced');
  if (!validOn(member, cachedLocalDay(req.now, req.site.timeZone))) return refuse('expired');
  if (staff) return admit(member, 'staff');
  return coveredByBooking(req.roomBookings ?? [], req.now) ? admit(member, 'booking') : refuse('no_booking');
}

/** `validFrom`..`validUntil` inclusive, compared as site-local calendar days (`YYYY-MM-DD` sorts). */
function validOn(member: Member, day: string): boolean {
  if (member.validFrom !== undefined && day < member.validFrom) return false;
  if (member.validUntil !== undefined && day > member.validUntil) return false;
  return true;
}

/** A booking that day is required by the member's plan, or by the site for everyone. */
export function needsBooking(plan: Plan | undefined, site: SiteRules): boolean {
  return plan?.bookingRequired === true || site.bookingRequired === true;
}

function opensSite(plan: Plan, site: SiteRules): boolean {
  return plan.sites === 'all' || plan.sites.includes(site.id);
}

/** A second entry without an exit in between: the badge was probably passed back. */
function blockedByAntiPassback({ site, presence }: AccessRequest): boolean {
  return site.antiPassback && presence.inside && !site.secondTapChecksOut;
}

/** Someone already inside does not add to the count. */
function atCapacity({ site, presence }: AccessRequest): boolean {
  return !presence.inside && presence.occupancy >= site.capacity;
}
