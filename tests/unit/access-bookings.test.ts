import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localDayBounds } from '../../edge/access/bookings.js';
import { decideAccess } from '../../edge/access/decide.js';
import type { AccessRequest, BookingSpan, Decision, SiteRules } from '../../edge/access/types.js';
import type { Member, Plan } from '../../shared/protocol/directory.js';
import { BOOKING_GRACE_MINUTES } from '../../shared/protocol/bookings.js';

const PARIS = 'Europe/Paris';
const MINUTE = 60_000;
const GRACE = BOOKING_GRACE_MINUTES * MINUTE;

const MURAT: SiteRules = {
  id: 'murat',
  timeZone: PARIS,
  capacity: 20,
  hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:30', to: '18:30' }],
  closures: [],
  antiPassback: false,
  secondTapChecksOut: false,
};

/** A Paris wall time (`2026-11-23T10:00`) as an instant; an instant with its `Z` as itself. */
const at = (time: string): number => {
  const t = time.endsWith('Z') ? DateTime.fromISO(time) : DateTime.fromISO(time, { zone: PARIS });
  if (!t.isValid) throw new Error(`bad test time ${time}`);
  return t.toMillis();
};
const span = (from: string, to: string): BookingSpan => ({ start: at(from), end: at(to) });

interface Spec {
  now: number;
  role?: AccessRequest['role'];
  member?: Partial<Member>;
  plan?: Partial<Plan>;
  roomBookings?: BookingSpan[];
  siteBookings?: BookingSpan[];
  extra?: Partial<AccessRequest>;
}

/** Alice, an ordinary 24/7 member, tapping at the room's reader unless told otherwise. */
function decide(spec: Spec): Decision {
  return decideAccess({
    now: spec.now,
    site: MURAT,
    role: spec.role ?? 'room',
    badge: { uid: '04A2B3C4D5E6F7', member: 'alice', status: 'active', type: 'uid' },
    member: { id: 'alice', name: 'Alice', role: 'member', plan: 'desk', status: 'active', ...spec.member },
    plan: { id: 'desk', name: 'Desk', access: 'always', sites: 'all', lockers: true, ...spec.plan },
    presence: { inside: false, occupancy: 3 },
    daysUsedThisWeek: [],
    clockSynced: true,
    ...(spec.roomBookings ? { roomBookings: spec.roomBookings } : {}),
    ...(spec.siteBookings ? { siteBookings: spec.siteBookings } : {}),
    ...spec.extra,
  });
}

const granted = (reason: Decision['reason']) => ({ granted: true, reason });
const refused = (reason: Decision['reason']) => ({ granted: false, reason });

/** Monday 23 November 2026, 10:00-11:00 in Paris (UTC+1). */
const MEETING = span('2026-11-23T10:00', '2026-11-23T11:00');

describe('a room’s reader', () => {
  it('opens from the booking’s start minus the grace, to the millisecond, until its end plus the grace', () => {
    const room = (now: number) => decide({ now, roomBookings: [MEETING] });
    expect(room(MEETING.start - GRACE)).toEqual(granted('booking'));
    expect(room(MEETING.start - GRACE - 1)).toEqual(refused('no_booking'));
    expect(room(MEETING.start)).toEqual(granted('booking'));
    expect(room(MEETING.end)).toEqual(granted('booking'));
    expect(room(MEETING.end + GRACE - 1)).toEqual(granted('booking'));
    expect(room(MEETING.end + GRACE)).toEqual(refused('no_booking'));
  });

  it('refuses a member with no booking, or one far from now', () => {
    const now = at('2026-11-23T10:30');
    expect(decide({ now })).toEqual(refused('no_booking'));
    expect(decide({ now, roomBookings: [span('2026-11-23T14:00', '2026-11-23T15:00')] })).toEqual(
      refused('no_booking'),
    );
    expect(decide({ now, roomBookings: [span('2026-11-23T14:00', '2026-11-23T15:00'), MEETING] })).toEqual(
      granted('booking'),
    );
  });

  it('admits staff without a booking, but not on a site their plan does not open', () => {
    const now = at('2026-11-29T03:00');
    expect(decide({ now, member: { role: 'staff' } })).toEqual(granted('staff'));
    expect(decide({ now, member: { role: 'staff' }, plan: { sites: ['allanche'] } })).toEqual(
      refused('site_not_allowed'),
    );
  });

  it('asks cleaners and visitors for a booking like members', () => {
    const now = at('2026-11-23T10:30');
    for (const role of ['cleaner', 'visitor'] as const) {
      expect(decide({ now, member: { role } })).toEqual(refused('no_booking'));
      expect(decide({ now, member: { role }, roomBookings: [MEETING] })).toEqual(granted('booking'));
    }
  });

  it('checks who the badge is before the booking: unknown, revoked, unproven, suspended, stale, lockdown', () => {
    const now = at('2026-11-23T10:30');
    const withBooking = (extra: Partial<AccessRequest>, member: Partial<Member> = {}) =>
      decide({ now, roomBookings: [MEETING], extra, member });
    expect(withBooking({ badge: undefined })).toEqual(refused('unknown_badge'));
    const badge = { uid: '04A2B3C4D5E6F7', member: 'alice', status: 'active', type: 'uid' } as const;
    expect(withBooking({ badge: { ...badge, status: 'revoked' } })).toEqual(refused('badge_revoked'));
    expect(withBooking({ badge: { ...badge, type: 'ntag424' }, card: 'not_genuine' })).toEqual(
      refused('card_not_genuine'),
    );
    expect(withBooking({}, { status: 'suspended' })).toEqual(refused('member_suspended'));
    expect(withBooking({ staleDirectory: { roles: ['staff'] } })).toEqual(refused('directory_stale'));
    expect(withBooking({ lockdown: true })).toEqual(refused('lockdown'));
    expect(withBooking({ lockdown: true }, { role: 'staff' })).toEqual(refused('lockdown'));
    expect(withBooking({}, { validUntil: '2026-11-22' })).toEqual(refused('expired'));
  });

  it('does not look at the plan’s hours, the site’s capacity or the week’s days: the booking is the rule', () => {
    const saturdayNight = span('2026-11-28T20:00', '2026-11-28T22:00');
    const now = at('2026-11-28T21:00');
    expect(
      decide({
        now,
        plan: { access: 'staffed', daysPerWeek: 1, lockers: false, sites: ['allanche'] },
        roomBookings: [saturdayNight],
        extra: { presence: { inside: false, occupancy: 99 }, daysUsedThisWeek: ['2026-11-23'] },
      }),
    ).toEqual(granted('booking'));
  });

  it('without a trusted clock admits staff only: a booking is a time', () => {
    const now = at('2026-11-23T10:30');
    const unsynced = { clockSynced: false };
    expect(decide({ now, roomBookings: [MEETING], extra: unsynced })).toEqual(refused('clock_unsynced'));
    expect(decide({ now, member: { role: 'staff' }, extra: unsynced })).toEqual(granted('staff'));
  });

  it('on the day the clocks go forward, a booking of 01:30-03:30 lasts one hour of instants', () => {
    // 29 March 2026: 02:00 CET becomes 03:00 CEST. 01:30 CET is 00:30Z, 03:30 CEST is 01:30Z.
    const booking = span('2026-03-29T01:30', '2026-03-29T03:30');
    expect(booking).toEqual({ start: at('2026-03-29T00:30:00Z'), end: at('2026-03-29T01:30:00Z') });
    const room = (now: number) => decide({ now, roomBookings: [booking] }).reason;
    expect(room(at('2026-03-29T00:15:00Z'))).toBe('booking');
    expect(room(at('2026-03-29T00:15:00Z') - 1)).toBe('no_booking');
    expect(room(at('2026-03-29T01:45:00Z') - 1)).toBe('booking');
    // 03:45 CEST: the booking's end plus its grace, one hour after 02:45 would have been on a plain day.
    expect(room(at('2026-03-29T03:45'))).toBe('no_booking');
  });

  it('on the day the clocks go back, a booking of 01:30-03:30 lasts three hours, through both 02:30s', () => {
    // 25 October 2026: 03:00 CEST becomes 02:00 CET. 01:30 CEST is 23:30Z the day before, 03:30 CET is 02:30Z.
    const booking = span('2026-10-25T01:30', '2026-10-25T03:30');
    expect(booking).toEqual({ start: at('2026-10-24T23:30:00Z'), end: at('2026-10-25T02:30:00Z') });
    const room = (now: number) => decide({ now, roomBookings: [booking] }).reason;
    expect(room(at('2026-10-24T23:15:00Z') - 1)).toBe('no_booking');
    expect(room(at('2026-10-24T23:15:00Z'))).toBe('booking');
    expect(room(at('2026-10-25T00:30:00Z'))).toBe('booking'); // the first 02:30, CEST
    expect(room(at('2026-10-25T01:30:00Z'))).toBe('booking'); // the second 02:30, CET
    expect(room(at('2026-10-25T02:45:00Z') - 1)).toBe('booking');
    expect(room(at('2026-10-25T02:45:00Z'))).toBe('no_booking');
  });
});

describe('a plan that requires a booking, at an entry', () => {
  const flex = { bookingRequired: true } as const;
  const entry = (now: number, siteBookings: BookingSpan[], spec: Partial<Spec> = {}) =>
    decide({ now, role: 'entry', plan: flex, siteBookings, ...spec });
  const monday = at('2026-11-23T09:00');

  it('admits on a site-local day the member holds a booking at the site, whatever its hours', () => {
    expect(entry(monday, [span('2026-11-23T14:00', '2026-11-23T15:00')])).toEqual(granted('ok'));
    expect(entry(monday, [span('2026-11-23T23:00', '2026-11-24T08:00')])).toEqual(granted('ok'));
    expect(entry(monday, [span('2026-11-22T20:00', '2026-11-23T00:00:00.001')])).toEqual(granted('ok'));
  });

  it('refuses on a day without one: a booking tomorrow, or one that ended at midnight', () => {
    expect(entry(monday, [])).toEqual(refused('booking_required'));
    expect(entry(monday, [span('2026-11-24T09:00', '2026-11-24T18:00')])).toEqual(refused('booking_required'));
    expect(entry(monday, [span('2026-11-22T20:00', '2026-11-23T00:00')])).toEqual(refused('booking_required'));
  });

  it('comes after the hours and the site, before capacity and the week’s days', () => {
    const none: BookingSpan[] = [];
    const today = [span('2026-11-23T09:00', '2026-11-23T18:00')];
    const early = at('2026-11-23T07:00');
    expect(entry(early, none, { plan: { ...flex, access: 'staffed' } })).toEqual(refused('outside_hours'));
    expect(entry(monday, none, { plan: { ...flex, sites: ['allanche'] } })).toEqual(refused('site_not_allowed'));
    const full = { extra: { presence: { inside: false, occupancy: 20 } } };
    expect(entry(monday, none, full)).toEqual(refused('booking_required'));
    expect(entry(monday, today, full)).toEqual(refused('at_capacity'));
    const saturday = at('2026-11-21T12:00');
    const spent = { plan: { ...flex, daysPerWeek: 1 }, extra: { daysUsedThisWeek: ['2026-11-16'] } };
    expect(entry(saturday, none, spent)).toEqual(refused('booking_required'));
    expect(entry(saturday, [span('2026-11-21T10:00', '2026-11-21T16:00')], spent)).toEqual(refused('quota_exhausted'));
  });

  it('never refuses an exit, a second tap that checks out, staff, or a locker', () => {
    expect(entry(monday, [], { role: 'exit' })).toEqual(granted('ok'));
    const inside = {
      extra: { presence: { inside: true, occupancy: 3 }, site: { ...MURAT, secondTapChecksOut: true } },
    };
    expect(entry(monday, [], inside)).toEqual(granted('ok'));
    expect(entry(monday, [], { member: { role: 'staff' } })).toEqual(granted('staff'));
    expect(entry(monday, [], { role: 'locker-bank' })).toEqual(granted('ok'));
  });

  it('is required of every plan at a site that requires bookings', () => {
    const site = { extra: { site: { ...MURAT, bookingRequired: true } } };
    const anyPlan = (siteBookings: BookingSpan[]) =>
      decide({ now: monday, role: 'entry', siteBookings, ...site }).reason;
    expect(anyPlan([])).toBe('booking_required');
    expect(anyPlan([span('2026-11-23T14:00', '2026-11-23T15:00')])).toBe('ok');
    expect(decide({ now: monday, role: 'entry', siteBookings: [] }).reason).toBe('ok');
    expect(decide({ now: monday, role: 'entry', siteBookings: [], member: { role: 'staff' }, ...site }).reason).toBe(
      'staff',
    );
  });

  it('without a trusted clock refuses the member (which day is it?) and admits staff', () => {
    const unsynced = { extra: { clockSynced: false } };
    expect(entry(monday, [span('2026-11-23T09:00', '2026-11-23T18:00')], unsynced)).toEqual(refused('clock_unsynced'));
    expect(entry(monday, [], { ...unsynced, member: { role: 'staff' } })).toEqual(granted('staff'));
    expect(decide({ now: monday, role: 'entry', ...unsynced })).toEqual(granted('clock_unsynced_always_open'));
  });

  it('counts the site-local day on the 23-hour and the 25-hour days of the clock changes', () => {
    expect(localDayBounds(at('2026-03-29T12:00'), PARIS)).toEqual({
      start: at('2026-03-28T23:00:00Z'),
      end: at('2026-03-29T22:00:00Z'),
    });
    expect(localDayBounds(at('2026-10-25T12:00'), PARIS)).toEqual({
      start: at('2026-10-24T22:00:00Z'),
      end: at('2026-10-25T23:00:00Z'),
    });
    const lateSunday = [span('2026-03-29T22:00', '2026-03-29T23:00')];
    expect(entry(at('2026-03-29T00:00'), lateSunday)).toEqual(granted('ok'));
    expect(entry(at('2026-03-29T00:00') - 1, lateSunday)).toEqual(refused('booking_required'));
    expect(entry(at('2026-03-30T00:00'), lateSunday)).toEqual(refused('booking_required'));
    const earlyOctober = [span('2026-10-25T00:10', '2026-10-25T00:20')];
    expect(entry(at('2026-10-25T23:59:59.999'), earlyOctober)).toEqual(granted('ok'));
    expect(entry(at('2026-10-26T00:00'), earlyOctober)).toEqual(refused('booking_required'));
  });
});
