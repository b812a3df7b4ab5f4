import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { serve } from '../../shared/platform/api-contract.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { eventFor } from './whole-uids.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { HubSiteRoutes, type SiteSummary } from '../../shared/protocol/api/hub-sites.js';
import type { HubIngest } from './ingest.js';
import type { HubStore, SiteView } from './store.js';
import { ensureSite, maySeeSite, operatorOnly } from './auth/index.js';

export interface HubApiDeps {
  store: HubStore;
  ingest: HubIngest;
  log: Logger;
  clock: Clock;
  startedAt: number;
}

/** The hub's API (fastify): loopback by default, JSON errors with codes; `app` may come with auth in front. */
export function buildHubApi(deps: HubApiDeps, app: FastifyInstance = createJsonApi(deps.log)): FastifyInstance {
  const { store, ingest } = deps;

  // Never waits for the database: what it shows of it was known already (a hub whose
  // PostgreSQL is away still answers, and says so).
  serve(app, HubSiteRoutes.health, () => {
    const available = store.db.available;
    return {
      status: ingest.connected && available ? ('ok' as const) : ('degraded' as const),
      mqtt: { connected: ingest.connected },
      store: { available },
      uptimeSeconds: Math.floor((deps.clock.now() - deps.startedAt) / 1000),
      sites: store.knownSites,
      ingest: ingest.counters,
    };
  });
  serve(app, HubSiteRoutes.sites, async (req) => ({
    sites: (await store.sites()).filter((s) => maySeeSite(req.account, s.site)).map(siteJson),
  }));
  serve(app, HubSiteRoutes.events, async (req) => {
    const { site } = req.params;
    ensureSite(req, site);
    const progress = await store.progress(site);
    if (!progress) throw new TesseraError('not_found', `no site "${site}" has sent anything`);
    const events = await store.events(site, req.query.after, req.query.limit);
    return { site, ...progress, events: events.map((s) => ({ ...s, event: eventFor(req.account, s.event) })) };
  });
  // Operator only, checked before the query: a site manager learns nothing from a malformed one.
  serve(app, HubSiteRoutes.deadLetters, async (req) => ({ deadLetters: await store.deadLetters(req.query.limit) }), {
    preValidation: operatorOnly,
  });
  return app;
}

function siteJson(s: SiteView): SiteSummary {
  return {
    site: s.site,
    online: s.online,
    contiguous: s.contiguous,
    maxSeen: s.maxSeen,
    missing: s.missing,
    lastEventAt: s.lastEventAt,
    /** Events the site holds that the hub has not acknowledged, as the site last reported it. */
    backlog: s.status ? Math.max(0, s.status.lastSeq - s.status.ackedSeq) : null,
    statusAt: s.statusAt === null ? null : new Date(s.statusAt).toISOString(),
    status: s.status,
  };
}
