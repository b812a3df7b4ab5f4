import type { Logger } from 'pino';
import { type Clock, Recurring } from '../../shared/platform/clock.js';
import type { HubDb, Sql } from './db.js';

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per transaction, so that ingest is never held for long. */
const CHUNK = 20_000;
/** Default: 400 days after the close that billed them (a year and a month). */
export const DEFAULT_HUB_RETENTION_DAYS = 400;

const SQL = {
  through: 'SELECT pruned_through FROM retention WHERE id = 1',
  due: 'SELECT MAX(cutoff) AS cutoff FROM billing_periods WHERE closed_at < ?',
  chunk: `
    DELETE FROM events WHERE (site, seq) IN (
      SELECT e.site, e.seq FROM events e JOIN site_progress p ON p.site = e.site
      WHERE e.received_at <= ? AND e.seq <= p.contiguous AND (e.type LIKE 'access.%' OR e.type LIKE 'presence.%')
      LIMIT ?)`,
  save: 'INSERT INTO retention (id, pruned_through) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET pruned_through = excluded.pruned_through',
};

/**
 * Members' presence is personal data (docs/hub.md, "Retention"): the hub keeps access and presence
 * events for `days` after the month close that billed them, then deletes them. An event is
 * billed by the first close whose cutoff is at or after its reception, so the events received up
 * to the cutoff of the last close older than `days` go. Other events (lockers, consumables,
 * device faults) stay. The per-site seq accounting lives in site_progress and only looks above
 * the contiguous seq: an event is pruned only at or below it. Closed invoices are frozen copies
 * and stay as they are; the months whose events are pruned can no longer be re-rated (billing
 * says so, `prunedThrough`).
 */
export class HubRetention {
  private readonly schedule: Recurring;
  /** The prune under way: an hourly tick that comes meanwhile is skipped. */
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: HubDb,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly days: number,
  ) {
    this.schedule = new Recurring(clock, PRUNE_EVERY_MS, () => this.run());
  }

  /** Events received up to this hub time may be pruned (0: none yet); in `q`'s transaction when given. */
  async prunedThrough(q: Sql = this.db): Promise<number> {
    return (await q.value<number>(SQL.through)) ?? 0;
  }

  /** Prunes now, then every hour; a failure is logged, and the next hour tries again. */
  start(): void {
    this.schedule.start();
  }

  stop(): void {
    this.schedule.stop();
  }

  /** Resolves once the prune under way, if any, is done. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Deletes what is due; returns how many events went. */
  async pruneNow(): Promise<number> {
    const through = (await this.db.value<number | null>(SQL.due, [this.clock.now() - this.days * DAY_MS])) ?? null;
    if (through === null || through < (await this.prunedThrough())) return 0;
    // The watermark first: from here on billing treats those months as pruned, even mid-way.
    await this.db.run(SQL.save, [through]);
    let pruned = 0;
    for (;;) {
      const n = (await this.db.run(SQL.chunk, [through, CHUNK])).changes;
      pruned += n;
      if (n < CHUNK) break;
    }
    if (pruned > 0)
      this.log.info(
        { pruned, receivedThrough: new Date(through).toISOString(), retentionDays: this.days },
        'pruned access and presence events billed by a close past their retention',
      );
    return pruned;
  }

  private run(): void {
    if (this.running) return;
    this.running = this.pruneNow()
      .then(
        () => undefined,
        (err: unknown) =>
          this.log.error({ err }, 'could not prune events past their retention: tried again in an hour'),
      )
      .finally(() => {
        this.running = undefined;
      });
  }
}
