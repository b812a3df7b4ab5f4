import { z } from 'zod';

/** Why a badge was refused. Stable codes: they travel in events, API answers and metrics. */
export const DENY_REASONS = [
  'unknown_badge',
  'badge_revoked',
  'member_suspended',
  'expired',
  'outside_hours',
  'site_not_allowed',
  'quota_exhausted',
  'at_capacity',
  'anti_passback',
  'clock_unsynced',
  // Locker banks: the member's plan has no locker, or a free bank has no locker left.
  'locker_not_entitled',
  'no_locker_available',
  // Secure badges (NTAG 424 DNA): the card failed its cryptographic check (a clone of the UID,
  // wrong keys), or presented a SUN message whose counter is not newer than the last one seen.
  'card_not_genuine',
  'card_replayed',
  // A hub-fed site whose directory has not been confirmed for longer than directory.maxAgeHours
  // admits only the roles its config allows: a revocation may be waiting on the other side.
  'directory_stale',
  // The hub put the site in lockdown (shared/protocol/commands.ts): entries and lockers are refused until
  // it is lifted; exits still let people out.
  'lockdown',
  // Bookings: a room's reader opens only for the holder of a booking of that room (within its
  // grace); a plan that requires a booking refuses an entry on a day without one at the site.
  'no_booking',
  'booking_required',
  // The member's bill is overdue past the network's limit (the hub sets the member's
  // `billingHold`): entries and room doors are refused until it is paid or an operator lets them in.
  'payment_overdue',
] as const;

export const DenyReason = z.enum(DENY_REASONS);
export type DenyReason = z.infer<typeof DenyReason>;

/** Why a badge was admitted: `ok` for the ordinary case, or the rule that let it through. */
export const GRANT_REASONS = ['ok', 'staff', 'clock_unsynced_always_open', 'booking'] as const;
export const GrantReason = z.enum(GRANT_REASONS);
export type GrantReason = z.infer<typeof GrantReason>;

export const DecisionReason = z.enum([...GRANT_REASONS, ...DENY_REASONS]);
export type DecisionReason = z.infer<typeof DecisionReason>;
