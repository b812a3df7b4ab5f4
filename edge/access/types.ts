import type { Badge, Member, Plan, Role } from '../../shared/protocol/directory.js';
import type { DenyReason, GrantReason } from '../../shared/protocol/reasons.js';
import type { Closure, WeeklyWindow } from '../../shared/protocol/schedule.js';

export type ReaderRole = 'entry' | 'exit' | 'locker-bank' | 'room';

/** A booking as the decision needs it: its instants, epoch milliseconds, end exclusive. */
export interface BookingSpan {
  start: number;
  end: number;
}

/** The site's rules that a decision needs, from the site config. */
export interface SiteRules {
  id: string;
  timeZone: string;
  capacity: number;
  /** Staffed hours: what a plan with access `staffed` means. */
  hours: readonly WeeklyWindow[];
  closures: readonly Closure[];
  antiPassback: boolean;
  /** An entry tap by a member already inside checks them out instead of entering again. */
  secondTapChecksOut: boolean;
  /** Every member's plan is taken as requiring a booking here (the site config's `site.bookingRequired`). */
  bookingRequired?: boolean;
}

/** Everything `decideAccess` looks at. It reads nothing else: no clock, no store, no network. */
export interface AccessRequest {
  /** The instant of the tap, epoch milliseconds. */
  now: number;
  site: SiteRules;
  role: ReaderRole;
  /** Undefined when no badge with this UID is in the directory. */
  badge: Badge | undefined;
  member: Member | undefined;
  plan: Plan | undefined;
  /** Whether this member is checked in at this site, and how many people are in. */
  presence: { inside: boolean; occupancy: number };
  /** Site-local days (YYYY-MM-DD) of the tap's ISO week on which the member already entered. */
  daysUsedThisWeek: readonly string[];
  /** False when the edge cannot trust its clock (no NTP sync since boot, no RTC). */
  clockSynced: boolean;
  /**
   * What the card proved beyond its UID. `genuine`: an NTAG 424 passed its cryptographic check;
   * `not_genuine`: it failed (or could not be asked); `replayed`: its SUN counter was not newer.
   * Absent: nothing was checked beyond the UID, which only a `uid` badge accepts.
   */
  card?: CardCheck;
  /** Set when the directory is older than the site allows: only these roles are admitted. */
  staleDirectory?: { roles: readonly Role[] };
  /** The hub put the site in lockdown: nobody in, staff included; the way out stays open. */
  lockdown?: boolean;
  /**
   * At a room reader: the member's bookings of its room that come near the tap (the store's
   * pick, at least those within the grace). The decision checks the grace itself.
   */
  roomBookings?: readonly BookingSpan[];
  /**
   * At an entry, for a plan that requires a booking: the member's bookings at this site that
   * touch the tap's site-local day (at least those). The decision checks the day itself.
   */
  siteBookings?: readonly BookingSpan[];
}

export type CardCheck = 'genuine' | 'not_genuine' | 'replayed';

/** Granted with the rule that admitted, or refused with the first rule that failed. */
export type Decision = { granted: true; reason: GrantReason } | { granted: false; reason: DenyReason };
