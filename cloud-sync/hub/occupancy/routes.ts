import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SITE_ID_PATTERN } from '../../../shared/protocol/topics.js';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import { maySeeSite, requireSite } from '../auth/index.js';
import type { HubStore } from '../store.js';
import { devicesFrom } from './devices.js';
import type { HubLive } from './live.js';

const SiteParams = z.strictObject({ site: z.string().regex(SITE_ID_PATTERN) });
export const HistoryQuery = z.strictObject({ range: z.enum(['24h', '7d']).default('24h') });
export const AlarmsQuery = z.strictObject({
  open: z.enum(['true', 'false']).optional(),
  site: z.string().regex(SITE_ID_PATTERN).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
const AlarmParams = z.strictObject({ id: z.coerce.number().int().positive() });
const RANGE_MS = { '24h': 24 * 3600_000, '7d': 7 * 24 * 3600_000 } as const;
/** How many of a site's latest events its doors and readers are read from. */
const DEVICE_EVENTS = 500;

export interface LiveApiDeps {
  live: HubLive;
  store: HubStore;
  now: () => number;
}

export const visibleTo = (req: FastifyRequest) => (site: string) => maySeeSite(req.account, site);

/** The site of the path, if the account may see it (else 403) and the hub knows it (else 404); undefined once answered. */
function siteOf(req: FastifyRequest, reply: FastifyReply, live: HubLive): string | undefined {
  const p = parseOr400(reply, SiteParams, req.params, 'site');
  if (!p || !requireSite(req, reply, p.site)) return undefined;
  if (live.knows(p.site)) return p.site;
  void sendError(reply, 'not_found', `no site ${JSON.stringify(p.site)}: not declared, and nothing heard from it`);
  return undefined;
}

/**
 * Occupancy, site health and alarms over HTTP (docs/dashboard.md), each answer cut to the sites
 * the account may see; a site page of another site is 403 `auth.forbidden`.
 */
export function registerLiveRoutes(app: FastifyInstance, deps: LiveApiDeps): void {
  const { live } = deps;
  app.get('/occupancy', (req) => live.projection.network(visibleTo(req)));
  app.get('/occupancy/:site', (req, reply) => {
    const site = siteOf(req, reply, live);
    if (site === undefined) return reply;
    return { ...live.projection.site(site), whoIsIn: live.projection.whoIsIn(site) };
  });
  app.get('/occupancy/:site/history', (req, reply) => {
    const site = siteOf(req, reply, live);
    if (site === undefined) return reply;
    const q = parseOr400(reply, HistoryQuery, req.query, 'query');
    if (!q) return reply;
    const to = deps.now();
    const now = live.projection.site(site);
    return { site, timeZone: now.timeZone, capacity: now.capacity, range: q.range, bucketMinutes: 15, points: live.projection.history(site, to - RANGE_MS[q.range], to) };
  });
  app.get('/site-health', (req) => ({ sites: live.healthAll(visibleTo(req)) }));
  app.get('/site-health/:site', (req, reply) => {
    const site = siteOf(req, reply, live);
    if (site === undefined) return reply;
    const progress = deps.store.progress(site);
    const recent = progress ? deps.store.events(site, Math.max(0, progress.maxSeen - DEVICE_EVENTS), DEVICE_EVENTS).map((s) => s.event) : [];
    return { ...live.health(site), ...devicesFrom(recent) };
  });
  registerAlarmRoutes(app, live);
}

function registerAlarmRoutes(app: FastifyInstance, live: HubLive): void {
  app.get('/alarms', (req, reply) => {
    const q = parseOr400(reply, AlarmsQuery, req.query, 'query');
    if (!q) return reply;
    if (q.site !== undefined && !requireSite(req, reply, q.site)) return reply;
    const sites = req.account.role === 'operator' ? {} : { sites: req.account.sites };
    return { alarms: live.alarms.list({ ...(q.open ? { open: q.open === 'true' } : {}), ...(q.site !== undefined ? { site: q.site } : {}), ...sites, limit: q.limit }) };
  });
  app.post('/alarms/:id/ack', (req, reply) => {
    const p = parseOr400(reply, AlarmParams, req.params, 'alarm');
    if (!p) return reply;
    const alarm = live.alarms.get(p.id);
    // Another site's alarm answers as an unknown one: its existence is not for this account.
    if (!alarm || !maySeeSite(req.account, alarm.site)) return sendError(reply, 'not_found', `no alarm ${p.id}`);
    return { alarm: live.acknowledge(p.id, req.account.username) };
  });
}
