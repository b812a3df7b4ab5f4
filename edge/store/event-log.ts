import type { Db } from '../../shared/platform/sqlite.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import { EVENT_SCHEMA_VERSION } from '../../shared/protocol/events.js';
import { uuidv7 } from '../../shared/platform/ids.js';
import { cachedIsoInZone } from '../../shared/protocol/local-time.js';

/**
 * The site's append-only event log: the outbox the sync worker drains. `append` must run inside
 * the same transaction as the state change it records (docs/architecture.md, invariant 2).
 */
export class EventLog {
  private readonly nextSeq;
  private readonly insert;
  private readonly after;
  private readonly last;
  private readonly acked;
  private readonly setAcked;
  private readonly hubSeqRow;
  private readonly setHubSeq;
  /** Set by `append`, cleared by `takeAppended`: whether the transaction under way wrote events. */
  private appended = false;

  constructor(
    private readonly db: Db,
    private readonly site: string,
    private readonly timeZone: string,
  ) {
    this.nextSeq = db.prepare<[], { value: number }>(
      "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
    );
    this.insert = db.prepare('INSERT INTO events (seq, id, at, at_ms, type, body) VALUES (?, ?, ?, ?, ?, ?)');
    this.after = db.prepare<[number, number], { body: string }>(
      'SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    this.last = db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'seq'");
    this.acked = db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'acked'");
    this.setAcked = db.prepare<[number]>("UPDATE counters SET value = MAX(value, ?) WHERE name = 'acked'");
    // A row of its own in counters, written only when the hub is ahead: no schema change.
    this.hubSeqRow = db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'hub_ahead'");
    this.setHubSeq = db.prepare<[number]>(
      "INSERT INTO counters (name, value) VALUES ('hub_ahead', ?) ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
    );
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
      at: cachedIsoInZone(atMs, this.timeZone),
      type: event.type,
      data: event.data,
    } as SiteEvent;
    this.insert.run(stored.seq, stored.id, stored.at, atMs, stored.type, JSON.stringify(stored));
    this.appended = true;
    return stored;
  }

  /** Whether events were appended since the last call (the store asks after each transaction). */
  takeAppended(): boolean {
    const appended = this.appended;
    this.appended = false;
    return appended;
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

  /**
   * The hub acknowledged `seq`, beyond the last event appended here: this log lost events the
   * hub holds (a deleted or replaced database) and numbers again from where the hub has been.
   * Kept, so a restart and `tessera edge renumber` know it.
   */
  recordHubAhead(seq: number): void {
    if (Number.isInteger(seq) && seq > this.lastSeq()) this.setHubSeq.run(seq);
  }

  /** The hub's ack beyond this log, while it is (nothing may be sent), else undefined. */
  behindHub(): number | undefined {
    const hub = this.hubSeqRow.get()?.value ?? 0;
    return hub > this.lastSeq() ? hub : undefined;
  }

  /**
   * Continues the numbering after `after` (the operator's confirmation of the hub's last seq):
   * the events appended since the loss move to `after + 1` onwards, in order, ids unchanged;
   * the hub's ack is recorded; seqs the hub never had between its ack and `after` are parked as
   * lost (the hub counts a parked range as settled). Refused while the log is not behind the hub, or below the hub's ack.
   */
  renumberAfter(
    after: number,
    atMs: number,
  ): { from: number; to: number; skipped: { from: number; to: number } | undefined } {
    return this.db.transaction(() => {
      const hub = this.behindHub();
      if (hub === undefined)
        throw new TesseraError(
          'conflict',
          `nothing to renumber: the hub has acknowledged no seq beyond this site's last (${this.lastSeq()})`,
        );
      // A restored copy holds events the hub already has under these very numbers: moved, they would count twice.
      if (this.ackedSeq() > 0)
        throw new TesseraError(
          'conflict',
          `this database holds events the hub acknowledged (up to ${this.ackedSeq()}): it is a restored copy, whose events the hub already has; renumbering would send them twice. Move it aside and start the site on an empty database, then renumber that`,
        );
      if (!Number.isInteger(after) || after < hub)
        throw new TesseraError(
          'conflict',
          `the hub holds this site's events up to ${hub}: continue after ${hub} (or later), not after ${after}`,
        );
      // Two steps, so that no seq is ever held by two rows during the move.
      this.db.prepare('UPDATE events SET seq = -seq').run();
      this.db.prepare("UPDATE events SET seq = ? - seq, body = json_set(body, '$.seq', ? - seq)").run(after, after);
      this.db.prepare('UPDATE parked SET from_seq = -from_seq').run();
      this.db.prepare('UPDATE parked SET from_seq = ? - from_seq, to_seq = to_seq + ?').run(after, after);
      const moved = this.lastSeq();
      this.db.prepare("UPDATE counters SET value = value + ? WHERE name = 'seq'").run(after);
      this.db.prepare("UPDATE counters SET value = ? WHERE name = 'acked'").run(hub);
      // Numbers neither the hub nor this log holds: declared, so the hub's ack can pass them.
      const skipped = after > hub ? { from: hub + 1, to: after } : undefined;
      if (skipped)
        this.db
          .prepare('INSERT OR REPLACE INTO parked (from_seq, to_seq, reason, at) VALUES (?, ?, ?, ?)')
          .run(skipped.from, skipped.to, 'lost with the site database: skipped when renumbering', atMs);
      return { from: after + 1, to: after + moved, skipped };
    })();
  }
}
