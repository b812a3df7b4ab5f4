import type { LiveMessage } from '../../../shared/protocol/api/hub-occupancy.js';

/** What the live feed carries, each message about one site (SSE event name = `kind`): shared/protocol/api/hub-occupancy.ts. */
export type { LiveMessage };

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
