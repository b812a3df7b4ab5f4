import { z } from 'zod';
import { BadgeUid } from './badge.js';
import { Booking, Resource } from './bookings.js';
import { LocalDate, WeeklyWindow } from './schedule.js';

/**
 * The directory: who may enter where, and on what terms. The hub owns it; a site holds the part
 * it needs. A standalone site reads the same shape from a local YAML or JSON file.
 */
const Id = z.string({ error: 'expected an id' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  error: 'expected an id of letters, digits, ".", "_" or "-" (at most 64)',
});

export const Plan = z.strictObject({
  id: Id,
  name: z.string().min(1).max(200),
  /** When the plan opens doors: at all hours, during the site's staffed hours, or given windows. */
  access: z.union([z.literal('always'), z.literal('staffed'), z.array(WeeklyWindow).min(1)]),
  /** `all`, or the ids of the sites this plan opens. */
  sites: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
  /** Distinct site-local days a member may come per ISO week (Mon-Sun); absent = no limit. */
  daysPerWeek: z.number().int().min(1).max(7).optional(),
  lockers: z.boolean().default(false),
  printQuota: z.number().int().nonnegative().optional(),
  /** Its members are let in at an entry only on a site-local day they hold a booking at that site. */
  bookingRequired: z.boolean().optional(),
});
export type Plan = z.infer<typeof Plan>;

export const ROLES = ['member', 'staff', 'cleaner', 'visitor'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const Member = z.strictObject({
  id: Id,
  name: z.string().min(1).max(200),
  role: Role.default('member'),
  plan: Id,
  employer: Id.optional(),
  status: z.enum(['active', 'suspended']).default('active'),
  /** First and last site-local day the membership (or a visitor's day pass) is valid, inclusive. */
  validFrom: LocalDate.optional(),
  validUntil: LocalDate.optional(),
  /** The member's own locker in an `assigned` bank. */
  locker: z.strictObject({ bank: Id, number: z.number().int().min(1) }).optional(),
  /**
   * Held for an overdue bill: entries and room doors refuse the member with `payment_overdue`.
   * A hub sets it on what it sends (never stored with the member, absent when not held); a
   * standalone site's directory file may set it by hand.
   */
  billingHold: z.literal(true).optional(),
});
export type Member = z.infer<typeof Member>;

export const Badge = z.strictObject({
  uid: BadgeUid,
  member: Id,
  status: z.enum(['active', 'revoked']).default('active'),
  /** `uid`: any card, identified by its UID alone (cloneable). `ntag424`: an NTAG 424 DNA card checked cryptographically at each tap. */
  type: z.enum(['uid', 'ntag424']).default('uid'),
});
export type Badge = z.infer<typeof Badge>;

export const Employer = z.strictObject({ id: Id, name: z.string().min(1).max(200) });
export type Employer = z.infer<typeof Employer>;

export const Directory = z
  .strictObject({
    revision: z.number().int().nonnegative().default(0),
    plans: z.array(Plan).default([]),
    employers: z.array(Employer).default([]),
    members: z.array(Member).default([]),
    badges: z.array(Badge).default([]),
    /** The site's bookable desks and rooms. */
    resources: z.array(Resource).default([]),
    /** The confirmed bookings of the site's resources that a door may still need. */
    bookings: z.array(Booking).default([]),
  })
  .superRefine((dir, ctx) => {
    const unique = (
      kind: 'plans' | 'employers' | 'members' | 'badges' | 'resources' | 'bookings',
      key: (x: never) => string,
    ) => {
      const seen = new Set<string>();
      (dir[kind] as never[]).forEach((item, i) => {
        const k = key(item);
        if (seen.has(k))
          ctx.addIssue({
            code: 'custom',
            path: [kind, i],
            message: `duplicate ${kind.slice(0, -1)} ${JSON.stringify(k)}`,
          });
        seen.add(k);
      });
    };
    unique('plans', (p: Plan) => p.id);
    unique('employers', (e: Employer) => e.id);
    unique('members', (m: Member) => m.id);
    unique('badges', (b: Badge) => b.uid);
    unique('resources', (r: Resource) => r.id);
    unique('bookings', (b: Booking) => b.id);
    const plans = new Set(dir.plans.map((p) => p.id));
    const employers = new Set(dir.employers.map((e) => e.id));
    const members = new Set(dir.members.map((m) => m.id));
    dir.members.forEach((m, i) => {
      if (!plans.has(m.plan))
        ctx.addIssue({
          code: 'custom',
          path: ['members', i, 'plan'],
          message: `no plan with id ${JSON.stringify(m.plan)}`,
        });
      if (m.employer !== undefined && !employers.has(m.employer))
        ctx.addIssue({
          code: 'custom',
          path: ['members', i, 'employer'],
          message: `no employer with id ${JSON.stringify(m.employer)}`,
        });
      if (m.validFrom && m.validUntil && m.validUntil < m.validFrom)
        ctx.addIssue({ code: 'custom', path: ['members', i, 'validUntil'], message: 'validUntil is before validFrom' });
    });
    dir.badges.forEach((b, i) => {
      if (!members.has(b.member))
        ctx.addIssue({
          code: 'custom',
          path: ['badges', i, 'member'],
          message: `no member with id ${JSON.stringify(b.member)}`,
        });
    });
    const resources = new Set(dir.resources.map((r) => r.id));
    dir.bookings.forEach((b, i) => {
      if (!resources.has(b.resource))
        ctx.addIssue({
          code: 'custom',
          path: ['bookings', i, 'resource'],
          message: `no resource with id ${JSON.stringify(b.resource)}`,
        });
    });
  });
export type Directory = z.infer<typeof Directory>;
