import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { HubBookingRoutes as Routes, type BookingRecord } from '../../../shared/protocol/api/hub-bookings.js';
import type { AuditLog } from '../admin/audit.js';
import type { HubDb, Sql } from '../db.js';
import type { HubDirectory } from '../directory.js';
import type { HubSites } from '../sites.js';
import { visibleBookings } from './access.js';
import { availability, type OccupancyNow } from './availability.js';
import { HubBookings } from './bookings.js';
import { HubResources } from './resources.js';
import { DAY_MS } from './rules.js';
import { BookingStore, type BookingRow } from './store.js';

/** What the bookings routes work on (wired in createHub). */
export interface BookingRoutesDeps {
  db: HubDb;
  directory: HubDirectory;
  sites: HubSites;
  audit: AuditLog;
  now: () => number;
  /** Called after each committed change: sends every site its delta. */
  onDirectoryChange: () => void;
  /** Who is in at each site now: the hub's live occupancy. */
  occupancyNow: OccupancyNow;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A booking as the API shows it. */
export const bookingRecord = (b: BookingRow): BookingRecord => ({
  id: b.id,
  resource: b.resource,
  site: b.site,
  member: b.member,
  start: iso(b.startMs),
  end: iso(b.endMs),
  status: b.status,
  lateCancellation: b.lateCancellation,
  cancelledAt: b.cancelledAt === null ? null : iso(b.cancelledAt),
  createdBy: b.createdBy,
  createdAt: iso(b.createdAt),
  updatedAt: iso(b.updatedAt),
});
/** A member's bookings of every status, oldest first, as the API shows them: what their export carries. */
export const bookingsOfMember = async (q: Sql, member: string): Promise<BookingRecord[]> =>
  (await new BookingStore().forMember(q, member, 0, Number.MAX_SAFE_INTEGER)).map(bookingRecord);

/** The longest window a list of bookings covers. */
const MAX_LIST_DAYS = 92;

/**
 * Resources (`/resources`) and bookings (`/bookings`) at the hub (docs/bookings.md). Each
 * handler scopes what it shows and changes to the account (bookings/access.ts).
 */
export function registerBookingRoutes(app: FastifyInstance, deps: BookingRoutesDeps): void {
  const resources = new HubResources(deps.db, deps.directory, deps.audit, deps.now);
  const store = new BookingStore();
  const bookings = new HubBookings({ ...deps, store });
  const changed = <T>(r: T): T => {
    deps.onDirectoryChange();
    return r;
  };

  serve(app, Routes.listResources, async (req) => ({ items: await resources.list(req.account, req.query.site) }));
  serve(app, Routes.putResource, async (req) => changed(await resources.put(req.account, req.params.id, req.body)));
  serve(app, Routes.removeResource, async (req, reply) => {
    changed(await resources.remove(req.account, req.params.id));
    return reply.code(204).send();
  });

  serve(app, Routes.listBookings, async (req) => {
    const fromMs = req.query.from === undefined ? deps.now() : Date.parse(req.query.from);
    const toMs = req.query.to === undefined ? fromMs + 31 * DAY_MS : Date.parse(req.query.to);
    if (toMs <= fromMs || toMs - fromMs > MAX_LIST_DAYS * DAY_MS)
      throw new TesseraError('request.invalid', `"to" comes after "from", at most ${MAX_LIST_DAYS} days later`, [
        { path: 'to', message: `after "from", at most ${MAX_LIST_DAYS} days later` },
      ]);
    const sites = (await deps.sites.list(deps.db)).map((s) => s.id);
    const visible = await visibleBookings(deps.db, req.account, sites, req.query);
    const rows = await store.inWindow(deps.db, visible.by, fromMs, toMs);
    return { items: rows.filter(visible.keeps).map(bookingRecord) };
  });
  serve(app, Routes.book, async (req, reply) =>
    reply.code(201).send({ item: bookingRecord(await bookings.book(req.account, req.body)) }),
  );
  serve(app, Routes.move, async (req) => ({
    item: bookingRecord(await bookings.move(req.account, req.params.id, req.body)),
  }));
  serve(app, Routes.cancel, async (req) => ({
    item: bookingRecord(await bookings.cancel(req.account, req.params.id)),
  }));

  serve(app, Routes.availability, async (req) => {
    const { site, ...ask } = req.query;
    const sites = (await deps.sites.list(deps.db)).filter((s) => site === undefined || s.id === site);
    return { sites: await availability(deps.db, sites, ask, deps.now(), deps.occupancyNow) };
  });
}
