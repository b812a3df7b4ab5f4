import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { CalendarRoutes as Routes } from '../../../shared/protocol/api/hub-calendar.js';
import { maySeeSite } from '../auth/account.js';
import type { Sql } from '../db.js';
import { DirectoryScope } from '../admin/scope.js';
import { CalendarFeeds, feedCalendar, resourceOf, type FeedKind, type FeedSources } from './feeds.js';
import { writeCalendar } from './ics.js';
import { publicBase } from '../public-url.js';

export interface CalendarDeps extends FeedSources {
  db: Sql;
  now: () => number;
  /** The hub's public URL, when configured: the base of the feed's address (else the request's host). */
  publicUrl?: string;
}

const forbidden = (message: string) => new TesseraError('auth.forbidden', message);
const notFound = (message: string) => new TesseraError('not_found', message);

/**
 * Who may hand out (and revoke) a feed. A room's: an operator, or a manager of the room's site.
 * A member's: the member's own account, or staff who may see the member (an operator; a site
 * manager whose sites the member's plan opens). An employer's manager: neither (what the staff
 * book is theirs to share). Throws 404 for what does not exist, 403 for what is not the account's.
 */
async function ensureMayShare(req: FastifyRequest, deps: CalendarDeps, kind: FeedKind, ref: string): Promise<void> {
  const account = req.account;
  if (kind === 'room') {
    const room = await resourceOf(deps.db, ref);
    if (!room || room.kind !== 'room') throw notFound(`no room ${JSON.stringify(ref)}`);
    if (account.role === 'operator' || (account.role === 'site_manager' && maySeeSite(account, room.site))) return;
    throw forbidden(`this account does not manage the site of room ${JSON.stringify(ref)}`);
  }
  if (account.role === 'member') {
    if (account.member === ref) return;
    throw forbidden("a member's account shares only its own bookings");
  }
  if (account.role !== 'operator' && account.role !== 'site_manager')
    throw forbidden("only the member or the network's staff may share a member's bookings");
  const member = await deps.directory.get(deps.db, 'member', ref);
  const plan = member && (await deps.directory.get(deps.db, 'plan', member.plan));
  const scope = new DirectoryScope(account, deps.directory, deps.db);
  if (!member || (!scope.everything && !(plan && scope.planInScope(plan))))
    throw notFound(`no member ${JSON.stringify(ref)}`);
}

/** `POST /calendar-feeds`, `DELETE /calendar-feeds/:id`, and the public `GET /calendar/<token>.ics`. */
export function registerCalendarRoutes(app: FastifyInstance, deps: CalendarDeps): void {
  const feeds = new CalendarFeeds();

  serve(app, Routes.create, async (req, reply) => {
    const body = req.body;
    const ref = body.kind === 'room' ? body.resource : body.member;
    await ensureMayShare(req, deps, body.kind, ref);
    const { token, row } = await feeds.create(deps.db, body.kind, ref, req.account.id, deps.now());
    const url = `${publicBase(req, deps.publicUrl)}/calendar/${token}.ics${body.lang === 'en' ? '' : `?lang=${body.lang}`}`;
    return reply.status(201).send({ id: row.id, kind: row.kind, ref: row.ref, url });
  });

  serve(app, Routes.revoke, async (req, reply) => {
    const row = await feeds.get(deps.db, req.params.id);
    if (!row) throw notFound('no such calendar feed');
    await ensureMayShare(req, deps, row.kind, row.ref);
    await feeds.revoke(deps.db, row.id, deps.now());
    return reply.status(204).send();
  });

  serve(app, Routes.feed, async (req, reply) => {
    const token = req.params.file.slice(0, -'.ics'.length);
    const feed = await feeds.open(deps.db, token);
    const calendar = feed && (await feedCalendar(deps.db, deps, feed, req.query.lang, deps.now()));
    // One answer for a token never given, a revoked one, and one whose room or member is gone.
    if (!calendar) throw notFound('no such calendar feed');
    return reply
      .header('content-type', 'text/calendar; charset=utf-8')
      .header('cache-control', 'private, max-age=300')
      .send(writeCalendar(calendar));
  });
}
