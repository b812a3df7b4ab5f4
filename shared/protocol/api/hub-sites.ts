import { z } from 'zod';
import { SiteEvent } from '../events.js';
import { SiteStatus } from '../sync.js';
import { defineRoute, SiteParams } from './common.js';

/** The hub's own health, the sites it hears from, their events and the dead letters (cloud-sync/hub/api.ts), and its metrics. */

export const IngestCounters = z.object({
  /** Messages received on the events and status topics. */
  received: z.number().int(),
  /** Valid batches committed (each counted once per delivery, re-sends included). */
  batches: z.number().int(),
  /** Events stored for the first time. */
  applied: z.number().int(),
  duplicates: z.number().int(),
  conflicts: z.number().int(),
  /** Messages refused and dead-lettered. */
  rejected: z.number().int(),
  acksPublished: z.number().int(),
  /** Valid batches the store failed to commit (the site re-sends them: nothing was acked). */
  storeErrors: z.number().int(),
});
export type IngestCounters = z.infer<typeof IngestCounters>;

export const HubHealth = z.object({
  /** `degraded` while the hub is not connected to its broker or its database does not answer. */
  status: z.enum(['ok', 'degraded']),
  mqtt: z.object({ connected: z.boolean() }),
  /** Whether the database answered the last time it was asked (`/health` itself never waits for it). */
  store: z.object({ available: z.boolean() }),
  uptimeSeconds: z.number().int(),
  /** The sites heard from, as last counted (not read from the database at each request). */
  sites: z.number().int(),
  ingest: IngestCounters,
});
export type HubHealth = z.infer<typeof HubHealth>;

/** Seqs the hub lacks, as `[from, to]` ranges. */
const SeqRanges = z.array(z.tuple([z.number().int(), z.number().int()]));

export const SiteSummary = z.object({
  site: z.string(),
  online: z.boolean().nullable(),
  contiguous: z.number().int(),
  maxSeen: z.number().int(),
  missing: SeqRanges,
  lastEventAt: z.string().nullable(),
  /** Events the site holds that the hub has not acknowledged, as the site last reported it. */
  backlog: z.number().int().nullable(),
  statusAt: z.string().nullable(),
  status: SiteStatus.nullable(),
});
export type SiteSummary = z.infer<typeof SiteSummary>;

export const StoredEvent = z.object({ seq: z.number().int(), receivedAt: z.number().int(), event: SiteEvent });
export type StoredEvent = z.infer<typeof StoredEvent>;

export const SiteEvents = z.object({
  site: z.string(),
  contiguous: z.number().int(),
  maxSeen: z.number().int(),
  missing: SeqRanges,
  events: z.array(StoredEvent),
});
export type SiteEvents = z.infer<typeof SiteEvents>;

export const DeadLetter = z.object({
  id: z.number().int(),
  topic: z.string(),
  reason: z.string(),
  detail: z.string(),
  payload: z.string(),
  at: z.number().int(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

export const SiteSummaryList = z.object({ sites: z.array(SiteSummary) });
export type SiteSummaryList = z.infer<typeof SiteSummaryList>;
export const DeadLetterList = z.object({ deadLetters: z.array(DeadLetter) });
export type DeadLetterList = z.infer<typeof DeadLetterList>;

export const EventsQuery = z.strictObject({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const DeadLettersQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export const HubSiteRoutes = {
  health: defineRoute({
    method: 'GET',
    url: '/health',
    operationId: 'getHubHealth',
    tags: ['hub'],
    summary: 'Health: MQTT connection, database availability, uptime, ingest counters',
    response: { 200: HubHealth },
    public: true,
  }),
  sites: defineRoute({
    method: 'GET',
    url: '/sites',
    operationId: 'listSites',
    tags: ['sites'],
    summary: 'Sites heard from: online, highest contiguous seq, missing seqs, last event, backlog, last status',
    response: { 200: SiteSummaryList },
  }),
  events: defineRoute({
    method: 'GET',
    url: '/sites/:site/events',
    operationId: 'listSiteEvents',
    tags: ['sites'],
    summary: "A site's stored events in seq order, after a seq",
    params: SiteParams,
    querystring: EventsQuery,
    response: { 200: SiteEvents },
    errors: ['auth.forbidden', 'not_found'],
  }),
  deadLetters: defineRoute({
    method: 'GET',
    url: '/dead-letters',
    operationId: 'listDeadLetters',
    tags: ['hub'],
    summary: 'Messages ingest rejected, newest first, with why (operator)',
    querystring: DeadLettersQuery,
    response: { 200: DeadLetterList },
    errors: ['auth.forbidden'],
  }),
  metrics: defineRoute({
    method: 'GET',
    url: '/metrics',
    operationId: 'getHubMetrics',
    tags: ['hub'],
    summary:
      'Prometheus metrics: occupancy, health, alarms, decisions, ingest, runtime (a monitor token reaches this route alone)',
    response: {},
    produces: { 'text/plain': { description: 'Prometheus text exposition format 0.0.4' } },
  }),
};
