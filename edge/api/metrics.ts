import type { FastifyInstance } from 'fastify';
import type { Edge } from '../site/edge.js';

/**
 * Prometheus text exposition (version 0.0.4), written here rather than through a client
 * library: the hub and the edge only expose values they already hold, read at scrape time.
 */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: Sample[] }
  | { name: string; help: string; type: 'histogram'; histogram: HistogramSnapshot; labels?: Record<string, string> };

export interface HistogramSnapshot {
  /** Upper bounds, ascending, without +Inf. */
  bounds: readonly number[];
  /** Cumulative count at or below each bound. */
  cumulative: number[];
  count: number;
  sum: number;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A histogram with fixed buckets, as Prometheus wants them. */
export class Histogram {
  private readonly counts: number[];
  private count = 0;
  private sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    const i = this.bounds.findIndex((b) => value <= b);
    if (i >= 0) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  snapshot(): HistogramSnapshot {
    let running = 0;
    return { bounds: this.bounds, cumulative: this.counts.map((c) => (running += c)), count: this.count, sum: this.sum };
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Record<string, string> | undefined) => {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};
const num = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type !== 'histogram') {
      for (const s of f.samples) lines.push(`${f.name}${labelText(s.labels)} ${num(s.value)}`);
      continue;
    }
    const h = f.histogram;
    h.bounds.forEach((b, i) => lines.push(`${f.name}_bucket${labelText({ ...f.labels, le: num(b) })} ${h.cumulative[i] ?? 0}`));
    lines.push(`${f.name}_bucket${labelText({ ...f.labels, le: '+Inf' })} ${h.count}`, `${f.name}_sum${labelText(f.labels)} ${num(h.sum)}`, `${f.name}_count${labelText(f.labels)} ${h.count}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The edge's families: decisions by reason and their latency, occupancy, outbox backlog, taps refused before a decision. */
export function edgeMetrics(edge: Edge): MetricFamily[] {
  const site = edge.config.site.id;
  const events = edge.store.events;
  return [
    {
      name: 'tessera_edge_decisions_total',
      help: 'Badge decisions since the edge started, by reason code (shared/reasons.ts).',
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
    { name: 'tessera_edge_taps_total', help: 'Cards presented on a bound reader since start.', type: 'counter', samples: [{ labels: { site }, value: edge.taps.counts.taps }] },
    {
      name: 'tessera_edge_cards_refused_total',
      help: 'Cards refused before any decision: unreadable UID or unbound reader.',
      type: 'counter',
      samples: [
        { labels: { site, why: 'unreadable_uid' }, value: edge.taps.counts.rejectedCards },
        { labels: { site, why: 'unbound_reader' }, value: edge.taps.counts.unboundReaders },
      ],
    },
    { name: 'tessera_edge_occupancy', help: 'People checked in at the site.', type: 'gauge', samples: [{ labels: { site }, value: edge.store.presence.occupancy() }] },
    { name: 'tessera_edge_capacity', help: 'The site capacity from its config.', type: 'gauge', samples: [{ labels: { site }, value: edge.config.site.capacity }] },
    {
      name: 'tessera_edge_outbox_backlog',
      help: 'Events recorded but not yet acknowledged by the hub.',
      type: 'gauge',
      samples: [{ labels: { site }, value: Math.max(0, events.lastSeq() - events.ackedSeq()) }],
    },
    { name: 'tessera_edge_last_seq', help: 'Sequence number of the latest event recorded.', type: 'gauge', samples: [{ labels: { site }, value: events.lastSeq() }] },
    {
      name: 'tessera_edge_faults_total',
      help: 'Device faults recorded since start, by kind: directory.rejected, command.rejected, gpio.error (a relay write failed), uid.unreadable, reader.lost...',
      type: 'counter',
      samples: [...edge.faults].map(([kind, value]) => ({ labels: { site, kind }, value })),
    },
  ];
}

/** `GET /metrics` on the edge's local API (loopback by default, like the rest of it). */
export function registerEdgeMetrics(app: FastifyInstance, edge: Edge): void {
  app.get('/metrics', (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(renderExposition(edgeMetrics(edge))));
}
