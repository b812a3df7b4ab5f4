import { z } from 'zod';
import { SITE_ID_PATTERN } from './topics.js';
import { WeeklyWindow } from './schedule.js';

/**
 * What can be booked at a site, and the bookings a door must know. Both are directory entities:
 * the hub declares them and sends each site its own, signed, like members and badges; a room's
 * reader decides from them offline. Instants travel as ISO 8601 UTC strings; what a member asks
 * for in the site's wall-clock time is turned into instants by the time-zone library at the hub.
 */
const Id = z.string({ error: 'expected an id' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  error: 'expected an id of letters, digits, ".", "_" or "-" (at most 64)',
});
const SiteId = z.string().regex(SITE_ID_PATTERN, { error: 'expected a site id' });

export const RESOURCE_KINDS = ['desk-pool', 'desk', 'room'] as const;
export const ResourceKind = z.enum(RESOURCE_KINDS);
export type ResourceKind = z.infer<typeof ResourceKind>;

/** What a booking of the resource costs before the plan's allowances (cents, excluding VAT). */
export const ResourcePrices = z.strictObject({
  /** A room: per started hour. */
  hourCents: z.number().int().nonnegative().max(10_000_000).optional(),
  /** A room: a booking of at most `halfDayMinutes` costs this when it is less than the hours. */
  halfDayCents: z.number().int().nonnegative().max(10_000_000).optional(),
  halfDayMinutes: z.number().int().min(30).max(720).default(240),
  /** A desk or a desk pool: per booked day. */
  dayCents: z.number().int().nonnegative().max(10_000_000).optional(),
});
export type ResourcePrices = z.infer<typeof ResourcePrices>;

export const Resource = z
  .strictObject({
    id: Id,
    site: SiteId,
    kind: ResourceKind,
    name: z.string().min(1).max(200),
    /** A desk pool: how many desks it holds (never more bookings at once). */
    size: z.number().int().min(1).max(10_000).optional(),
    /** A room: how many people it seats. */
    capacity: z.number().int().min(1).max(1000).optional(),
    /** A room: the id of the reader at its door in the site's config, when it has one. */
    reader: z.string().min(1).max(64).optional(),
    /** When it may be booked, in the site's own time zone. */
    hours: z.array(WeeklyWindow).min(1),
    /** The plans whose members may book it. */
    plans: z.union([z.literal('all'), z.array(Id).min(1)]).default('all'),
    prices: ResourcePrices.optional(),
    /** A booking cancelled later than this many hours before its start is billed (a late cancellation). */
    freeCancellationHours: z.number().int().min(0).max(720).default(24),
    /** A room booking is released (a no-show, billed) when its holder has not tapped at the site or the room's reader this many minutes after its start. */
    noShowMinutes: z.number().int().min(5).max(240).default(15),
  })
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (r.kind === 'desk-pool' && r.size === undefined) issue('size', 'a desk pool needs its size');
    if (r.kind !== 'desk-pool' && r.size !== undefined) issue('size', 'only a desk pool has a size');
    if (r.kind === 'room' && r.capacity === undefined) issue('capacity', 'a room needs its capacity');
    if (r.kind !== 'room' && r.capacity !== undefined) issue('capacity', 'only a room has a capacity');
    if (r.kind !== 'room' && r.reader !== undefined) issue('reader', 'only a room has a reader of its own');
  });
export type Resource = z.infer<typeof Resource>;

/** An instant, ISO 8601 with an offset (`Z` as the hub writes it). */
export const Instant = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 instant with an offset' });

/**
 * A confirmed booking as the directory carries it: who holds which resource from `start` to
 * `end` (end exclusive). A cancelled or released booking leaves the directory (a delete), like
 * a revoked badge.
 */
export const Booking = z
  .strictObject({
    id: Id,
    resource: Id,
    site: SiteId,
    member: Id,
    start: Instant,
    end: Instant,
  })
  .refine((b) => Date.parse(b.end) > Date.parse(b.start), { error: 'a booking ends after it starts', path: ['end'] });
export type Booking = z.infer<typeof Booking>;

/** Minutes either side of a booking during which its room's reader still opens for the holder. */
export const BOOKING_GRACE_MINUTES = 15;
