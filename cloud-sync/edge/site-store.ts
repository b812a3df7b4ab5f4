import type { NewEvent } from '../../shared/protocol/events.js';
import type { OutboxSource, SeqRange } from './outbox-stream.js';

/** The site's event log as the worker reads it, acknowledges it and adds its own fault to it. */
export interface SyncEventLog extends OutboxSource {
  /** Records the hub's ack; false (nothing recorded) for an ack beyond the last event appended. */
  markAcked(seq: number): boolean;
  /** Keeps the hub's ack beyond this log: the log lost events the hub holds. */
  recordHubAhead(seq: number): void;
  /** The hub's ack beyond this log, while it is (nothing may be sent), else undefined. */
  behindHub(): number | undefined;
  /** Appends an event, numbered by the log; inside the store's transaction. */
  append(event: NewEvent, atMs: number): unknown;
}

/** Events the broker kept refusing, kept with their reason: the stream skips them, the status reports them. */
export interface ParkedLog {
  park(from: number, to: number, reason: string, atMs: number): void;
  /** Oldest first. */
  list(): SeqRange[];
}

/** What the site's status is read from. */
export interface StatusSource {
  readonly events: Pick<SyncEventLog, 'lastSeq' | 'ackedSeq' | 'behindHub'>;
  readonly parked: Pick<ParkedLog, 'list'>;
  /** The directory in force: its revision and when it was last loaded or confirmed. */
  readonly directory: { meta(): { revision: number; loadedAt: number } | undefined };
  /** The site's IANA zone: the status's time carries its offset. */
  readonly timeZone: string;
}

/**
 * The site's store as the sync worker uses it (edge/store/store.ts is the one the site passes):
 * the outbox to send, the hub's acks to record, parked events, the status's sources.
 */
export interface SyncStore extends StatusSource {
  readonly events: SyncEventLog;
  readonly parked: ParkedLog;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  /**
   * Calls `listener` after each transaction that appended events has committed; returns its
   * removal. Without it, new events wait for the worker's next poll.
   */
  onEventsCommitted?(listener: () => void): () => void;
}
