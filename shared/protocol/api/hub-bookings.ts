import { z } from 'zod';
import { Instant, Resource } from '../bookings.js';
import { LocalDate, TimeOfDay } from '../schedule.js';
import { defineRoute, SiteId } from './common.js';

/**
 * Resources, bookings and availability at the hub (cloud-sync/hub/bookings/, docs/bookings.md).
 * Every route is open to members' and employers' managers' accounts too (`selfService`): the
 * handler shows and changes only what is theirs. Wall times are the site's own; instants travel
 * as ISO 8601 UTC.
 */
const Id = z.string().min(1).max(64);
export const IdParams = z.strictObject({ id: Id });

export const ResourceListQuery = z.strictObject({ site: SiteId.optional() });
export const ResourceList = z.strictObject({ items: z.array(Resource) });
/** PUT: the resource without its id (the path's); checked against Resource, each field at fault named. */
export const ResourceBody = z.record(z.string(), z.unknown()).describe('site, kind, name, hours, plans, …');
export const ResourceItem = z.strictObject({ item: Resource, revision: z.number().int() });

export const BOOKING_STATUSES = ['confirmed', 'cancelled', 'no_show'] as const;

/** A booking as the API shows it. */
export const BookingRecord = z.strictObject({
  id: z.string(),
  resource: z.string(),
  site: z.string(),
  member: z.string(),
  start: Instant,
  end: Instant,
  status: z.enum(BOOKING_STATUSES),
  /** Cancelled later than the resource's free-cancellation hours before its start: billed. */
  lateCancellation: z.boolean(),
  cancelledAt: Instant.nullable(),
  createdBy: z.string(),
  createdAt: Instant,
  updatedAt: Instant,
});
export type BookingRecord = z.infer<typeof BookingRecord>;

/** `from` to `to` on `date`, in the resource's site's wall-clock time (`to` 24:00: midnight after). */
export const BookingWhen = {
  date: LocalDate,
  from: TimeOfDay,
  to: TimeOfDay,
};
export const NewBooking = z.strictObject({
  resource: Id,
  /** Whom it is for: a member's own account leaves it out (themselves). */
  member: Id.optional(),
  ...BookingWhen,
});
export type NewBooking = z.infer<typeof NewBooking>;
/** A move: to another time, and maybe another resource; the holder stays. */
export const BookingMove = z.strictObject({ resource: Id.optional(), ...BookingWhen });
export type BookingMove = z.infer<typeof BookingMove>;

export const BookingListQuery = z.strictObject({
  site: SiteId.optional(),
  member: Id.optional(),
  /** Bookings ending after this instant (default: now). */
  from: Instant.optional(),
  /** Bookings starting before this instant (default: `from` + 31 days; at most 92 days after `from`). */
  to: Instant.optional(),
});
export const BookingList = z.strictObject({ items: z.array(BookingRecord) });
export const BookingItem = z.strictObject({ item: BookingRecord });

export const AvailabilityQuery = z.strictObject({
  date: LocalDate,
  from: TimeOfDay,
  to: TimeOfDay,
  site: SiteId.optional(),
});
export const SiteAvailability = z.strictObject({
  site: z.string(),
  name: z.string(),
  timeZone: z.string(),
  /** Desks free for the whole window: pools' free places plus named desks not booked. */
  freeDesks: z.number().int().nonnegative(),
  /** Rooms with no booking in the window. */
  freeRooms: z.array(z.strictObject({ id: z.string(), name: z.string(), capacity: z.number().int() })),
  /** Who is in now, live; capacity null when the site has none known. */
  occupancy: z.strictObject({ present: z.number().int().nonnegative(), capacity: z.number().int().nullable() }),
});
export type SiteAvailability = z.infer<typeof SiteAvailability>;
export const Availability = z.strictObject({ sites: z.array(SiteAvailability) });
export type Availability = z.infer<typeof Availability>;

export const HubBookingRoutes = {
  listResources: defineRoute({
    method: 'GET',
    url: '/resources',
    operationId: 'listResources',
    tags: ['bookings'],
    summary: "The bookable resources (a site manager: their sites'; a member or manager: those they may see)",
    querystring: ResourceListQuery,
    response: { 200: ResourceList },
    selfService: true,
  }),
  putResource: defineRoute({
    method: 'PUT',
    url: '/resources/:id',
    operationId: 'putResource',
    tags: ['bookings'],
    summary: "Declare or replace a resource (operator, or a manager of the resource's site)",
    params: IdParams,
    body: ResourceBody,
    response: { 200: ResourceItem },
    errors: ['not_found', 'conflict'],
  }),
  removeResource: defineRoute({
    method: 'DELETE',
    url: '/resources/:id',
    operationId: 'deleteResource',
    tags: ['bookings'],
    summary: 'Remove a resource with no booking to come',
    params: IdParams,
    response: { 204: null },
    errors: ['not_found', 'conflict'],
  }),
  listBookings: defineRoute({
    method: 'GET',
    url: '/bookings',
    operationId: 'listBookings',
    tags: ['bookings'],
    summary: 'Bookings in a window (each account: those it may see)',
    querystring: BookingListQuery,
    response: { 200: BookingList },
    selfService: true,
  }),
  book: defineRoute({
    method: 'POST',
    url: '/bookings',
    operationId: 'createBooking',
    tags: ['bookings'],
    summary: 'Book a resource (for oneself, a member of the employer, or one in scope)',
    body: NewBooking,
    response: { 201: BookingItem },
    errors: ['not_found', 'conflict'],
    selfService: true,
  }),
  move: defineRoute({
    method: 'PATCH',
    url: '/bookings/:id',
    operationId: 'moveBooking',
    tags: ['bookings'],
    summary: 'Move a confirmed booking to another time or resource',
    params: IdParams,
    body: BookingMove,
    response: { 200: BookingItem },
    errors: ['not_found', 'conflict'],
    selfService: true,
  }),
  cancel: defineRoute({
    method: 'POST',
    url: '/bookings/:id/cancel',
    operationId: 'cancelBooking',
    tags: ['bookings'],
    summary: 'Cancel a booking (billed when later than the free-cancellation hours)',
    params: IdParams,
    response: { 200: BookingItem },
    errors: ['not_found', 'conflict'],
    selfService: true,
  }),
  availability: defineRoute({
    method: 'GET',
    url: '/availability',
    operationId: 'availability',
    tags: ['bookings'],
    summary: "Each site's free desks and rooms for a window of a site-local day, and who is in now",
    querystring: AvailabilityQuery,
    response: { 200: Availability },
    selfService: true,
  }),
};
