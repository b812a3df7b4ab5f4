import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../shared/platform/clock.js';
import { BOOKING_GRACE_MINUTES, type Resource } from '../../../shared/protocol/bookings.js';
import type { HubDb } from '../db.js';
import type { HubDirectory } from '../directory.js';
import { sqlDialect } from '../storage/dialect.js';
import { DAY_MS, MINUTE_MS } from './rules.js';
import { BookingStore, type BookingRow } from './store.js';

export interface NoShowDeps {
  db: HubDb;
  directory: HubDirectory;
  clock: Clock;
  log: Logger;
  /** Called after a release committed: the site's door stops opening for it. */
  onDirectoryChange: () => void;
}

/** The shortest no-show delay a resource may have: nothing is due before it. */
const MIN_NO_SHOW_MINUTES = 5;

/**
 * Releases room bookings nobody came for (docs/bookings.md "No-shows"): every minute, a
 * confirmed room booking whose start is more than the room's `noShowMinutes` ago, and whose
 * holder has no access.granted or presence.in at the booking's site since
 * BOOKING_GRACE_MINUTES before its start (a tap at the room's reader is one), becomes
 * `no_show` and leaves the directory, like a revoked badge. Bookings started more than a day
 * ago are left as they are (the hub was down: billing must not guess).
 */
export class NoShowSweeper {
  private timer: TimerHandle | undefined;
  private running: Promise<unknown> = Promise.resolve();
  /** Bookings found honoured: not asked about again. */
  private readonly honoured = new Set<string>();
  private readonly store = new BookingStore();

  constructor(private readonly deps: NoShowDeps) {}

  start(): void {
    this.timer ??= this.deps.clock.setInterval(() => {
      this.running = this.sweep().catch((err: unknown) => this.deps.log.error({ err }, 'no-show sweep failed'));
    }, MINUTE_MS);
  }

  /** Stops the timer and waits for a sweep under way. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  /** One pass: the ids of the bookings released. */
  async sweep(): Promise<string[]> {
    const now = this.deps.clock.now();
    const due = await this.due(now);
    if (due.length === 0) return [];
    const came = await this.cameSince(due);
    const released: string[] = [];
    for (const b of due) {
      if (came(b)) this.honoured.add(b.id);
      else if (await this.release(b.id, now)) released.push(b.id);
    }
    if (released.length > 0) this.deps.onDirectoryChange();
    return released;
  }

  /** Confirmed room bookings past their no-show delay, not yet found honoured. */
  private async due(now: number): Promise<BookingRow[]> {
    const started = (
      await this.store.inMonth(this.deps.db, now - DAY_MS, now - MIN_NO_SHOW_MINUTES * MINUTE_MS)
    ).filter((b) => b.status === 'confirmed' && !this.honoured.has(b.id));
    const rooms = await this.deps.directory.getMany(
      this.deps.db,
      'resource',
      started.map((b) => b.resource),
    );
    return started.filter((b) => {
      const r: Resource | undefined = rooms.get(b.resource);
      return r?.kind === 'room' && now > b.startMs + r.noShowMinutes * MINUTE_MS;
    });
  }

  /** Whether each booking's holder tapped or came in at its site since the grace before its start: one statement. */
  private async cameSince(due: readonly BookingRow[]): Promise<(b: BookingRow) => boolean> {
    const d = sqlDialect(this.deps.db);
    const earliest = Math.min(...due.map((b) => b.startMs)) - BOOKING_GRACE_MINUTES * MINUTE_MS;
    // `at` is site-local ISO text: the day before the earliest bound, as text, is a safe lower bound.
    const dayBefore = new Date(earliest - DAY_MS).toISOString().slice(0, 10);
    const member = d.jsonText('body', 'data.memberId');
    const rows = await this.deps.db.all<{ site: string; at: string; member: string }>(
      `SELECT site, at, ${member} AS member FROM events WHERE ${d.inJsonArray(member, '?')} AND type IN ('access.granted', 'presence.in') AND at >= ?`,
      [JSON.stringify([...new Set(due.map((b) => b.member))]), dayBefore],
    );
    return (b) =>
      rows.some(
        (e) =>
          e.member === b.member &&
          e.site === b.site &&
          Date.parse(e.at) >= b.startMs - BOOKING_GRACE_MINUTES * MINUTE_MS,
      );
  }

  /** Marks the booking no_show and takes it out of the directory, if it is still confirmed. */
  private release(id: string, now: number): Promise<boolean> {
    return this.deps.db.transaction(async (tx) => {
      const b = await this.store.get(tx, id);
      if (b?.status !== 'confirmed') return false;
      await this.store.update(tx, { ...b, status: 'no_show', updatedAt: now });
      await this.deps.directory.remove(tx, 'booking', id);
      return true;
    });
  }
}
