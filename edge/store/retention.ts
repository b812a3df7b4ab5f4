import type { Logger } from 'pino';
import { type Clock, Recurring } from '../../shared/platform/clock.js';
import type { Db } from '../../shared/platform/sqlite.js';

const DAY_MS = 86_400_000;
/** How often the log is pruned while the site runs (and once at start). */
const PRUNE_EVERY_MS = 3_600_000;
/**
 * A booking stays this long after its end: its grace is long over, and nothing at the door looks
 * at it again (a day-bound rule looks at the day it touches, which has ended too).
 */
export const BOOKING_KEPT_AFTER_END_MS = DAY_MS;

/**
 * Members' presence is personal data (docs/config.md, `storage`): the site keeps an event only until the
 * hub has it and `days` have passed. It never deletes an event the hub has not acknowledged
 * (docs/architecture.md, invariant 4), nor a parked one (the hub's ack covers parked seqs, but it never
 * received them). The seq counter lives apart from the rows, so the next seq stays gapless.
 * Bookings ended more than a day ago go too: they name a member and a time, and no door needs
 * them any more (the hub keeps the record).
 */
export class EventRetention {
  private readonly prune;
  private readonly pruneBookings;
  private readonly schedule: Recurring;

  constructor(
    db: Db,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly days: number,
  ) {
    this.prune = db.prepare<[number]>(`
      DELETE FROM events
      WHERE seq <= (SELECT value FROM counters WHERE name = 'acked') AND at_ms < ?
        AND NOT EXISTS (SELECT 1 FROM parked WHERE events.seq BETWEEN parked.from_seq AND parked.to_seq)`);
    this.pruneBookings = db.prepare<[number]>('DELETE FROM bookings WHERE end_ms < ?');
    this.schedule = new Recurring(clock, PRUNE_EVERY_MS, () => this.pruneNow());
  }

  /** Prunes now, then every hour. */
  start(): void {
    this.schedule.start();
  }

  stop(): void {
    this.schedule.stop();
  }

  /**
   * Deletes the acknowledged, unparked events older than the retention, and the bookings ended
   * more than a day ago; returns how many events.
   */
  pruneNow(): number {
    const now = this.clock.now();
    const pruned = this.prune.run(now - this.days * DAY_MS).changes;
    if (pruned > 0)
      this.log.info({ pruned, retentionDays: this.days }, 'pruned events the hub holds, past their retention');
    const bookings = this.pruneBookings.run(now - BOOKING_KEPT_AFTER_END_MS).changes;
    if (bookings > 0) this.log.info({ bookings }, 'pruned bookings ended more than a day ago');
    return pruned;
  }
}
