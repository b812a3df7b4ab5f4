import type { EventLog } from '../store/event-log.js';

/** What the link's health needs of the site (edge/site/edge.ts passes itself). */
export interface LinkSite {
  /** The broker's /health bounds; a site without a broker has no link. */
  readonly config: {
    readonly broker?: { readonly degradedAfterSeconds: number; readonly degradedBacklog: number } | undefined;
  };
  readonly store: { readonly events: Pick<EventLog, 'lastSeq' | 'ackedSeq'> };
}

/** What /health needs of the site's link to the hub (cloud-sync/edge/sync-worker.ts `state()`). */
export interface LinkState {
  connected: boolean;
  /** Seconds since the broker was last reachable; 0 while connected. */
  unreachableSeconds: number;
}

/**
 * Why the site's link makes it `degraded`, in stable words: the hub unreachable for longer than
 * `broker.degradedAfterSeconds`, or more than `broker.degradedBacklog` events awaiting its ack.
 * A site without a broker has no link to judge.
 */
export function linkProblems(edge: LinkSite, link: LinkState | undefined): string[] {
  const broker = edge.config.broker;
  if (!broker) return [];
  const backlog = Math.max(0, edge.store.events.lastSeq() - edge.store.events.ackedSeq());
  return [
    ...(link && link.unreachableSeconds >= broker.degradedAfterSeconds ? ['hub.unreachable'] : []),
    ...(backlog >= broker.degradedBacklog ? ['backlog.high'] : []),
  ];
}

/** The link as /health shows it. */
export function linkHealth(edge: LinkSite, link: LinkState | undefined) {
  if (!edge.config.broker) return null;
  return {
    connected: link?.connected ?? false,
    unreachableSeconds: link?.unreachableSeconds ?? null,
    backlog: Math.max(0, edge.store.events.lastSeq() - edge.store.events.ackedSeq()),
  };
}
