import type { SiteEvent } from '../../../shared/protocol/events.js';
import type { Alarm } from './alarms.js';
import type { SiteHealth } from './health.js';
import type { SiteOccupancy } from './projection.js';

/** What the live feed carries, each message about one site (SSE event name = `kind`). */
export type LiveMessage =
  | { kind: 'occupancy'; site: string; data: SiteOccupancy }
  | { kind: 'event'; site: string; data: SiteEvent }
  | { kind: 'alarm'; site: string; data: Alarm }
  | { kind: 'health'; site: string; data: SiteHealth };

export type LiveListener = (message: LiveMessage) => void;

/**
 * The hub's live messages, fanned out to whoever listens (SSE streams, the network topic). A
 * listener that throws is dropped from this message only, never stops the others.
 */
export class LiveFeed {
  private readonly listeners = new Set<LiveListener>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  publish(message: LiveMessage): void {
    for (const l of [...this.listeners]) {
      try {
        l(message);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
