import { BOOKING_STATUSES } from '../../../shared/protocol/api/hub-bookings.js';
import type { Sql } from '../db.js';
import { sqlDialect } from '../storage/dialect.js';

/**
 * The `bookings` table: every booking ever made, confirmed or not, one row each. What the door
 * needs of the confirmed ones is also in the directory (entity `booking`); this table is what
 * the API, billing, the calendar feeds and the availability read.
 *
 * Every read that asks for a window uses the indexes on (resource|site|member, start_ms): a
 * booking lasts at most `MAX_BOOKING_MS`, so those overlapping [from, to) start in
 * [from - MAX_BOOKING_MS, to), a bounded range of the index.
 */
export { BOOKING_STATUSES };
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/** The longest booking: one site-local day, 25 hours on the day the clocks go back. */
export const MAX_BOOKING_MS = 25 * 3_600_000;

/** One booking as stored. Instants in UTC ms; `endMs` exclusive. */
export interface BookingRow {
  id: string;
  resource: string;
  site: string;
  member: string;
  startMs: number;
  endMs: number;
  status: BookingStatus;
  /** The account that made it. */
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  /** When it was cancelled (ms), for a cancelled booking. */
  cancelledAt: number | null;
  /** Cancelled later than the resource's free-cancellation hours before its start: billed. */
  lateCancellation: boolean;
}

/** A confirmed booking's resource, site and instants: all the availability reads of it. */
export interface BookedSpan {
  resource: string;
  site: string;
  startMs: number;
  endMs: number;
}

interface Stored {
  id: string;
  resource: string;
  site: string;
  member: string;
  start_ms: number;
  end_ms: number;
  status: BookingStatus;
  created_by: string;
  created_at: number;
  updated_at: number;
  cancelled_at: number | null;
  late_cancellation: number;
}

const COLUMNS =
  'id, resource, site, member, start_ms, end_ms, status, created_by, created_at, updated_at, cancelled_at, late_cancellation';

const toRow = (r: Stored): BookingRow => ({
  id: r.id,
  resource: r.resource,
  site: r.site,
  member: r.member,
  startMs: Number(r.start_ms),
  endMs: Number(r.end_ms),
  status: r.status,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  cancelledAt: r.cancelled_at === null ? null : Number(r.cancelled_at),
  lateCancellation: Number(r.late_cancellation) === 1,
});

/** `key = ?` and the bounded start range of the bookings overlapping [from, to). */
const overlapping = (key: 'resource' | 'site' | 'member') =>
  `SELECT ${COLUMNS} FROM bookings WHERE ${key} = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ?`;
const window = (fromMs: number, toMs: number) => [fromMs - MAX_BOOKING_MS, toMs, fromMs];

/** Reads and writes of the `bookings` table, each through the handle given (the caller's transaction, or the database). */
export class BookingStore {
  async get(q: Sql, id: string): Promise<BookingRow | undefined> {
    if (id.includes('\u0000')) return undefined;
    const r = await q.get<Stored>(`SELECT ${COLUMNS} FROM bookings WHERE id = ?`, [id]);
    return r && toRow(r);
  }

  /** The member's bookings (every status) overlapping [fromMs, toMs), by start. */
  async forMember(q: Sql, member: string, fromMs: number, toMs: number): Promise<BookingRow[]> {
    const rows = await q.all<Stored>(`${overlapping('member')} ORDER BY start_ms, id`, [
      member,
      ...window(fromMs, toMs),
    ]);
    return rows.map(toRow);
  }

  /** The bookings named, in one statement (ids not there are absent). */
  async byIds(q: Sql, ids: readonly string[]): Promise<BookingRow[]> {
    const asked = [...new Set(ids)].filter((id) => !id.includes('\u0000'));
    if (asked.length === 0) return [];
    const rows = await q.all<Stored>(
      `SELECT ${COLUMNS} FROM bookings WHERE ${sqlDialect(q).inJsonArray('id', '?')} ORDER BY id`,
      [JSON.stringify(asked)],
    );
    return rows.map(toRow);
  }

  /** The site's bookings (every status) overlapping [fromMs, toMs), by start. */
  async forSite(q: Sql, site: string, fromMs: number, toMs: number): Promise<BookingRow[]> {
    const rows = await q.all<Stored>(`${overlapping('site')} ORDER BY start_ms, id`, [site, ...window(fromMs, toMs)]);
    return rows.map(toRow);
  }

  /** The resource's bookings (every status) overlapping [fromMs, toMs), by start: a room's calendar. */
  async forResource(q: Sql, resource: string, fromMs: number, toMs: number): Promise<BookingRow[]> {
    const rows = await q.all<Stored>(`${overlapping('resource')} ORDER BY start_ms, id`, [
      resource,
      ...window(fromMs, toMs),
    ]);
    return rows.map(toRow);
  }

  /** Every booking (every status) starting in [fromMs, toMs): a month's bookings for billing, by start. */
  async inMonth(q: Sql, fromMs: number, toMs: number): Promise<BookingRow[]> {
    const rows = await q.all<Stored>(
      `SELECT ${COLUMNS} FROM bookings WHERE start_ms >= ? AND start_ms < ? ORDER BY start_ms, id`,
      [fromMs, toMs],
    );
    return rows.map(toRow);
  }

  /**
   * One page of the bookings (every status) starting in [fromMs, toMs) and made up to
   * `madeUpTo`, after `after` in (start, id) order: how billing reads a month a page at a time.
   */
  async startingPage(
    q: Sql,
    range: { fromMs: number; toMs: number; madeUpTo: number },
    after: { startMs: number; id: string },
    limit: number,
  ): Promise<BookingRow[]> {
    const rows = await q.all<Stored>(
      `SELECT ${COLUMNS} FROM bookings
        WHERE start_ms >= ? AND start_ms < ? AND created_at <= ? AND (start_ms, id) > (?, ?)
        ORDER BY start_ms, id LIMIT ?`,
      [range.fromMs, range.toMs, range.madeUpTo, after.startMs, after.id, limit],
    );
    return rows.map(toRow);
  }

  /**
   * The bookings (every status) overlapping [fromMs, toMs) at any of `sites` or of any of
   * `members`, by start: one statement over the (site|member, start_ms) index.
   */
  async inWindow(
    q: Sql,
    by: { sites: readonly string[] } | { members: readonly string[] },
    fromMs: number,
    toMs: number,
  ): Promise<BookingRow[]> {
    const [key, ids] = 'sites' in by ? (['site', by.sites] as const) : (['member', by.members] as const);
    if (ids.length === 0) return [];
    const rows = await q.all<Stored>(
      `SELECT ${COLUMNS} FROM bookings WHERE ${sqlDialect(q).inJsonArray(key, '?')} AND start_ms >= ? AND start_ms < ? AND end_ms > ? ORDER BY start_ms, id`,
      [JSON.stringify(ids), ...window(fromMs, toMs)],
    );
    return rows.map(toRow);
  }

  /**
   * Where and when the confirmed bookings overlapping [fromMs, toMs) at any of `sites` hold
   * their resource, in no order: what the availability needs and nothing more. Every column it
   * reads is in the partial index `bookings_confirmed_by_site`, which holds the confirmed
   * bookings only (`status = 'confirmed'` written literally, so that both planners match it):
   * a range of that index per site, no lookup in the table, no sort.
   */
  async confirmedSpans(q: Sql, sites: readonly string[], fromMs: number, toMs: number): Promise<BookedSpan[]> {
    if (sites.length === 0) return [];
    const rows = await q.all<{ resource: string; site: string; start_ms: number; end_ms: number }>(
      `SELECT resource, site, start_ms, end_ms FROM bookings WHERE ${sqlDialect(q).inJsonArray('site', '?')} AND start_ms >= ? AND start_ms < ? AND end_ms > ? AND status = 'confirmed'`,
      [JSON.stringify(sites), ...window(fromMs, toMs)],
    );
    return rows.map((r) => ({
      resource: r.resource,
      site: r.site,
      startMs: Number(r.start_ms),
      endMs: Number(r.end_ms),
    }));
  }

  /** The confirmed bookings of the resource overlapping [fromMs, toMs): what a new booking is checked against. */
  async confirmedOn(q: Sql, resource: string, fromMs: number, toMs: number): Promise<BookingRow[]> {
    const rows = await q.all<Stored>(`${overlapping('resource')} AND status = 'confirmed' ORDER BY start_ms, id`, [
      resource,
      ...window(fromMs, toMs),
    ]);
    return rows.map(toRow);
  }

  async insert(q: Sql, b: BookingRow): Promise<void> {
    await q.run(`INSERT INTO bookings (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      b.id,
      b.resource,
      b.site,
      b.member,
      b.startMs,
      b.endMs,
      b.status,
      b.createdBy,
      b.createdAt,
      b.updatedAt,
      b.cancelledAt,
      b.lateCancellation ? 1 : 0,
    ]);
  }

  /** Writes a booking's changed fields (its id, member and creation stay). */
  async update(q: Sql, b: BookingRow): Promise<void> {
    await q.run(
      'UPDATE bookings SET resource = ?, site = ?, start_ms = ?, end_ms = ?, status = ?, updated_at = ?, cancelled_at = ?, late_cancellation = ? WHERE id = ?',
      [b.resource, b.site, b.startMs, b.endMs, b.status, b.updatedAt, b.cancelledAt, b.lateCancellation ? 1 : 0, b.id],
    );
  }
}
