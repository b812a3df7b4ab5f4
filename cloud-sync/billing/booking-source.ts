import { Resource } from '../../shared/protocol/bookings.js';
import type { Sql } from '../hub/db.js';
import { Slices } from '../hub/slices.js';
import { BookingStore } from '../hub/bookings/store.js';
import type { BilledBooking } from './booking-rating.js';
import type { PeriodId } from './period.js';
import { firstDay, nextPeriod } from './period.js';

/**
 * What billing reads of the bookings table (cloud-sync/hub/bookings/store.ts): the bookings
 * that may start in a month, page by page on (start_ms, id) like the events, so that the hub
 * keeps answering meanwhile.
 */

/** Rows one page reads. */
export const BOOKING_PAGE_ROWS = 2_000;

/**
 * Every time zone's offset is within 14 hours of UTC: a month's site-local bookings start
 * within these bounds of its UTC limits. The rating keeps those of the site's own month.
 */
const ZONE_SPAN_MS = 14 * 3_600_000;

export function bookingWindow(period: PeriodId): { fromMs: number; toMs: number } {
  return {
    fromMs: Date.parse(`${firstDay(period)}T00:00:00Z`) - ZONE_SPAN_MS,
    toMs: Date.parse(`${firstDay(nextPeriod(period))}T00:00:00Z`) + ZONE_SPAN_MS,
  };
}

/**
 * The bookings starting in `period`'s window that were made up to `cutoff` (hub ms), in
 * (start, id) order, with their status as it is now: a booking is over before its month
 * closes, so what it became (used, released, cancelled late) is known by then.
 */
export async function readBilledBookings(
  q: Sql,
  period: PeriodId,
  cutoff: number,
  { slices = new Slices(), pageRows = BOOKING_PAGE_ROWS }: { slices?: Slices; pageRows?: number } = {},
): Promise<BilledBooking[]> {
  const { fromMs, toMs } = bookingWindow(period);
  const store = new BookingStore();
  const out: BilledBooking[] = [];
  for (let after = { startMs: fromMs - 1, id: '' }; ;) {
    const rows = await store.startingPage(q, { fromMs, toMs, madeUpTo: cutoff }, after, pageRows);
    out.push(...rows);
    const last = rows.at(-1);
    if (rows.length < pageRows || !last) return out;
    after = { startMs: last.startMs, id: last.id };
    await slices.tick();
  }
}

/** The directory's resources as they are now, by id: what a new rating prices bookings with. */
export async function currentResources(q: Sql): Promise<Resource[]> {
  const values = await q.column<string | null>(
    "SELECT value FROM directory_entities WHERE entity = 'resource' AND deleted = 0 ORDER BY id",
  );
  return values.flatMap((v) => (v === null ? [] : [Resource.parse(JSON.parse(v))]));
}

/**
 * The resources a month was closed with (billing_periods.resources), so that it re-rates with
 * the prices it was billed at; a month closed before bookings were billed has none.
 */
export function frozenResources(json: string | null): Resource[] {
  return json === null ? [] : (JSON.parse(json) as unknown[]).map((r) => Resource.parse(r));
}
