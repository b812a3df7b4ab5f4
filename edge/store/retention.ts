import type { Logger } from 'pino';
import { type Clock, Recurring } from '../../shared/platform/clock.js';
import type { Db } from '../../shared/platform/sqlite.js';

const DAY_MS = 86_400_000;
/** How often the log is pruned while the site runs (and once at start). */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Members' presence is personal data (docs/config.md, `storage`): the site keeps an event only until the
 * hub has it and `days` have passed. It never deletes an event the hub has not acknowledged
 * (docs/architecture.md, invariant 4), nor a parked one (the hub's ack covers parked seqs, but it never
 * received them). The seq counter lives apart from the rows, so the next seq stays gapless.
 */
export class EventRetention {
  private readonly prune;
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
    this.schedule = new Recurring(clock, PRUNE_EVERY_MS, () => this.pruneNow());
  }

  /** Prunes now, then every hour. */
  start(): void {
    this.schedule.start();
  }

  stop(): void {
    this.schedule.stop();
  }

  /** Deletes the acknowledged, unparked events older than the retention; returns how many. */
  pruneNow(): number {
    const pruned = this.prune.run(this.clock.now() - this.days * DAY_MS).changes;
    if (pruned > 0)
      this.log.info({ pruned, retentionDays: this.days }, 'pruned events the hub holds, past their retention');
    return pruned;
  }
}
