import type { SiteEvent } from '../../shared/protocol/events.js';

/** The part of the site's event log the stream reads (edge/store/event-log.ts). */
export interface OutboxSource {
  list(afterSeq: number, limit: number): SiteEvent[];
  lastSeq(): number;
  ackedSeq(): number;
}

/** Inclusive. */
export interface SeqRange {
  from: number;
  to: number;
}

/** Consecutive events to publish as one EventBatch; `id` names it until it settles or fails. */
export interface OutboundBatch extends SeqRange {
  id: number;
  events: SiteEvent[];
}

export interface StreamOptions {
  batchSize: number;
  /** Batches awaiting the broker's PUBACK at most (mqtt.js does not bound this itself). */
  window: number;
  /** Failures in a row before a batch is split into single events, and a single event parked. */
  failureLimit: number;
  /** Without hub ack progress for this long while sent events are unacknowledged: re-send. */
  ackTimeoutMs: number;
  now(): number;
  /** Why this stored event cannot be sent (a row that no longer fits the schema), or undefined. */
  problem?(event: SiteEvent): string | undefined;
}

/** What the caller must do after a failure: nothing more, or park one event with a reason. */
export type FailureVerdict =
  { action: 'retry' } | { action: 'split'; range: SeqRange } | { action: 'park'; seq: number };

/** What `take` found: a batch to publish, or a stored event that must be parked instead. */
export type Take = { batch: OutboundBatch } | { unsendable: number; reason: string };

const inRange = (seq: number, r: SeqRange) => seq >= r.from && seq <= r.to;

/**
 * The outbound side of the outbox, without I/O: a send cursor over the site's gapless event log,
 * batches of consecutive events, a bounded window of batches awaiting PUBACK, go-back-N rewinds
 * (to the hub's ack + 1) on a reported gap, an ack timeout or a reconnect, and the split-then-park
 * rule for a message the broker keeps refusing. The hub is idempotent on (site, seq), so re-sending
 * is always safe; only the hub's ack lets the edge forget anything (a PUBACK proves only that the broker took it).
 */
export class OutboxStream {
  private cursor: number;
  private readonly inFlight = new Map<number, OutboundBatch>();
  private readonly failures = new Map<string, number>();
  private readonly split: SeqRange[] = [];
  private readonly parked: SeqRange[];
  private nextId = 1;
  /** The hub's ack level at the last gap-triggered rewind: one such rewind per level. */
  private rewoundAtAck = -1;
  private lastAckSeen: number;
  private lastProgressAt: number;
  private rewinds = 0;
  /** Sending again below the hub's ack, as the hub asked (`resendFrom`), until the cursor passes it. */
  private resending = false;

  constructor(
    private readonly source: OutboxSource,
    private readonly opts: StreamOptions,
    parked: SeqRange[] = [],
  ) {
    this.parked = parked.map((r) => ({ from: r.from, to: r.to }));
    this.lastAckSeen = source.ackedSeq();
    this.cursor = this.lastAckSeen + 1;
    this.lastProgressAt = opts.now();
  }

  /** The next seq the stream will send. */
  get nextSeq(): number {
    return this.cursor;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get rewindCount(): number {
    return this.rewinds;
  }

  /** Ranges sent single-event after a batch kept failing. */
  splitRanges(): SeqRange[] {
    return this.split.map((r) => ({ ...r }));
  }

  inFlightBatches(): OutboundBatch[] {
    return [...this.inFlight.values()];
  }

  batch(id: number): OutboundBatch | undefined {
    return this.inFlight.get(id);
  }

  /** The next batch to publish, or undefined when the window is full or nothing is left to send. */
  take(): Take | undefined {
    if (this.inFlight.size >= this.opts.window) return undefined;
    this.skipSettled();
    const last = this.source.lastSeq();
    if (this.cursor > last) return undefined;
    const limit = this.limitAt(this.cursor, last);
    const events = this.source.list(this.cursor - 1, limit);
    const first = events[0]?.seq;
    // Re-sending acknowledged events: those already pruned here are skipped.
    if (this.resending && first !== undefined && first > this.cursor) {
      this.cursor = first;
      return this.take();
    }
    const taken: SiteEvent[] = [];
    for (const e of events) {
      if (e.seq !== this.cursor + taken.length) break;
      const problem = this.opts.problem?.(e);
      if (problem !== undefined) {
        if (taken.length === 0) return { unsendable: e.seq, reason: problem };
        break;
      }
      taken.push(e);
    }
    if (taken.length === 0) return undefined;
    if (!this.hasSentUnacked()) this.lastProgressAt = this.opts.now();
    const batch: OutboundBatch = {
      id: this.nextId++,
      from: this.cursor,
      to: this.cursor + taken.length - 1,
      events: taken,
    };
    this.inFlight.set(batch.id, batch);
    this.cursor = batch.to + 1;
    return { batch };
  }

  /** The broker acknowledged the batch (PUBACK): it leaves the window. Not a delivery proof. */
  settled(id: number): void {
    const batch = this.inFlight.get(id);
    if (!batch) return;
    this.inFlight.delete(id);
    this.failures.delete(key(batch));
  }

  /**
   * The batch failed: its publish errored (`stillQueued: false`), or the connection closed while
   * it was being re-sent (`stillQueued: true`: the MQTT client re-sends it by itself unless told
   * otherwise). After `failureLimit` failures in a row a batch is split into single events, and a
   * single event is to be parked; the caller then drops it from the client's queue.
   */
  failed(id: number, stillQueued: boolean): FailureVerdict {
    const batch = this.inFlight.get(id);
    if (!batch) return { action: 'retry' };
    const count = (this.failures.get(key(batch)) ?? 0) + 1;
    let verdict: FailureVerdict = { action: 'retry' };
    if (count >= this.opts.failureLimit) {
      this.failures.delete(key(batch));
      verdict =
        batch.from === batch.to
          ? { action: 'park', seq: batch.from }
          : { action: 'split', range: { from: batch.from, to: batch.to } };
      if (verdict.action === 'split') this.split.push({ from: batch.from, to: batch.to });
    } else {
      this.failures.set(key(batch), count);
    }
    if (!stillQueued || verdict.action !== 'retry') {
      this.inFlight.delete(id);
      this.cursor = Math.min(this.cursor, batch.from);
    }
    return verdict;
  }

  /** A parked event or range: skipped by the stream from now on. */
  parkedRange(range: SeqRange): void {
    this.parked.push({ from: range.from, to: range.to });
    this.parked.sort((a, b) => a.from - b.from);
  }

  /**
   * The hub's ack arrived (already recorded in the store). Returns true if it caused a rewind:
   * `missing` ranges we have already sent past, once per ack level.
   */
  acknowledged(missing: readonly (readonly [number, number])[]): boolean {
    const acked = this.source.ackedSeq();
    if (acked > this.lastAckSeen) {
      this.lastAckSeen = acked;
      this.lastProgressAt = this.opts.now();
    }
    if (this.cursor <= acked && !this.resending) this.cursor = acked + 1;
    const behindCursor = missing.some(([from]) => from < this.cursor);
    if (!behindCursor || this.rewoundAtAck === acked) return false;
    this.rewoundAtAck = acked;
    this.rewind();
    return true;
  }

  /** Re-send from the hub's ack + 1 (after a reconnect, a gap, a timeout); a re-send asked by the hub is already behind it. */
  rewind(): void {
    if (!this.resending) this.cursor = this.source.ackedSeq() + 1;
    this.lastProgressAt = this.opts.now();
    this.rewinds++;
  }

  /**
   * The hub asks for every stored event from `fromSeq` again, acknowledged ones included (it lost
   * them: a restore from backup). The hub applies each (site, seq) once, so this is always safe.
   * Returns the seq the stream goes on from (the first still stored; later than the cursor: no change).
   */
  resendFrom(fromSeq: number): number {
    const first = this.source.list(Math.max(0, fromSeq - 1), 1)[0]?.seq;
    if (first === undefined || first >= this.cursor) return this.cursor;
    this.cursor = first;
    this.resending = first <= this.source.ackedSeq();
    this.lastProgressAt = this.opts.now();
    this.rewinds++;
    return first;
  }

  /** Rewinds if sent events have waited for the hub's ack longer than the ack timeout. */
  checkAckTimeout(): boolean {
    if (!this.hasSentUnacked() || this.opts.now() - this.lastProgressAt < this.opts.ackTimeoutMs) return false;
    this.rewind();
    return true;
  }

  /** Sent (or being sent) events the hub has not acknowledged yet. */
  hasSentUnacked(): boolean {
    return this.cursor - 1 > this.source.ackedSeq() || this.inFlight.size > 0;
  }

  /** Moves the cursor past acked, parked and in-flight seqs (in-flight ones are re-sent by the client). */
  private skipSettled(): void {
    const acked = this.source.ackedSeq();
    if (this.resending && this.cursor > acked) this.resending = false;
    if (!this.resending) this.cursor = Math.max(this.cursor, acked + 1);
    for (let i = this.split.length - 1; i >= 0; i--) if ((this.split[i]?.to ?? 0) <= acked) this.split.splice(i, 1);
    for (;;) {
      const over =
        this.parked.find((r) => inRange(this.cursor, r)) ??
        [...this.inFlight.values()].find((b) => inRange(this.cursor, b));
      if (!over) return;
      this.cursor = over.to + 1;
    }
  }

  /** How many events the batch at `from` may hold: it stops before a parked, in-flight or split range. */
  private limitAt(from: number, last: number): number {
    if (this.split.some((r) => inRange(from, r))) return 1;
    let end = Math.min(last, from + this.opts.batchSize - 1);
    for (const r of [...this.parked, ...this.inFlight.values(), ...this.split]) {
      if (r.from > from && r.from <= end) end = r.from - 1;
    }
    return end - from + 1;
  }
}

function key(r: SeqRange): string {
  return `${r.from}-${r.to}`;
}
