import { z } from 'zod';
import { defineRoute } from './common.js';

/**
 * iCalendar feeds (RFC 5545) of a room's bookings or of a member's own, behind an unguessable
 * token (cloud-sync/hub/calendar/): the feed's address is all a calendar application needs, so
 * it is handed out once and can be revoked. docs/hub.md "Calendar feeds".
 */

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'expected an id' });

/** The language of a feed's texts: a room feed's "Booked" / "Réservé". */
export const FEED_LANGUAGES = ['en', 'fr'] as const;
export const FeedLanguage = z.enum(FEED_LANGUAGES);
export type FeedLanguage = z.infer<typeof FeedLanguage>;

export const NewCalendarFeed = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('room'), resource: Id, lang: FeedLanguage.default('en') }),
  z.strictObject({ kind: z.literal('member'), member: Id, lang: FeedLanguage.default('en') }),
]);
export type NewCalendarFeed = z.infer<typeof NewCalendarFeed>;

export const CalendarFeed = z.object({
  /** What `DELETE /calendar-feeds/:id` revokes it by: the SHA-256 of its token, never the token. */
  id: z.string(),
  kind: z.enum(['room', 'member']),
  /** The resource or the member it shows. */
  ref: z.string(),
  /** The feed's path on this hub, token included: shown once, the hub keeps only its hash. */
  url: z.string(),
});
export type CalendarFeed = z.infer<typeof CalendarFeed>;

const FeedParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected a feed id' }) });
/** A feed's token is 32 random bytes, base64url (43 characters); the auth hook lets this path through (auth/register.ts). */
const FileParams = z.strictObject({
  file: z.string().regex(/^[A-Za-z0-9_-]{43}\.ics$/, { error: 'expected a feed token and ".ics"' }),
});

const calendar = { tags: ['calendar'] as const };

export const CalendarRoutes = {
  create: defineRoute({
    ...calendar,
    method: 'POST',
    url: '/calendar-feeds',
    operationId: 'createCalendarFeed',
    summary:
      "A feed of a room's bookings (operator, the room's site manager) or of a member's own (the member, staff in scope)",
    body: NewCalendarFeed,
    response: { 201: CalendarFeed },
    errors: ['auth.forbidden', 'not_found'],
    selfService: true,
  }),
  revoke: defineRoute({
    ...calendar,
    method: 'DELETE',
    url: '/calendar-feeds/:id',
    operationId: 'revokeCalendarFeed',
    summary: 'Revoke a feed: its address answers 404 from now on (whoever may create it)',
    params: FeedParams,
    response: { 204: null },
    errors: ['auth.forbidden', 'not_found'],
    selfService: true,
  }),
  feed: defineRoute({
    ...calendar,
    method: 'GET',
    url: '/calendar/:file',
    operationId: 'getCalendarFeed',
    summary: 'A feed, from 30 days ago to 180 days ahead (no session: the token is the key)',
    params: FileParams,
    querystring: z.object({ lang: FeedLanguage.default('en') }),
    response: {},
    produces: { 'text/calendar': { description: 'an iCalendar (RFC 5545) VCALENDAR of VEVENTs' } },
    errors: ['not_found'],
    public: true,
  }),
};
