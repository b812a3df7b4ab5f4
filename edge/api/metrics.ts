import type { FastifyInstance } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import { EdgeRoutes } from '../../shared/protocol/api/edge.js';
import {
  type HistogramSnapshot,
  type MetricFamily,
  PROMETHEUS_CONTENT_TYPE,
  renderExposition,
} from '../../shared/platform/metrics.js';
import type { EventLog } from '../store/event-log.js';
import type { PresenceRepo } from '../store/presence-repo.js';

/** The tap path's counters since start (edge/site/tap-handler.ts keeps them). */
export interface TapCounters {
  readonly counts: { readonly taps: number; readonly rejectedCards: number; readonly unboundReaders: number };
  /** Decisions by reason code. */
  readonly byReason: ReadonlyMap<string, number>;
  readonly latency: { snapshot(): HistogramSnapshot };
}

/** What the metrics need of the site (edge/site/edge.ts passes itself). */
export interface MetricsSite {
  readonly config: { readonly site: { readonly id: string; readonly capacity: number } };
  readonly store: {
    readonly events: Pick<EventLog, 'lastSeq' | 'ackedSeq'>;
    readonly presence: Pick<PresenceRepo, 'occupancy'>;
  };
  readonly taps: TapCounters;
  /** Device faults since start, by kind. */
  readonly faults: ReadonlyMap<string, number>;
}

/** The edge's families: decisions by reason and their latency, occupancy, outbox backlog, taps refused before a decision. */
export function edgeMetrics(edge: MetricsSite): MetricFamily[] {
  const site = edge.config.site.id;
  const events = edge.store.events;
  return [
    {
      name: 'tessera_edge_decisions_total',
      help: 'Badge decisions since the edge started, by reason code (shared/protocol/reasons.ts).',
      type: 'counter',
      samples: [...edge.taps.byReason].map(([reason, value]) => ({ labels: { site, reason }, value })),
    },
    {
      name: 'tessera_edge_decision_latency_seconds',
      help: 'Time from a card presented to its decision recorded and the relay moved (an NTAG 424 badge includes the talk with the card).',
      type: 'histogram',
      labels: { site },
      histogram: edge.taps.latency.snapshot(),
    },
    {
      name: 'tessera_edge_taps_total',
      help: 'Cards presented on a bound reader since start.',
      type: 'counter',
      samples: [{ labels: { site }, value: edge.taps.counts.taps }],
    },
    {
      name: 'tessera_edge_cards_refused_total',
      help: 'Cards refused before any decision: unreadable UID or unbound reader.',
      type: 'counter',
      samples: [
        { labels: { site, why: 'unreadable_uid' }, value: edge.taps.counts.rejectedCards },
        { labels: { site, why: 'unbound_reader' }, value: edge.taps.counts.unboundReaders },
      ],
    },
    {
      name: 'tessera_edge_occupancy',
      help: 'People checked in at the site.',
      type: 'gauge',
      samples: [{ labels: { site }, value: edge.store.presence.occupancy() }],
    },
    {
      name: 'tessera_edge_capacity',
      help: 'The site capacity from its config.',
      type: 'gauge',
      samples: [{ labels: { site }, value: edge.config.site.capacity }],
    },
    {
      name: 'tessera_edge_outbox_backlog',
      help: 'Events recorded but not yet acknowledged by the hub.',
      type: 'gauge',
      samples: [{ labels: { site }, value: Math.max(0, events.lastSeq() - events.ackedSeq()) }],
    },
    {
      name: 'tessera_edge_last_seq',
      help: 'Sequence number of the latest event recorded.',
      type: 'gauge',
      samples: [{ labels: { site }, value: events.lastSeq() }],
    },
    {
      name: 'tessera_edge_faults_total',
      help: 'Device faults recorded since start, by kind: directory.rejected, command.rejected, gpio.error (a relay write failed), uid.unreadable, reader.lost...',
      type: 'counter',
      samples: [...edge.faults].map(([kind, value]) => ({ labels: { site, kind }, value })),
    },
  ];
}

/** `GET /metrics` on the edge's local API (loopback by default, like the rest of it). */
export function registerEdgeMetrics(app: FastifyInstance, edge: MetricsSite): void {
  serve(app, EdgeRoutes.metrics, (_req, reply) =>
    reply.type(PROMETHEUS_CONTENT_TYPE).send(renderExposition(edgeMetrics(edge))),
  );
}
