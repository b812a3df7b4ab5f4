import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import type { BillingLedger } from '../billing/ledger.js';
import { registerEmployerInvoiceRoutes } from '../billing/api.js';
import type { AuditLog } from '../hub/admin/index.js';
import type { HubAuth } from '../hub/auth/index.js';
import type { OccupancyNow } from '../hub/bookings/availability.js';
import { NoShowSweeper } from '../hub/bookings/no-show.js';
import { registerBookingRoutes } from '../hub/bookings/routes.js';
import { BookingStore } from '../hub/bookings/store.js';
import { registerCalendarRoutes } from '../hub/calendar/routes.js';
import type { HubDb } from '../hub/db.js';
import type { HubDirectory } from '../hub/directory.js';
import { Mailer, registerSelfServiceRoutes, type MailSettings } from '../hub/self-service/index.js';
import type { HubSites } from '../hub/sites.js';

/** What the members' and employers' services are built on (from createHub). */
export interface MemberServicesDeps {
  db: HubDb;
  directory: HubDirectory;
  sites: HubSites;
  audit: AuditLog;
  auth: HubAuth;
  billing: BillingLedger;
  clock: Clock;
  log: Logger;
  onDirectoryChange: () => void;
  occupancyNow: OccupancyNow;
  /** Where people reach the hub, for the links it hands out; else the request's host. */
  publicUrl?: string | undefined;
  mail?: MailSettings | undefined;
}

/**
 * The services a member or an employer's manager uses, and the operator's side of them:
 * invitations and the self-service pages, the employer's invoices, resources, bookings and their
 * availability, calendar feeds, and the no-show release. Returns what createHub starts and stops.
 */
export function registerMemberServices(
  api: FastifyInstance,
  deps: MemberServicesDeps,
): { noShows: NoShowSweeper; close: () => void } {
  const { db, directory, sites, audit, clock, onDirectoryChange } = deps;
  const publicUrl = deps.publicUrl?.replace(/\/+$/, '');
  const linkBase = publicUrl !== undefined ? { publicUrl } : {};
  const mailer = deps.mail ? new Mailer(deps.mail, deps.log.child({ module: 'mail' })) : undefined;
  registerEmployerInvoiceRoutes(api, deps.billing);
  registerSelfServiceRoutes(api, {
    db,
    directory,
    sites,
    audit,
    auth: deps.auth,
    clock,
    log: deps.log.child({ module: 'self-service' }),
    onDirectoryChange,
    ...(mailer ? { mailer } : {}),
    ...linkBase,
  });
  const now = () => clock.now();
  registerBookingRoutes(api, { db, directory, sites, audit, now, onDirectoryChange, occupancyNow: deps.occupancyNow });
  registerCalendarRoutes(api, { ...linkBase, db, bookings: new BookingStore(), sites, directory, now });
  const noShows = new NoShowSweeper({
    db,
    directory,
    clock,
    log: deps.log.child({ module: 'bookings' }),
    onDirectoryChange,
  });
  return { noShows, close: () => mailer?.close() };
}
