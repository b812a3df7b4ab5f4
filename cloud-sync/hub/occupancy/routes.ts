import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { OccupancyRoutes } from '../../../shared/protocol/api/hub-occupancy.js';
import { ensureSite, maySeeSite } from '../auth/index.js';
import type { HubStore } from '../store.js';
import { devicesFrom } from './devices.js';
import type { HubLive } from './live.js';

const RANGE_MS = { '24h': 24 * 3600_000, '7d': 7 * 24 * 3600_000 } as const;
/** How many of a site's latest events its doors and readers are read from. */
const DEVICE_EVENTS = 500;

export interface LiveApiDeps {
  live: HubLive;
  store: HubStore;
  now: () => number;
}

export const visibleTo = (req: FastifyRequest) => (site: string) => maySeeSite(req.account, site);

/** The site of the path, if the account may see it (else 403) and the hub knows it (else 404). */
async function siteOf(req: FastifyRequest & { params: { site: string } }, live: HubLive): Promise<string> {
  const { site } = req.params;
  ensureSite(req, site);
  if (!(await live.knows(site)))
    throw new TesseraError('not_found', `no site ${JSON.stringify(site)}: not declared, and nothing heard from it`);
  return site;
}

/**
 * Occupancy, site health and alarms over HTTP (docs/dashboard.md), each answer cut to the sites
 * the account may see; a site page of another site is 403 `auth.forbidden`.
 */
export function registerLiveRoutes(app: FastifyInstance, deps: LiveApiDeps): void {
  const { live } = deps;
  serve(app, OccupancyRoutes.network, (req) => live.projection.network(visibleTo(req)));
  serve(app, OccupancyRoutes.site, async (req) => {
    const site = await siteOf(req, live);
    return { ...(await live.projection.site(site)), whoIsIn: await live.projection.whoIsIn(site) };
  });
  serve(app, OccupancyRoutes.history, async (req) => {
    const site = await siteOf(req, live);
    const { range } = req.query;
    const to = deps.now();
    const now = await live.projection.site(site);
    return {
      site,
      timeZone: now.timeZone,
      capacity: now.capacity,
      range,
      bucketMinutes: 15,
      points: await live.projection.history(site, to - RANGE_MS[range], to),
    };
  });
  serve(app, OccupancyRoutes.healthAll, async (req) => ({ sites: await live.healthAll(visibleTo(req)) }));
  serve(app, OccupancyRoutes.health, async (req) => {
    const site = await siteOf(req, live);
    const progress = await deps.store.progress(site);
    const recent = progress
      ? (await deps.store.events(site, Math.max(0, progress.maxSeen - DEVICE_EVENTS), DEVICE_EVENTS)).map(
          (s) => s.event,
        )
      : [];
    return { ...(await live.health(site)), ...devicesFrom(recent) };
  });
  registerAlarmRoutes(app, live);
}

function registerAlarmRoutes(app: FastifyInstance, live: HubLive): void {
  serve(app, OccupancyRoutes.alarms, async (req) => {
    const q = req.query;
    if (q.site !== undefined) ensureSite(req, q.site);
    const sites = req.account.role === 'operator' ? {} : { sites: req.account.sites };
    return {
      alarms: await live.alarms.list({
        ...(q.open ? { open: q.open === 'true' } : {}),
        ...(q.site !== undefined ? { site: q.site } : {}),
        ...sites,
        limit: q.limit,
      }),
    };
  });
  serve(app, OccupancyRoutes.acknowledge, async (req) => {
    const { id } = req.params;
    const alarm = await live.alarms.get(id);
    // Another site's alarm answers as an unknown one: its existence is not for this account.
    if (!alarm || !maySeeSite(req.account, alarm.site)) throw new TesseraError('not_found', `no alarm ${id}`);
    return { alarm: await live.acknowledge(id, req.account.username) };
  });
}
