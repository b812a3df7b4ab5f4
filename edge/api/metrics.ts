import type { FastifyInstance } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import { EdgeRoutes } from '../../shared/protocol/api/edge.js';
import { type HistogramSnapshot, type MetricFamily, PROMETHEUS_CONTENT_TYPE } from '../../shared/platform/metrics.js';
import { exposition } from '../../shared/platform/runtime-metrics.js';
import type { Clock } from '../../shared/platform/clock.js';
import type { DoorController } from '../doors/door-controller.js';
import type { DirectoryRepo } from '../store/directory-repo.js';
import type { EventLog } from '../store/event-log.js';
import type { PresenceRepo } from '../store/presence-repo.js';
import type { LinkState } from './link-health.js';

/** The tap path's counters since start (edge/site/tap-handler.ts keeps them). */
export interface TapCounters {
  readonly counts: { readonly taps: number; readonly rejectedCards: number; readonly unboundReaders: number };
  /** Decisions by reason code. */
  readonly byReason: ReadonlyMap<string, number>;
  readonly latency: { snapshot(): HistogramSnapshot };
}

/** What the metrics need of the site (edge/site/edge.ts passes itself). */
export interface MetricsSite {
  readonly config: {
    readonly site: { readonly id: string; readonly capacity: number };
    readonly directory: { readonly source: string };
  };
  readonly store: {
    readonly events: Pick<EventLog, 'lastSeq' | 'ackedSeq'>;
    readonly presence: Pick<PresenceRepo, 'occupancy'>;
    readonly directory: Pick<DirectoryRepo, 'meta'>;
  };
  readonly doors: ReadonlyMap<string, Pick<DoorController, 'state'>>;
  /** Each configured reader, and the PC/SC reader bound to it now (null: none). */
  readers(): Array<{ id: string; role: string; attached: string | null }>;
  readonly taps: TapCounters;
  /** Device faults since start, by kind. */
  readonly faults: ReadonlyMap<string, number>;
}

/** What the metrics read besides the site: the time, and the link to the hub of a site with a broker. */
export interface MetricsContext {
  clock: Clock;
  link?: (() => LinkState | undefined) | undefined;
}

const flag = (on: boolean) => (on ? 1 : 0);

/**
 * The edge's families: decisions by reason and their latency, occupancy, outbox backlog, taps
 * refused before a decision; each door's lock, contact and alarms, each reader's presence, the
 * link to the hub and the directory's revision and age.
 */
export function edgeMetrics(edge: MetricsSite, context: MetricsContext): MetricFamily[] {
  const site = edge.config.site.id;
  const events = edge.store.events;
  const doors = [...edge.doors.values()].map((d) => d.state());
  const directory = edge.store.directory.meta();
  const link = context.link?.();
  // Where the directory comes from (hub or file): only a hub-fed one is confirmed as time goes by.
  const source = edge.config.directory.source;
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
    {
      name: 'tessera_edge_door_locked',
      help: '1 while the door is locked, 0 while its relay holds it unlocked (a pulse, free access).',
      type: 'gauge',
      samples: doors.map((d) => ({ labels: { site, door: d.id }, value: flag(d.mode === 'locked') })),
    },
    {
      name: 'tessera_edge_door_open',
      help: '1 while the door contact reads open, 0 closed; absent for a door without a contact, or before it was read.',
      type: 'gauge',
      samples: doors.flatMap((d) =>
        d.contact === 'unknown' ? [] : [{ labels: { site, door: d.id }, value: flag(d.contact === 'open') }],
      ),
    },
    {
      name: 'tessera_edge_door_alarm',
      help: '1 while the alarm is active at the door (forced: opened without an unlock; held: left open too long), else 0.',
      type: 'gauge',
      samples: doors.flatMap((d) =>
        (['forced', 'held'] as const).map((alarm) => ({
          labels: { site, door: d.id, alarm },
          value: flag(d.alarm === alarm),
        })),
      ),
    },
    {
      name: 'tessera_edge_door_lockdown',
      help: '1 while a hub lockdown holds the door locked.',
      type: 'gauge',
      samples: doors.map((d) => ({ labels: { site, door: d.id }, value: flag(d.lockdown) })),
    },
    {
      name: 'tessera_edge_reader_connected',
      help: '1 while a PC/SC reader is bound to the configured reader, 0 when it is lost (unplugged, pcscd down).',
      type: 'gauge',
      samples: edge
        .readers()
        .map((r) => ({ labels: { site, reader: r.id, role: r.role }, value: flag(r.attached !== null) })),
    },
    // A site without a broker has no link: no sample rather than a false "disconnected".
    {
      name: 'tessera_edge_broker_connected',
      help: '1 while the sync worker is connected to the MQTT broker, 0 otherwise; absent for a site without a broker.',
      type: 'gauge',
      samples: context.link === undefined ? [] : [{ labels: { site }, value: flag(link?.connected ?? false) }],
    },
    {
      name: 'tessera_edge_broker_unreachable_seconds',
      help: 'Seconds since the broker was last reachable; 0 while connected.',
      type: 'gauge',
      samples: link === undefined ? [] : [{ labels: { site }, value: link.unreachableSeconds }],
    },
    {
      name: 'tessera_edge_directory_revision',
      help: 'Revision of the directory in force, by its source (hub or file); absent before any directory.',
      type: 'gauge',
      samples: directory === undefined ? [] : [{ labels: { site, source }, value: directory.revision }],
    },
    {
      name: 'tessera_edge_directory_age_seconds',
      help: 'Seconds since the directory in force was last loaded or confirmed by its source (the hub, for a hub-fed site).',
      type: 'gauge',
      samples:
        directory === undefined
          ? []
          : [{ labels: { site, source }, value: Math.max(0, (context.clock.now() - directory.loadedAt) / 1000) }],
    },
  ];
}

/** `GET /metrics` on the edge's local API (loopback by default, like the rest of it), with the process's own figures. */
export function registerEdgeMetrics(app: FastifyInstance, edge: MetricsSite, context: MetricsContext): void {
  serve(app, EdgeRoutes.metrics, async (_req, reply) =>
    reply.type(PROMETHEUS_CONTENT_TYPE).send(await exposition(edgeMetrics(edge, context))),
  );
}
