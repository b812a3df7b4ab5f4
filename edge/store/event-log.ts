import type { Db } from './db.js';
import type { NewEvent, SiteEvent } from '../../shared/events.js';
import { EVENT_SCHEMA_VERSION } from '../../shared/events.js';
import { uuidv7 } from '../../shared/ids.js';
import { isoInZone } from '../../shared/schedule.js';

/**
 * The site's append-only event log: the outbox the sync worker drains. `append` must run inside
 * the same transaction as the state change it records (DESIGN invariant 2).
 */
export class EventLog {
  private readonly nextSeq;
  private readonly insert;
  private readonly after;
  private readonly last;
  private readonly acked;
  private readonly setAcked;

  constructor(
    private readonly db: Db,
    private readonly site: string,
    private readonly timeZone: string,
  ) {
    this.nextSeq = db.prepare<[], { value: number }>("UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value");
    this.insert = db.prepare('INSERT INTO events (seq, id, at, at_ms, type, body) VALUES (?, ?, ?, ?, ?, ?)');
    this.after = db.prepare<[number, number], { body: string }>('SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.last = db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'seq'");
    this.acked = db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'acked'");
    this.setAcked = db.prepare<[number]>("UPDATE counters SET value = MAX(value, ?) WHERE name = 'acked'");
  }

  /** Gives the event the next seq, an id and its site-local time, and stores it. */
  append(event: NewEvent, atMs: number): SiteEvent {
    if (!this.db.inTransaction) throw new Error('EventLog.append must run inside the transaction of its state change');
    const row = this.nextSeq.get();
    if (!row) throw new Error('the seq counter is missing');
    const stored = {
      v: EVENT_SCHEMA_VERSION,
      site: this.site,
      seq: row.value,
      id: uuidv7(atMs),
      at: isoInZone(atMs, this.timeZone),
      type: event.type,
      data: event.data,
    } as SiteEvent;
    this.insert.run(stored.seq, stored.id, stored.at, atMs, stored.type, JSON.stringify(stored));
    return stored;
  }

  /** Events with seq greater than `afterSeq`, ascending, at most `limit`. */
  list(afterSeq: number, limit: number): SiteEvent[] {
    return this.after.all(afterSeq, limit).map((r) => JSON.parse(r.body) as SiteEvent);
  }

  /** The seq of the last event ever appended (0 before the first). */
  lastSeq(): number {
    return this.last.get()?.value ?? 0;
  }

  /** The highest seq the hub has acknowledged: every event up to it is stored at the hub. */
  ackedSeq(): number {
    return this.acked.get()?.value ?? 0;
  }

  /**
   * Records the hub's acknowledgement. Never moves backwards, and never past the last event
   * appended here: an ack beyond it is not about this store and is refused.
   */
  markAcked(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq > this.lastSeq()) return false;
    this.setAcked.run(seq);
    return true;
  }
}
