import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { decideAccess } from '../../edge/access/decide.js';
import type {
  AccessRequest,
  BookingSpan,
  CardCheck,
  Decision,
  ReaderRole,
  SiteRules,
} from '../../edge/access/types.js';
import { Badge, Member, Plan, ROLES, type Role } from '../../shared/protocol/directory.js';
import { DecisionReason, GRANT_REASONS, type DenyReason, type GrantReason } from '../../shared/protocol/reasons.js';
import { DAYS, type WeeklyWindow } from '../../shared/protocol/schedule.js';

const PARIS = 'Europe/Paris';

/** Murat: staffed 8:30-18:30 Monday to Friday. */
const MURAT: SiteRules = {
  id: 'murat',
  timeZone: PARIS,
  capacity: 20,
  hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:30', to: '18:30' }],
  closures: [],
  antiPassback: false,
  secondTapChecksOut: false,
};

/** What a test says about a tap; everything left out is an ordinary member on a Wednesday morning. */
interface TapSpec {
  /** Site-local wall time (`2026-03-04T10:00`), or an instant with its offset (`...Z`). */
  at?: string;
  reader?: ReaderRole;
  /** `null`: no such badge, member or plan in the directory. */
  badge?: Partial<Badge> | null;
  member?: Partial<Member> | null;
  plan?: Partial<Plan> | null;
  site?: Partial<SiteRules>;
  inside?: boolean;
  occupancy?: number;
  daysUsed?: string[];
  clockSynced?: boolean;
  card?: CardCheck;
  staleRoles?: Role[];
  lockdown?: boolean;
  roomBookings?: BookingSpan[];
  siteBookings?: BookingSpan[];
}

function tap(spec: TapSpec = {}): AccessRequest {
  const site = { ...MURAT, ...spec.site };
  const now = DateTime.fromISO(spec.at ?? '2026-03-04T10:00', { zone: site.timeZone });
  if (!now.isValid) throw new Error(`bad test time ${spec.at}`);
  return {
    now: now.toMillis(),
    site,
    role: spec.reader ?? 'entry',
    badge:
      spec.badge === null
        ? undefined
        : { uid: '04A2B3C4D5E6F7', member: 'alice', status: 'active', type: 'uid', ...spec.badge },
    member:
      spec.member === null
        ? undefined
        : { id: 'alice', name: 'Alice', role: 'member', plan: 'desk', status: 'active', ...spec.member },
    plan:
      spec.plan === null
        ? undefined
        : { id: 'desk', name: 'Desk', access: 'staffed', sites: 'all', lockers: false, ...spec.plan },
    presence: { inside: spec.inside ?? false, occupancy: spec.occupancy ?? 3 },
    daysUsedThisWeek: spec.daysUsed ?? [],
    clockSynced: spec.clockSynced ?? true,
    ...(spec.card ? { card: spec.card } : {}),
    ...(spec.staleRoles ? { staleDirectory: { roles: spec.staleRoles } } : {}),
    ...(spec.lockdown !== undefined ? { lockdown: spec.lockdown } : {}),
    ...(spec.roomBookings ? { roomBookings: spec.roomBookings } : {}),
    ...(spec.siteBookings ? { siteBookings: spec.siteBookings } : {}),
  };
}

/** A booking from one Paris wall time to another. */
const booked = (from: string, to: string): BookingSpan => ({
  start: DateTime.fromISO(from, { zone: PARIS }).toMillis(),
  end: DateTime.fromISO(to, { zone: PARIS }).toMillis(),
});

const decide = (spec: TapSpec = {}): Decision => decideAccess(tap(spec));
const granted = (reason: GrantReason): Decision => ({ granted: true, reason });
const refused = (reason: DenyReason): Decision => ({ granted: false, reason });

const ALWAYS = { access: 'always' } as const;
const STAFF = { role: 'staff' } as const;
const TWO_DAYS = { access: 'always', daysPerWeek: 2 } as const;

describe('decideAccess: one row per reason', () => {
  const table: { name: string; spec: TapSpec; expected: Decision }[] = [
    { name: 'a member on a staffed plan is admitted during staffed hours', spec: {}, expected: granted('ok') },
    {
      name: 'staff are admitted at 3 a.m. on a Sunday',
      spec: { member: STAFF, at: '2026-03-08T03:00' },
      expected: granted('staff'),
    },
    {
      name: 'a 24/7 subscriber is admitted while the clock is unsynced',
      spec: { plan: ALWAYS, clockSynced: false },
      expected: granted('clock_unsynced_always_open'),
    },
    {
      name: 'a badge the directory does not know is refused',
      spec: { badge: null },
      expected: refused('unknown_badge'),
    },
    {
      name: 'a badge whose member is not in the directory is refused as unknown',
      spec: { member: null },
      expected: refused('unknown_badge'),
    },
    {
      name: 'a badge handed a member who is not its holder is refused as unknown',
      spec: { badge: { member: 'bob' } },
      expected: refused('unknown_badge'),
    },
    { name: 'a revoked badge is refused', spec: { badge: { status: 'revoked' } }, expected: refused('badge_revoked') },
    {
      name: 'a secure badge whose card proved itself is admitted',
      spec: { badge: { type: 'ntag424' }, card: 'genuine' },
      expected: granted('ok'),
    },
    {
      name: 'a secure badge answered by a card that failed its check (a cloned UID) is refused',
      spec: { badge: { type: 'ntag424' }, card: 'not_genuine' },
      expected: refused('card_not_genuine'),
    },
    {
      name: 'a secure badge with nothing checked beyond its UID is refused',
      spec: { badge: { type: 'ntag424' } },
      expected: refused('card_not_genuine'),
    },
    {
      name: 'a secure badge replaying an old SUN message is refused',
      spec: { badge: { type: 'ntag424' }, card: 'replayed' },
      expected: refused('card_replayed'),
    },
    { name: 'a UID badge needs no card check', spec: { badge: { type: 'uid' } }, expected: granted('ok') },
    {
      name: 'a visitor is refused while the directory is stale and only members and staff are trusted',
      spec: { member: { role: 'visitor' }, staleRoles: ['member', 'staff'] },
      expected: refused('directory_stale'),
    },
    {
      name: 'a member is still admitted while the directory is stale if members are trusted',
      spec: { staleRoles: ['member', 'staff'] },
      expected: granted('ok'),
    },
    {
      name: 'a member is refused at the entry while the site is in lockdown',
      spec: { lockdown: true },
      expected: refused('lockdown'),
    },
    {
      name: 'a suspended member is refused',
      spec: { member: { status: 'suspended' } },
      expected: refused('member_suspended'),
    },
    {
      name: 'a membership that ended yesterday is refused',
      spec: { member: { validUntil: '2026-03-03' } },
      expected: refused('expired'),
    },
    {
      name: 'a membership that starts tomorrow is refused',
      spec: { member: { validFrom: '2026-03-05' } },
      expected: refused('expired'),
    },
    {
      name: 'a membership is valid on its first and last day',
      spec: { member: { validFrom: '2026-03-04', validUntil: '2026-03-04' } },
      expected: granted('ok'),
    },
    { name: 'a member without a plan is refused as expired', spec: { plan: null }, expected: refused('expired') },
    {
      name: 'a member handed a plan that is not theirs is refused as expired',
      spec: { plan: { id: 'other' } },
      expected: refused('expired'),
    },
    {
      name: 'a plan for other sites is refused',
      spec: { plan: { sites: ['reichstett'] } },
      expected: refused('site_not_allowed'),
    },
    {
      name: 'a plan listing this site is admitted',
      spec: { plan: { sites: ['reichstett', 'murat'] } },
      expected: granted('ok'),
    },
    {
      name: 'a staffed plan is refused at closing time',
      spec: { at: '2026-03-04T18:30' },
      expected: refused('outside_hours'),
    },
    {
      name: 'a second entry without an exit is refused under anti-passback',
      spec: { site: { antiPassback: true }, inside: true },
      expected: refused('anti_passback'),
    },
    { name: 'a full site refuses a newcomer', spec: { occupancy: 20 }, expected: refused('at_capacity') },
    {
      name: 'a one-day-a-week plan is refused on a second day',
      spec: { plan: { daysPerWeek: 1 }, daysUsed: ['2026-03-02'] },
      expected: refused('quota_exhausted'),
    },
    {
      name: 'a staffed plan is refused while the clock is unsynced',
      spec: { clockSynced: false },
      expected: refused('clock_unsynced'),
    },
    {
      name: 'a plan without lockers does not open a locker',
      spec: { reader: 'locker-bank' },
      expected: refused('locker_not_entitled'),
    },
    {
      name: 'a room’s reader opens for a booking of that room under way',
      spec: { reader: 'room', roomBookings: [booked('2026-03-04T09:30', '2026-03-04T11:00')] },
      expected: granted('booking'),
    },
    {
      name: 'a room’s reader refuses a member without a booking of that room now',
      spec: { reader: 'room', roomBookings: [booked('2026-03-04T14:00', '2026-03-04T15:00')] },
      expected: refused('no_booking'),
    },
    {
      name: 'a plan that requires a booking refuses an entry on a day without one',
      spec: { plan: { bookingRequired: true }, siteBookings: [booked('2026-03-05T09:00', '2026-03-05T12:00')] },
      expected: refused('booking_required'),
    },
    {
      name: 'a member held for an overdue bill is refused at the entry',
      spec: { member: { billingHold: true } },
      expected: refused('payment_overdue'),
    },
  ];

  it.each(table)('$name', ({ spec, expected }) => {
    expect(decide(spec)).toEqual(expected);
  });

  it('the table covers every reason the door decides (the locker bank decides no_locker_available)', () => {
    const covered = new Set(table.map((row) => row.expected.reason));
    const expected = DecisionReason.options.filter((r) => r !== 'no_locker_available');
    expect([...covered].sort()).toEqual([...expected].sort());
  });
});

describe('decideAccess during a lockdown: nobody in, everybody out', () => {
  it.each<[string, TapSpec, Decision]>([
    ['staff are refused at the entry', { member: STAFF, lockdown: true }, refused('lockdown')],
    [
      'a locker tap is refused',
      { reader: 'locker-bank', plan: { lockers: true }, lockdown: true },
      refused('lockdown'),
    ],
    [
      'an unknown badge is refused for the lockdown, the rule in force',
      { badge: null, lockdown: true },
      refused('lockdown'),
    ],
    [
      'a revoked badge is refused for the lockdown',
      { badge: { status: 'revoked' }, lockdown: true },
      refused('lockdown'),
    ],
    ['the exit reader still lets a member out', { reader: 'exit', lockdown: true }, granted('ok')],
    [
      'a second tap still checks out who is inside',
      { site: { secondTapChecksOut: true }, inside: true, lockdown: true },
      granted('ok'),
    ],
    [
      'a second tap by someone not inside is an entry, refused',
      { site: { secondTapChecksOut: true }, inside: false, lockdown: true },
      refused('lockdown'),
    ],
    ['lifted, the same tap is admitted again', { lockdown: false }, granted('ok')],
  ])('%s', (_name, spec, expected) => {
    expect(decide(spec)).toEqual(expected);
  });
});

describe('decideAccess: the first failing check wins', () => {
  it.each<[string, TapSpec, DenyReason]>([
    [
      'a revoked badge of a suspended member is refused as revoked',
      { badge: { status: 'revoked' }, member: { status: 'suspended' } },
      'badge_revoked',
    ],
    [
      'a suspended member with an expired membership is refused as suspended',
      { member: { status: 'suspended', validUntil: '2026-01-01' } },
      'member_suspended',
    ],
    [
      'an expired membership on a site the plan does not open is refused as expired',
      { member: { validUntil: '2026-01-01' }, plan: { sites: ['reichstett'] } },
      'expired',
    ],
    [
      'a plan for other sites tapped after hours is refused as site_not_allowed',
      { plan: { sites: ['reichstett'] }, at: '2026-03-04T22:00' },
      'site_not_allowed',
    ],
    [
      'a second entry after hours is refused as outside_hours',
      { at: '2026-03-04T22:00', site: { antiPassback: true }, inside: true },
      'outside_hours',
    ],
    [
      'a newcomer beyond quota at a full site is refused as at_capacity',
      { occupancy: 20, plan: { daysPerWeek: 1 }, daysUsed: ['2026-03-02'] },
      'at_capacity',
    ],
    [
      'an unknown badge with an unsynced clock is refused as unknown',
      { badge: null, clockSynced: false },
      'unknown_badge',
    ],
    [
      'a revoked badge with an unsynced clock is refused as revoked',
      { badge: { status: 'revoked' }, clockSynced: false },
      'badge_revoked',
    ],
  ])('%s', (_name, spec, reason) => {
    expect(decide(spec)).toEqual(refused(reason));
  });
});

describe('decideAccess: a member held for an overdue bill', () => {
  const HELD = { billingHold: true } as const;

  it.each<[string, TapSpec, Decision]>([
    [
      'is refused at a room’s reader despite a booking',
      { reader: 'room', roomBookings: [booked('2026-03-04T09:30', '2026-03-04T11:00')] },
      refused('payment_overdue'),
    ],
    [
      'is refused on a 24/7 plan while the clock is unsynced',
      { plan: ALWAYS, clockSynced: false },
      refused('payment_overdue'),
    ],
    [
      'is refused before an expired membership is looked at',
      { member: { validUntil: '2026-01-01' } },
      refused('payment_overdue'),
    ],
    ['is refused as suspended when also suspended', { member: { status: 'suspended' } }, refused('member_suspended')],
    ['is let out at the exit reader', { reader: 'exit' }, granted('ok')],
    ['is checked out by a second tap', { site: { secondTapChecksOut: true }, inside: true }, granted('ok')],
    ['still opens a locker of a plan with lockers', { reader: 'locker-bank', plan: { lockers: true } }, granted('ok')],
    ['is admitted again once the hold is gone', { member: { billingHold: undefined } }, granted('ok')],
  ])('%s', (_name, spec, expected) => {
    expect(decide({ ...spec, member: { ...HELD, ...spec.member } })).toEqual(expected);
  });
});

describe('decideAccess: staff', () => {
  it.each<[string, TapSpec]>([
    ['staff are admitted on a Sunday night', { at: '2026-03-08T23:00' }],
    ['staff are admitted at a full site', { occupancy: 20 }],
    ['staff are admitted beyond their plan quota', { plan: { daysPerWeek: 1 }, daysUsed: ['2026-03-02'] }],
    [
      'staff are admitted on a closure day',
      { at: '2026-12-24T10:00', site: { closures: [{ from: '2026-12-24', to: '2026-12-26' }] } },
    ],
    [
      'staff are admitted with an unsynced clock even on a staffed plan',
      { clockSynced: false, member: { ...STAFF, validUntil: '2020-01-01' } },
    ],
  ])('%s', (_name, spec) => {
    expect(decide({ ...spec, member: { ...STAFF, ...spec.member } })).toEqual(granted('staff'));
  });

  it.each<[string, TapSpec, DenyReason]>([
    ['staff with a revoked badge are refused', { badge: { status: 'revoked' } }, 'badge_revoked'],
    ['suspended staff are refused', { member: { ...STAFF, status: 'suspended' } }, 'member_suspended'],
    ['staff whose contract ended are refused', { member: { ...STAFF, validUntil: '2026-03-03' } }, 'expired'],
    ['staff are refused at a site their plan does not open', { plan: { sites: ['reichstett'] } }, 'site_not_allowed'],
    ['staff are still held by anti-passback', { site: { antiPassback: true }, inside: true }, 'anti_passback'],
  ])('%s', (_name, spec, reason) => {
    expect(decide({ ...spec, member: { ...STAFF, ...spec.member } })).toEqual(refused(reason));
  });
});

describe('decideAccess: exit reader', () => {
  it.each<[string, TapSpec]>([
    ['lets a member out after hours', { at: '2026-03-04T23:00' }],
    ['lets a member out of a full site', { occupancy: 40 }],
    ['lets a member out beyond quota', { plan: { daysPerWeek: 1 }, daysUsed: ['2026-03-02'] }],
    ['lets a member out whose membership ended', { member: { validUntil: '2026-03-01' } }],
    ['lets a member out of a site their plan does not open', { plan: { sites: ['reichstett'] } }],
    ['lets a member out whose plan is missing', { plan: null }],
    ['lets a member out under anti-passback', { site: { antiPassback: true }, inside: true }],
    ['lets a member out while the clock is unsynced', { clockSynced: false }],
  ])('the exit reader %s', (_name, spec) => {
    expect(decide({ ...spec, reader: 'exit' })).toEqual(granted('ok'));
  });

  it.each<[string, TapSpec, DenyReason]>([
    ['an unknown badge', { badge: null }, 'unknown_badge'],
    ['a revoked badge', { badge: { status: 'revoked' } }, 'badge_revoked'],
    ['a suspended member', { member: { status: 'suspended' } }, 'member_suspended'],
  ])('the exit reader still refuses %s', (_name, spec, reason) => {
    expect(decide({ ...spec, reader: 'exit' })).toEqual(refused(reason));
  });

  it('the exit reader admits staff as staff', () => {
    expect(decide({ reader: 'exit', member: STAFF })).toEqual(granted('staff'));
  });
});

describe('decideAccess: locker bank', () => {
  const LOCKERS = { lockers: true } as const;

  it.each<[string, TapSpec]>([
    ['opens after hours', { at: '2026-03-08T06:00' }],
    ['opens at a full site', { occupancy: 20 }],
    ['opens beyond quota', { plan: { ...LOCKERS, daysPerWeek: 1 }, daysUsed: ['2026-03-02'] }],
    ['opens for a member already inside under anti-passback', { site: { antiPassback: true }, inside: true }],
  ])('a locker bank %s for a plan with lockers', (_name, spec) => {
    expect(decide({ ...spec, reader: 'locker-bank', plan: { ...LOCKERS, ...spec.plan } })).toEqual(granted('ok'));
  });

  it.each<[string, TapSpec, DenyReason]>([
    ['a revoked badge', { badge: { status: 'revoked' } }, 'badge_revoked'],
    ['an expired membership', { member: { validUntil: '2026-03-03' } }, 'expired'],
    ['a plan for other sites', { plan: { ...LOCKERS, sites: ['reichstett'] } }, 'site_not_allowed'],
    ['a staffed plan with lockers while the clock is unsynced', { clockSynced: false }, 'clock_unsynced'],
    [
      'a plan without lockers while the clock is unsynced',
      { clockSynced: false, plan: { ...ALWAYS, lockers: false } },
      'locker_not_entitled',
    ],
  ])('a locker bank refuses %s', (_name, spec, reason) => {
    expect(decide({ ...spec, reader: 'locker-bank', plan: { ...LOCKERS, ...spec.plan } })).toEqual(refused(reason));
  });

  it('a locker bank opens for a 24/7 plan with lockers while the clock is unsynced', () => {
    expect(decide({ reader: 'locker-bank', clockSynced: false, plan: { ...ALWAYS, ...LOCKERS } })).toEqual(
      granted('clock_unsynced_always_open'),
    );
  });

  it('staff need a plan with lockers too', () => {
    expect(decide({ reader: 'locker-bank', member: STAFF })).toEqual(refused('locker_not_entitled'));
    expect(decide({ reader: 'locker-bank', member: STAFF, plan: LOCKERS, at: '2026-03-08T03:00' })).toEqual(
      granted('staff'),
    );
  });
});

describe('decideAccess: days-per-week quota', () => {
  // ISO week of Monday 2026-03-02 to Sunday 2026-03-08.
  const mondayAndTuesday = ['2026-03-02', '2026-03-03'];

  it('a 2-days-a-week plan is refused on its 3rd distinct day of the week', () => {
    expect(decide({ plan: TWO_DAYS, at: '2026-03-04T10:00', daysUsed: mondayAndTuesday })).toEqual(
      refused('quota_exhausted'),
    );
  });

  it('a 2-days-a-week plan is admitted again on a day already spent', () => {
    expect(decide({ plan: TWO_DAYS, at: '2026-03-03T17:00', daysUsed: mondayAndTuesday })).toEqual(granted('ok'));
  });

  it('a 2-days-a-week plan is admitted on its 2nd day', () => {
    expect(decide({ plan: TWO_DAYS, at: '2026-03-03T10:00', daysUsed: ['2026-03-02'] })).toEqual(granted('ok'));
  });

  it('a 2-days-a-week plan is admitted again the next week', () => {
    expect(decide({ plan: TWO_DAYS, at: '2026-03-09T10:00', daysUsed: [] })).toEqual(granted('ok'));
  });

  it('days listed from another week do not spend this week', () => {
    expect(decide({ plan: TWO_DAYS, at: '2026-03-09T10:00', daysUsed: mondayAndTuesday })).toEqual(granted('ok'));
    expect(
      decide({ plan: TWO_DAYS, at: '2026-03-04T10:00', daysUsed: ['2026-02-26', '2026-02-27', '2026-03-09'] }),
    ).toEqual(granted('ok'));
  });

  it('the same day listed twice is spent once, and malformed days are ignored', () => {
    expect(
      decide({
        plan: TWO_DAYS,
        at: '2026-03-04T10:00',
        daysUsed: ['2026-03-02', '2026-03-02', 'yesterday', '2026-13-40'],
      }),
    ).toEqual(granted('ok'));
  });

  it('the week turns at site-local midnight on Sunday night', () => {
    // 23:30 UTC on Sunday is already Monday 00:30 in Paris: a new week.
    expect(decide({ plan: TWO_DAYS, at: '2026-03-08T22:30Z', daysUsed: mondayAndTuesday })).toEqual(
      refused('quota_exhausted'),
    );
    expect(decide({ plan: TWO_DAYS, at: '2026-03-08T23:30Z', daysUsed: mondayAndTuesday })).toEqual(granted('ok'));
  });

  it('a member already inside is not refused for quota', () => {
    expect(decide({ plan: TWO_DAYS, at: '2026-03-04T10:00', daysUsed: mondayAndTuesday, inside: true })).toEqual(
      granted('ok'),
    );
  });
});

describe('decideAccess: capacity and anti-passback', () => {
  it('the last place is given, the next one is refused', () => {
    expect(decide({ occupancy: 19 })).toEqual(granted('ok'));
    expect(decide({ occupancy: 20 })).toEqual(refused('at_capacity'));
    expect(decide({ occupancy: 23 })).toEqual(refused('at_capacity'));
  });

  it('a member already inside a full site is not refused for capacity', () => {
    expect(decide({ occupancy: 20, inside: true })).toEqual(granted('ok'));
  });

  it('anti-passback refuses only a member already inside', () => {
    expect(decide({ site: { antiPassback: true }, inside: false })).toEqual(granted('ok'));
    expect(decide({ site: { antiPassback: true }, inside: true })).toEqual(refused('anti_passback'));
    expect(decide({ site: { antiPassback: false }, inside: true })).toEqual(granted('ok'));
  });

  it('with second-tap checkout, a second entry tap is a check-out and is granted', () => {
    expect(decide({ site: { antiPassback: true, secondTapChecksOut: true }, inside: true })).toEqual(granted('ok'));
  });

  it('a second-tap check-out is granted after hours, at a full site and with a lapsed membership', () => {
    const site = { antiPassback: true, secondTapChecksOut: true };
    expect(decide({ site, inside: true, at: '2026-03-04T19:15' })).toEqual(granted('ok'));
    expect(decide({ site, inside: true, occupancy: 25, member: { validUntil: '2026-03-03' } })).toEqual(granted('ok'));
  });

  it('with second-tap checkout, a first tap is still an entry under the usual rules', () => {
    expect(decide({ site: { secondTapChecksOut: true }, inside: false, at: '2026-03-04T19:15' })).toEqual(
      refused('outside_hours'),
    );
  });
});

describe('decideAccess: unsynced clock', () => {
  const unsynced = { clockSynced: false } as const;

  it('a 24/7 subscriber is admitted without looking at dates or quota', () => {
    const spec = {
      ...unsynced,
      plan: { ...ALWAYS, daysPerWeek: 1 },
      member: { validUntil: '2020-12-31' },
      daysUsed: ['2026-03-02'],
    };
    expect(decide(spec)).toEqual(granted('clock_unsynced_always_open'));
  });

  it('a plan whose windows cover the whole week in pieces counts as 24/7', () => {
    const pieces: WeeklyWindow[] = [
      { days: [...DAYS], from: '07:00', to: '21:00' },
      { days: [...DAYS], from: '21:00', to: '07:00' },
    ];
    expect(decide({ ...unsynced, plan: { access: pieces } })).toEqual(granted('clock_unsynced_always_open'));
  });

  it('a plan with windows short of the whole week waits for the clock', () => {
    const weekdays: WeeklyWindow[] = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '00:00', to: '24:00' }];
    expect(decide({ ...unsynced, plan: { access: weekdays } })).toEqual(refused('clock_unsynced'));
  });

  it('a cleaner on a staffed plan waits for the clock', () => {
    expect(decide({ ...unsynced, member: { role: 'cleaner' } })).toEqual(refused('clock_unsynced'));
  });

  it.each<[string, TapSpec, DenyReason]>([
    ['a suspended 24/7 subscriber', { member: { status: 'suspended' } }, 'member_suspended'],
    [
      'a 24/7 subscriber on a site their plan does not open',
      { plan: { ...ALWAYS, sites: ['reichstett'] } },
      'site_not_allowed',
    ],
    ['a 24/7 subscriber at a full site', { occupancy: 20 }, 'at_capacity'],
    [
      'a 24/7 subscriber already inside under anti-passback',
      { site: { antiPassback: true }, inside: true },
      'anti_passback',
    ],
    [
      'staff on a site their plan does not open',
      { member: STAFF, plan: { sites: ['reichstett'] } },
      'site_not_allowed',
    ],
  ])('without a clock the door still refuses %s', (_name, spec, reason) => {
    expect(decide({ ...unsynced, ...spec, plan: { ...ALWAYS, ...spec.plan } })).toEqual(refused(reason));
  });
});

describe('decideAccess: visitor day pass', () => {
  const pass = (day: string) => ({ role: 'visitor', validFrom: day, validUntil: day }) as const;

  it('a day pass opens from site-local midnight: 23:30 UTC the night before is already the day in Paris', () => {
    expect(decide({ member: pass('2026-03-04'), plan: ALWAYS, at: '2026-03-03T23:30Z' })).toEqual(granted('ok'));
    expect(decide({ member: pass('2026-03-04'), plan: ALWAYS, at: '2026-03-03T22:59Z' })).toEqual(refused('expired'));
  });

  it('a day pass ends at site-local midnight', () => {
    expect(decide({ member: pass('2026-03-04'), plan: ALWAYS, at: '2026-03-04T22:59Z' })).toEqual(granted('ok'));
    expect(decide({ member: pass('2026-03-04'), plan: ALWAYS, at: '2026-03-04T23:00Z' })).toEqual(refused('expired'));
  });

  it('in summer time the site-local day starts at 22:00 UTC', () => {
    expect(decide({ member: pass('2026-07-04'), plan: ALWAYS, at: '2026-07-03T22:00Z' })).toEqual(granted('ok'));
    expect(decide({ member: pass('2026-07-04'), plan: ALWAYS, at: '2026-07-03T21:59Z' })).toEqual(refused('expired'));
  });

  it('a day pass on a staffed plan opens during the day’s hours only', () => {
    expect(decide({ member: pass('2026-03-04'), at: '2026-03-04T09:00' })).toEqual(granted('ok'));
    expect(decide({ member: pass('2026-03-04'), at: '2026-03-05T09:00' })).toEqual(refused('expired'));
    expect(decide({ member: pass('2026-03-04'), at: '2026-03-04T07:00' })).toEqual(refused('outside_hours'));
  });
});

describe('decideAccess: closures and plan windows', () => {
  const christmas = { closures: [{ from: '2026-12-24', to: '2026-12-26', reason: 'Christmas' }] };

  it('a closure day refuses a staffed plan during the usual hours', () => {
    expect(decide({ site: christmas, at: '2026-12-24T10:00' })).toEqual(refused('outside_hours'));
    expect(decide({ site: christmas, at: '2026-12-23T10:00' })).toEqual(granted('ok'));
  });

  it('a closure day admits a 24/7 plan', () => {
    expect(decide({ site: christmas, plan: ALWAYS, at: '2026-12-25T06:00' })).toEqual(granted('ok'));
  });

  it('a closure day does not close a plan’s own windows', () => {
    const access: WeeklyWindow[] = [{ days: ['thu', 'fri'], from: '07:00', to: '20:00' }];
    expect(decide({ site: christmas, plan: { access }, at: '2026-12-24T19:00' })).toEqual(granted('ok'));
  });

  it('a cleaner follows the windows of their plan', () => {
    const early: WeeklyWindow[] = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '05:00', to: '08:00' }];
    const cleaner = { member: { role: 'cleaner' }, plan: { access: early } } as const;
    expect(decide({ ...cleaner, at: '2026-03-04T05:30' })).toEqual(granted('ok'));
    expect(decide({ ...cleaner, at: '2026-03-04T10:00' })).toEqual(refused('outside_hours'));
  });
});

describe('decideAccess: properties', () => {
  const ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];
  const hhmm = fc
    .integer({ min: 0, max: 24 * 60 })
    .map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
  const window = fc
    .record({ days: fc.subarray([...DAYS], { minLength: 1 }), from: hhmm, to: hhmm })
    .filter((w) => w.from !== w.to);
  const localDate = fc
    .integer({ min: 0, max: 500 })
    .map((n) => new Date(Date.UTC(2025, 11, 1) + n * 86_400_000).toISOString().slice(0, 10));
  const spanArb = fc
    .record({
      start: fc.integer({ min: Date.UTC(2025, 11, 1), max: Date.UTC(2027, 3, 1) }),
      minutes: fc.integer({ min: 1, max: 24 * 60 }),
    })
    .map(({ start, minutes }) => ({ start, end: start + minutes * 60_000 }));
  const requestArb: fc.Arbitrary<AccessRequest> = fc.record({
    now: fc.integer({ min: Date.UTC(2025, 11, 1), max: Date.UTC(2027, 3, 1) }),
    site: fc.record({
      id: fc.constantFrom('murat', 'reichstett'),
      timeZone: fc.constantFrom(...ZONES),
      capacity: fc.integer({ min: 0, max: 30 }),
      hours: fc.array(window, { maxLength: 3 }),
      closures: fc.array(fc.record({ from: localDate, to: fc.option(localDate, { nil: undefined }) }), {
        maxLength: 2,
      }),
      antiPassback: fc.boolean(),
      secondTapChecksOut: fc.boolean(),
    }),
    role: fc.constantFrom<ReaderRole>('entry', 'entry', 'exit', 'locker-bank', 'room'),
    badge: fc.option(
      fc.record({
        uid: fc.constant('04A2B3C4'),
        member: fc.constantFrom('alice', 'alice', 'bob'),
        status: fc.constantFrom('active', 'active', 'revoked'),
        type: fc.constantFrom('uid', 'uid', 'ntag424'),
      }),
      { nil: undefined, freq: 8 },
    ),
    card: fc.option(fc.constantFrom<CardCheck>('genuine', 'not_genuine', 'replayed'), { nil: undefined }),
    member: fc.option(
      fc.record({
        id: fc.constant('alice'),
        name: fc.constant('Alice'),
        role: fc.constantFrom(...ROLES),
        plan: fc.constantFrom('desk', 'desk', 'other'),
        status: fc.constantFrom('active', 'active', 'suspended'),
        validFrom: fc.option(localDate, { nil: undefined }),
        validUntil: fc.option(localDate, { nil: undefined }),
      }),
      { nil: undefined, freq: 8 },
    ),
    plan: fc.option(
      fc.record({
        id: fc.constant('desk'),
        name: fc.constant('Desk'),
        access: fc.oneof(
          fc.constant('always' as const),
          fc.constant('staffed' as const),
          fc.array(window, { minLength: 1, maxLength: 3 }),
        ),
        sites: fc.oneof(fc.constant('all' as const), fc.subarray(['murat', 'reichstett', 'soho'], { minLength: 1 })),
        daysPerWeek: fc.option(fc.integer({ min: 1, max: 7 }), { nil: undefined }),
        lockers: fc.boolean(),
        bookingRequired: fc.option(fc.boolean(), { nil: undefined }),
      }),
      { nil: undefined, freq: 8 },
    ),
    presence: fc.record({ inside: fc.boolean(), occupancy: fc.integer({ min: 0, max: 40 }) }),
    daysUsedThisWeek: fc.array(fc.oneof(localDate, fc.string()), { maxLength: 8 }),
    clockSynced: fc.boolean(),
    roomBookings: fc.array(spanArb, { maxLength: 2 }),
    siteBookings: fc.array(spanArb, { maxLength: 2 }),
  });

  it('the generated requests are valid directory entries', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        if (req.badge) Badge.parse(req.badge);
        if (req.member) Member.parse(req.member);
        if (req.plan) Plan.parse(req.plan);
      }),
    );
  });

  it('decideAccess never throws and grants exactly with a grant reason', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        const decision = decideAccess(req);
        expect(DecisionReason.options).toContain(decision.reason);
        expect((GRANT_REASONS as readonly string[]).includes(decision.reason)).toBe(decision.granted);
      }),
      { numRuns: 500 },
    );
  });

  it('a granted tap always has an active badge held by an active member', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        if (!decideAccess(req).granted) return;
        expect(req.badge?.status).toBe('active');
        if (req.badge?.type === 'ntag424') expect(req.card).toBe('genuine');
        expect(req.member?.status).toBe('active');
        expect(req.member?.id).toBe(req.badge?.member);
      }),
      { numRuns: 500 },
    );
  });

  it('staff are never refused for hours, capacity, quota or bookings, which do refuse the same taps by others', () => {
    const exempt: readonly string[] = [
      'outside_hours',
      'at_capacity',
      'quota_exhausted',
      'booking_required',
      'no_booking',
    ];
    let othersRefused = 0;
    fc.assert(
      fc.property(requestArb, (req) => {
        const asRole = (role: Member['role']) => (req.member ? { ...req, member: { ...req.member, role } } : req);
        expect(exempt).not.toContain(decideAccess(asRole('staff')).reason);
        if (exempt.includes(decideAccess(asRole('member')).reason)) othersRefused++;
      }),
      // Few random requests refuse a member for these reasons: 2,000 runs make the count below
      // certain in practice (one CI run of 500 found none).
      { numRuns: 2000 },
    );
    expect(othersRefused).toBeGreaterThan(0);
  });

  it('the exit reader refuses only unknown, revoked or unproven badges and suspended members', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        const decision = decideAccess({ ...req, role: 'exit' });
        if (!decision.granted)
          expect(['unknown_badge', 'badge_revoked', 'card_not_genuine', 'card_replayed', 'member_suspended']).toContain(
            decision.reason,
          );
      }),
      { numRuns: 300 },
    );
  });

  it('without a clock no decision rests on the date', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        const letOut =
          req.role === 'exit' || (req.role === 'entry' && req.site.secondTapChecksOut && req.presence.inside);
        fc.pre(!letOut); // letting people out does not depend on the clock
        const { reason } = decideAccess({ ...req, clockSynced: false });
        expect(['outside_hours', 'quota_exhausted', 'ok', 'booking', 'no_booking', 'booking_required']).not.toContain(
          reason,
        );
        if (reason === 'expired') expect(req.plan?.id === req.member?.plan).toBe(false); // only a missing plan
      }),
      { numRuns: 300 },
    );
  });
});
