import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../shared/platform/clock.js';
import { SITE_ID_PATTERN } from '../../shared/protocol/topics.js';
import { parseOr400, sendError } from '../../shared/platform/http-errors.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import type { HubIngest } from './ingest.js';
import type { HubStore, SiteView } from './store.js';
import { maySeeSite, requireOperator, requireSite } from './auth/index.js';

export interface HubApiDeps {
  store: HubStore;
  ingest: HubIngest;
  log: Logger;
  clock: Clock;
  startedAt: number;
}

export const EventsQuery = z.strictObject({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const SiteParams = z.strictObject({ site: z.string().regex(SITE_ID_PATTERN) });
export const DeadLettersQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** The hub's API (fastify): loopback by default, JSON errors with codes; `app` may come with auth in front. */
export function buildHubApi(deps: HubApiDeps, app: FastifyInstance = createJsonApi(deps.log)): FastifyInstance {
  const { store, ingest } = deps;

  app.get('/health', () => ({
    status: ingest.connected ? 'ok' : 'degraded',
    mqtt: { connected: ingest.connected },
    uptimeSeconds: Math.floor((deps.clock.now() - deps.startedAt) / 1000),
    sites: store.sites().length,
    ingest: ingest.counters,
  }));
  app.get('/sites', (req) => ({ sites: store.sites().filter((s) => maySeeSite(req.account, s.site)).map(siteJson) }));
  app.get('/sites/:site/events', (req, reply) => {
    const p = parseOr400(reply, SiteParams, req.params, 'site');
    if (!p || !requireSite(req, reply, p.site)) return reply;
    const q = parseOr400(reply, EventsQuery, req.query, 'query');
    if (!q) return reply;
    const progress = store.progress(p.site);
    if (!progress) return sendError(reply, 'not_found', `no site "${p.site}" has sent anything`);
    return { site: p.site, ...progress, events: store.events(p.site, q.after, q.limit) };
  });
  app.get('/dead-letters', (req, reply) => {
    if (!requireOperator(req, reply)) return reply;
    const q = parseOr400(reply, DeadLettersQuery, req.query, 'query');
    if (!q) return reply;
    return { deadLetters: store.deadLetters(q.limit) };
  });
  return app;
}

function siteJson(s: SiteView) {
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
