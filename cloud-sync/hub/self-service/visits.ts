import { DateTime } from 'luxon';
import { localDay } from '../../../shared/protocol/schedule.js';
import type { Sql } from '../db.js';
import type { HubSites } from '../sites.js';
import { sqlDialect } from '../storage/dialect.js';

/** A member at a site on a site-local date. */
export interface VisitDay {
  member: string;
  site: string;
  date: string;
}

/** What makes a visit: a check-in, or an entry granted (a site without presence tracking sends only those). */
const VISIT_TYPES = "('presence.in', 'access.granted')";
const DAY_MS = 24 * 60 * 60 * 1000;

/** The zone each declared site keeps its days in, and its name. */
export async function siteZones(q: Sql, sites: HubSites): Promise<Map<string, { zone: string; name: string }>> {
  return new Map((await sites.list(q)).map((s) => [s.id, { zone: s.timeZone, name: s.name }]));
}

/**
 * The distinct site-local days each of `members` visited a site between `fromMs` and `toMs`,
 * from the events table. On PostgreSQL the member filter is the events_by_member index's own
 * expression. An event's `at` carries its site's offset: a text bound a day early lets every
 * event of the window through, and the exact instant is checked here. A day is dated in its
 * site's declared time zone, or by the event's own offset for a site not declared.
 */
export async function visitDays(
  q: Sql,
  zones: ReadonlyMap<string, { zone: string }>,
  members: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<VisitDay[]> {
  if (members.length === 0) return [];
  const d = sqlDialect(q);
  const member = d.jsonText('body', 'data.memberId');
  const rows = await q.all<{ site: string; at: string; member: string }>(
    `SELECT site, at, ${member} AS member FROM events
      WHERE type IN ${VISIT_TYPES} AND at >= ? AND ${d.jsonValid('body')} AND ${d.inJsonArray(member, '?')}`,
    [new Date(fromMs - DAY_MS).toISOString().slice(0, 10), JSON.stringify(members)],
  );
  const seen = new Map<string, VisitDay>();
  for (const r of rows) {
    const at = DateTime.fromISO(r.at, { setZone: true });
    const ms = at.toMillis();
    if (!at.isValid || ms < fromMs || ms > toMs) continue;
    const zone = zones.get(r.site)?.zone;
    const date = zone === undefined ? (at.toISODate() ?? '') : localDay(ms, zone);
    seen.set(`${r.member}\n${r.site}\n${date}`, { member: r.member, site: r.site, date });
  }
  return [...seen.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.site < b.site ? -1 : 1));
}

/** Days by site, each site's dates in order; `name` from the declared sites (else the id). */
export function bySite(
  days: readonly VisitDay[],
  zones: ReadonlyMap<string, { name: string }>,
): Array<{ site: string; name: string; days: number; dates: string[] }> {
  const sites = new Map<string, string[]>();
  for (const v of days) sites.set(v.site, [...(sites.get(v.site) ?? []), v.date]);
  return [...sites.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([site, dates]) => ({ site, name: zones.get(site)?.name ?? site, days: dates.length, dates }));
}

/** Distinct dates, whatever the site. */
export const distinctDates = (days: readonly VisitDay[]): string[] => [...new Set(days.map((v) => v.date))].sort();
