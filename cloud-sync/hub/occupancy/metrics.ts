import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { HubSiteRoutes } from '../../../shared/protocol/api/hub-sites.js';
import { type MetricFamily, PROMETHEUS_CONTENT_TYPE } from '../../../shared/platform/metrics.js';
import { exposition } from '../../../shared/platform/runtime-metrics.js';
import type { HubIngest } from '../ingest.js';
import type { HubStore } from '../store.js';
import type { HubLive } from './live.js';
import { visibleTo } from './routes.js';

export interface HubMetricsDeps {
  live: HubLive;
  ingest: HubIngest;
  store: HubStore;
}

const split = (key: string) => key.split('|');

/**
 * The hub's metric families, read at scrape time and cut to the sites `visible` allows: ingest
 * counters are network-wide and shown to operators only (`network`).
 */
export async function hubMetrics(
  deps: HubMetricsDeps,
  visible: (site: string) => boolean,
  network: boolean,
): Promise<MetricFamily[]> {
  const occupancy = (await deps.live.projection.network(visible)).sites;
  const health = await deps.live.healthAll(visible);
  const counter = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: 'counter',
    samples: [{ value }],
  });
  const c = deps.ingest.counters;
  const ingest: MetricFamily[] = network
    ? [
        counter(
          'tessera_hub_messages_received_total',
          'MQTT messages received on the events and status topics.',
          c.received,
        ),
        counter(
          'tessera_hub_events_applied_total',
          'Events stored for the first time (exactly once per site and seq).',
          c.applied,
        ),
        counter('tessera_hub_events_duplicate_total', 'Events received again and already held.', c.duplicates),
        counter(
          'tessera_hub_seq_conflicts_total',
          'Seqs received with another event id than the one held.',
          c.conflicts,
        ),
        counter('tessera_hub_messages_rejected_total', 'Messages refused and dead-lettered.', c.rejected),
        counter(
          'tessera_hub_store_errors_total',
          'Valid batches the store failed to commit (resent by their site).',
          c.storeErrors,
        ),
        {
          name: 'tessera_hub_event_lag_seconds',
          help: 'Time from an event at its site to its storage at the hub.',
          type: 'histogram',
          histogram: deps.live.counters.lag.snapshot(),
        },
        {
          name: 'tessera_hub_live_clients',
          help: 'Dashboard clients on the live stream (and other feed listeners).',
          type: 'gauge',
          samples: [{ value: deps.live.feed.size }],
        },
      ]
    : [];
  const bySite = (m: Map<string, number>) =>
    [...m].map(([key, value]) => ({ parts: split(key), value })).filter((s) => visible(s.parts[0] ?? ''));
  return [
    ...ingest,
    {
      name: 'tessera_site_occupancy',
      help: 'People in at each site.',
      type: 'gauge',
      samples: occupancy.map((s) => ({ labels: { site: s.site }, value: s.present })),
    },
    {
      name: 'tessera_site_capacity',
      help: 'Capacity of each site, as the site reports it from its config file (the one its door enforces).',
      type: 'gauge',
      samples: occupancy.flatMap((s) => (s.capacity === null ? [] : [{ labels: { site: s.site }, value: s.capacity }])),
    },
    {
      name: 'tessera_site_online',
      help: '1 if the site last said it is online, 0 after its last will.',
      type: 'gauge',
      samples: health.flatMap((h) =>
        h.online === null ? [] : [{ labels: { site: h.site }, value: h.online ? 1 : 0 }],
      ),
    },
    {
      name: 'tessera_site_last_event_timestamp_seconds',
      help: 'When the latest event the hub stored of the site happened (Unix seconds); absent before any event.',
      type: 'gauge',
      samples: health.flatMap((h) => {
        const at = h.lastEventAt === null ? NaN : Date.parse(h.lastEventAt);
        return Number.isNaN(at) ? [] : [{ labels: { site: h.site }, value: at / 1000 }];
      }),
    },
    {
      name: 'tessera_site_last_status_timestamp_seconds',
      help: 'When the hub last received a status of the site (Unix seconds): its heartbeat; absent before any status.',
      type: 'gauge',
      samples: health.flatMap((h) =>
        h.statusAt === null ? [] : [{ labels: { site: h.site }, value: Date.parse(h.statusAt) / 1000 }],
      ),
    },
    {
      name: 'tessera_site_directory_age_seconds',
      help: 'Age of the directory in force at the site, as its last status reported it.',
      type: 'gauge',
      samples: health.flatMap((h) =>
        h.directory?.ageSeconds == null ? [] : [{ labels: { site: h.site }, value: h.directory.ageSeconds }],
      ),
    },
    {
      name: 'tessera_site_directory_stale',
      help: '1 when the site last reported its directory stale (past the bound of a role it admits), else 0.',
      type: 'gauge',
      samples: health.flatMap((h) =>
        h.directory === null ? [] : [{ labels: { site: h.site }, value: h.directory.stale ? 1 : 0 }],
      ),
    },
    {
      name: 'tessera_site_backlog',
      help: 'Events the site holds that the hub has not acknowledged, as last reported.',
      type: 'gauge',
      samples: health.flatMap((h) => (h.backlog === null ? [] : [{ labels: { site: h.site }, value: h.backlog }])),
    },
    {
      name: 'tessera_site_missing_events',
      help: 'Seqs the hub lacks below the highest it holds.',
      type: 'gauge',
      samples: health.map((h) => ({ labels: { site: h.site }, value: h.missing })),
    },
    {
      name: 'tessera_alarms_open',
      help: 'Alarms still active or not yet acknowledged.',
      type: 'gauge',
      samples: health.map((h) => ({ labels: { site: h.site }, value: h.openAlarms })),
    },
    {
      name: 'tessera_site_decisions_total',
      help: 'Badge decisions stored since the hub started, by site, result and reason code.',
      type: 'counter',
      samples: bySite(deps.live.counters.decisions).map(({ parts: [site = '', granted = '', reason = ''], value }) => ({
        labels: { site, result: granted === 'true' ? 'granted' : 'denied', reason },
        value,
      })),
    },
    {
      name: 'tessera_site_events_total',
      help: 'Events stored since the hub started, by site and type.',
      type: 'counter',
      samples: bySite(deps.live.counters.events).map(({ parts: [site = '', type = ''], value }) => ({
        labels: { site, type },
        value,
      })),
    },
  ];
}

/**
 * `GET /metrics`, Prometheus text format, behind the same login as the rest of the API
 * (docs/dashboard.md), with the process's own figures. A monitor token (a scraper's) sees what
 * an operator sees; a site manager only their sites.
 */
export function registerHubMetrics(app: FastifyInstance, deps: HubMetricsDeps): void {
  serve(app, HubSiteRoutes.metrics, async (req, reply) => {
    const whole = req.account.role === 'operator' || req.account.role === 'monitor';
    const families = await hubMetrics(deps, whole ? () => true : visibleTo(req), whole);
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(await exposition(families));
  });
}
