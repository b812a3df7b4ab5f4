import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { SelfServiceRoutes as Routes, type MyPage } from '../../../shared/protocol/api/hub-self-service.js';
import { maskUid, normalizeUid } from '../../../shared/protocol/badge.js';
import type { Badge, Plan } from '../../../shared/protocol/directory.js';
import { localWeekStart } from '../../../shared/protocol/schedule.js';
import { DateTime } from 'luxon';
import type { Sql } from '../db.js';
import { sqlDialect } from '../storage/dialect.js';
import { ownMember, type SelfServiceDeps } from './deps.js';
import { bySite, distinctDates, siteZones, visitDays } from './visits.js';

/** The zone of a week when the plan names no declared site (a plan open to all sites). */
export const DEFAULT_WEEK_ZONE = 'Europe/Paris';
const DAY_MS = 24 * 60 * 60 * 1000;
const VISIT_WINDOW_DAYS = 30;

const myBadge = (b: Badge) => ({ uid: maskUid(b.uid), status: b.status, type: b.type });

/**
 * A member's own page (`GET /me`) and declaring one of their badges lost. Everything is read
 * from the account's own member id: no route here takes another member's id, and a badge that is
 * not theirs is "not found", as one that does not exist.
 */
export function registerMeRoutes(app: FastifyInstance, deps: SelfServiceDeps): void {
  serve(app, Routes.me, async (req) => myPage(deps, ownMember(req)));

  serve(app, Routes.badgeLost, async (req) => {
    const memberId = ownMember(req);
    const revoked = await deps.db.transaction(async (tx) => {
      const badge = await ownBadge(tx, deps, memberId, req.params.uid);
      if (badge.status === 'revoked') return badge;
      const { value } = await deps.directory.upsert(tx, 'badge', { ...badge, status: 'revoked' });
      await deps.audit.record(tx, req.account, 'revoke', 'badge', badge.uid, badge, value);
      return value;
    });
    deps.onDirectoryChange();
    deps.log.info({ member: memberId, badge: maskUid(revoked.uid) }, 'badge declared lost by its member: revoked');
    return { badge: myBadge(revoked) };
  });
}

/**
 * The member's badge named by `given`: its whole UID, or the last four hex digits `GET /me`
 * shows. Only the member's own badges are looked at, the row locked (PostgreSQL) until the
 * revocation commits, so that a badge given to someone else meanwhile is not taken back.
 */
async function ownBadge(tx: Sql, deps: SelfServiceDeps, memberId: string, given: string): Promise<Badge> {
  const notFound = new TesseraError('not_found', 'no such badge of yours');
  const spelt = given
    .replace(/^(…|\.\.\.)/, '')
    .replace(/[\s:-]/g, '')
    .toUpperCase();
  const whole = normalizeUid(spelt);
  const own = (await deps.directory.badgesOf(tx, memberId)).filter((b) =>
    whole !== undefined ? b.uid === whole : /^[0-9A-F]{4}$/.test(spelt) && b.uid.endsWith(spelt),
  );
  if (own.length > 1) throw new TesseraError('conflict', `two of your badges end with ${spelt}: give the whole UID`);
  const found = own[0];
  if (!found) throw notFound;
  await tx.value(
    `SELECT revision FROM directory_entities WHERE entity = 'badge' AND id = ?${sqlDialect(tx).forUpdate}`,
    [found.uid],
  );
  const now = await deps.directory.get(tx, 'badge', found.uid);
  if (!now || now.member !== memberId) throw notFound;
  return now;
}

async function myPage(deps: SelfServiceDeps, memberId: string): Promise<MyPage> {
  const { db, directory } = deps;
  const member = await directory.get(db, 'member', memberId);
  if (!member) throw new TesseraError('not_found', 'your directory entry is gone: ask the network’s staff');
  const plan = await directory.get(db, 'plan', member.plan);
  const employer = member.employer === undefined ? undefined : await directory.get(db, 'employer', member.employer);
  const zones = await siteZones(db, deps.sites);
  const now = deps.clock.now();
  const days = await visitDays(db, zones, [memberId], now - VISIT_WINDOW_DAYS * DAY_MS, now);
  const zone = weekZone(plan, zones);
  const start = localWeekStart(now, zone);
  const end = DateTime.fromISO(start, { zone }).plus({ days: 6 }).toISODate() ?? start;
  const used = distinctDates(days).filter((d) => d >= start && d <= end).length;
  const perWeek = plan?.daysPerWeek ?? null;
  return {
    member: {
      id: member.id,
      name: member.name,
      status: member.status,
      plan: { id: member.plan, name: plan?.name ?? member.plan, daysPerWeek: perWeek },
      employer: employer ? { id: employer.id, name: employer.name } : null,
    },
    badges: (await directory.badgesOf(db, memberId)).map(myBadge),
    locker: member.locker ?? null,
    visits: bySite(days, zones),
    week: { start, zone, used, left: perWeek === null ? null : Math.max(0, perWeek - used) },
  };
}

/** The week is the plan's first declared site's; Europe/Paris for a plan of every site or of sites not declared. */
function weekZone(plan: Plan | undefined, zones: ReadonlyMap<string, { zone: string }>): string {
  if (!plan || plan.sites === 'all') return DEFAULT_WEEK_ZONE;
  for (const site of plan.sites) {
    const zone = zones.get(site)?.zone;
    if (zone !== undefined) return zone;
  }
  return DEFAULT_WEEK_ZONE;
}
