import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { SelfServiceRoutes as Routes, type StaffPage } from '../../../shared/protocol/api/hub-self-service.js';
import { Member } from '../../../shared/protocol/directory.js';
import type { Sql } from '../db.js';
import { sqlDialect } from '../storage/dialect.js';
import { ownEmployer, type SelfServiceDeps } from './deps.js';
import { DEFAULT_WEEK_ZONE } from './me-routes.js';
import { bySite, distinctDates, siteZones, visitDays } from './visits.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The members the employer pays for, by id: the directory's own index on a member's employer (PostgreSQL). */
async function staffOf(q: Sql, employer: string): Promise<Member[]> {
  const values = await q.column<string>(
    `SELECT value FROM directory_entities WHERE entity = 'member' AND deleted = 0 AND ${sqlDialect(q).jsonText('value', 'employer')} = ? ORDER BY id`,
    [employer],
  );
  return values.map((v) => Member.parse(JSON.parse(v)));
}

/**
 * An employer's manager's view of their staff (`GET /employer/staff`): each member of the
 * employer with their days this month by site, and their last visit in 30 days. The month is
 * Europe/Paris's; each day is dated at its own site. Only the account's own employer is read.
 * The employer's invoices are billing's (cloud-sync/billing/api.ts).
 */
export function registerEmployerRoutes(app: FastifyInstance, deps: SelfServiceDeps): void {
  serve(app, Routes.staff, async (req): Promise<StaffPage> => {
    const employerId = ownEmployer(req);
    const { db } = deps;
    const employer = await deps.directory.get(db, 'employer', employerId);
    if (!employer)
      throw new TesseraError('not_found', 'your employer is gone from the directory: ask the network’s staff');
    const staff = await staffOf(db, employerId);
    const now = deps.clock.now();
    const monthStart = DateTime.fromMillis(now, { zone: DEFAULT_WEEK_ZONE }).startOf('month');
    const month = monthStart.toFormat('yyyy-MM');
    const zones = await siteZones(db, deps.sites);
    const from = Math.min(monthStart.toMillis(), now - 30 * DAY_MS) - DAY_MS;
    const days = await visitDays(
      db,
      zones,
      staff.map((m) => m.id),
      from,
      now,
    );
    const recent = new Date(now - 30 * DAY_MS).toISOString().slice(0, 10);
    return {
      employer: { id: employer.id, name: employer.name },
      month,
      staff: staff.map((m) => {
        const own = days.filter((v) => v.member === m.id);
        const inMonth = own.filter((v) => v.date.startsWith(month));
        const last = distinctDates(own)
          .filter((d) => d >= recent)
          .at(-1);
        return {
          id: m.id,
          name: m.name,
          status: m.status,
          plan: m.plan,
          month: bySite(inMonth, zones),
          daysThisMonth: distinctDates(inMonth).length,
          lastVisit: last ?? null,
        };
      }),
    };
  });
}
