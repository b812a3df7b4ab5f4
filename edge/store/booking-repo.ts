import type { Db } from '../../shared/platform/sqlite.js';

/** A booking as a door sees it: its instants, epoch milliseconds, end exclusive. */
export interface BookedSpan {
  id: string;
  resource: string;
  start: number;
  end: number;
}

const SPAN = 'SELECT id, resource, start_ms AS start, end_ms AS end FROM bookings';

/**
 * The bookings of the directory in force, read on the tap path: prepared once, each a lookup on
 * the member's bookings by start (a member holds a handful). The directory writes them
 * (DirectoryRepo); retention (EventRetention) removes those long over.
 */
export class BookingRepo {
  private readonly ofResource;
  private readonly atSite;
  private readonly count;

  constructor(db: Db) {
    this.ofResource = db.prepare<[string, string, number, number], BookedSpan>(
      `${SPAN} WHERE member = ? AND resource = ? AND start_ms <= ? AND end_ms > ? ORDER BY start_ms`,
    );
    this.atSite = db.prepare<[string, string, number, number], BookedSpan>(
      `${SPAN} WHERE member = ? AND site = ? AND start_ms < ? AND end_ms > ? ORDER BY start_ms`,
    );
    this.count = db.prepare<[], number>('SELECT COUNT(*) FROM bookings').pluck();
  }

  /**
   * The member's bookings of `resource` that reach within `marginMs` of `atMs`: starting no later
   * than `atMs + marginMs`, ending after `atMs - marginMs`.
   */
  around(member: string, resource: string, atMs: number, marginMs: number): BookedSpan[] {
    return this.ofResource.all(member, resource, atMs + marginMs, atMs - marginMs);
  }

  /** The member's bookings at `site` that overlap `[fromMs, toMs)`. */
  overlapping(member: string, site: string, fromMs: number, toMs: number): BookedSpan[] {
    return this.atSite.all(member, site, toMs, fromMs);
  }

  size(): number {
    return this.count.get() ?? 0;
  }
}
