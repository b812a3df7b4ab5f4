import { DateTime } from 'luxon';
import type { Resource } from '../../shared/protocol/bookings.js';
import { localDay } from '../../shared/protocol/schedule.js';
import type { BookingTerms } from '../../shared/protocol/api/hub-billing.js';
import type { BookingRow } from '../hub/bookings/store.js';
import type { PeriodId } from './period.js';
import { periodOf } from './period.js';

/**
 * The billing of bookings (docs/billing.md "Bookings"): a pure function of a member's bookings
 * of one month, the resources' prices and the plan's booking terms. Lengths are elapsed time
 * between two instants, never wall-clock differences: a booking across the night the clocks go
 * back lasts what it lasted.
 */

/** What billing keeps of a row of the bookings table. */
export type BilledBooking = Pick<
  BookingRow,
  'id' | 'resource' | 'site' | 'member' | 'startMs' | 'endMs' | 'status' | 'lateCancellation'
>;

export type BookingLineKind = 'room-hours' | 'room-half-day' | 'desk-booking' | 'late-cancellation' | 'no-show';

/** A charge for bookings of one resource, before the member's account and the plan's VAT are added. */
export interface BookingLine {
  site: string;
  kind: BookingLineKind;
  /** The resource booked. */
  item: string;
  description: string;
  quantity: number;
  unitCents: number;
  /** The site-local dates of the bookings' starts (a desk: every day it covers). */
  dates: string[];
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * A site without a declared time zone has no bookable hours, so none of its bookings can
 * exist; should one be found anyway, it is dated in UTC rather than dropped.
 */
const zoneOf = (site: string, zones: ReadonlyMap<string, string>) => zones.get(site) ?? 'UTC';

/** The month a booking is billed in: that of its start, in its site's time zone. */
export const bookingPeriod = (b: BilledBooking, zones: ReadonlyMap<string, string>): PeriodId =>
  periodOf(localDay(b.startMs, zoneOf(b.site, zones)));

/** Bookings in the order the included hours are used up: by start, then by id (a stable tie). */
const byStart = (a: BilledBooking, b: BilledBooking): number =>
  a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The charges for one member's bookings of one month. Included room hours are used up by the
 * bookings in start order, whatever they become: a confirmed room booking, and a late
 * cancellation or a no-show billed at its own price (the plan sets no fee for it), use them as
 * if the room had been used; a fee, a free cancellation and a desk use none.
 */
export function bookingLines(
  bookings: readonly BilledBooking[],
  resources: ReadonlyMap<string, Resource>,
  terms: BookingTerms | undefined,
  zones: ReadonlyMap<string, string>,
): BookingLine[] {
  const lines: BookingLine[] = [];
  let left = terms?.includedRoomHoursPerMonth ?? 0;
  for (const b of [...bookings].sort(byStart)) {
    // A resource deleted since is no longer priced: docs/billing.md says to close its months first.
    const resource = resources.get(b.resource);
    if (!resource || (b.status === 'cancelled' && !b.lateCancellation)) continue;
    const date = localDay(b.startMs, zoneOf(b.site, zones));
    const fee =
      b.status === 'no_show' ? terms?.noShowCents : b.status === 'cancelled' ? terms?.lateCancellationCents : undefined;
    if (fee !== undefined) {
      if (fee > 0) lines.push(feeLine(b, resource, fee, [date]));
      continue;
    }
    const own =
      resource.kind === 'room'
        ? roomCharge(b, resource, date, left, terms)
        : deskCharge(b, resource, zoneOf(b.site, zones));
    if (resource.kind === 'room') left -= own.includedHours;
    if (!own.line || own.line.quantity * own.line.unitCents === 0) continue;
    // Not used, billed at the booking's own price: one line of its whole price, named for what happened.
    lines.push(
      b.status === 'confirmed'
        ? own.line
        : feeLine(b, resource, own.line.quantity * own.line.unitCents, own.line.dates),
    );
  }
  return lines;
}

function feeLine(b: BilledBooking, resource: Resource, cents: number, dates: string[]): BookingLine {
  const noShow = b.status === 'no_show';
  return {
    site: b.site,
    kind: noShow ? 'no-show' : 'late-cancellation',
    item: resource.id,
    description: `${resource.name}: ${noShow ? 'no-show' : 'late cancellation'}`,
    quantity: 1,
    unitCents: cents,
    dates,
  };
}

interface OwnCharge {
  line: BookingLine | undefined;
  /** Included room hours this booking used up. */
  includedHours: number;
}

/**
 * A room: its started hours, less the included hours left, at the hourly price; or the half-day
 * price when the booking lasts at most the half-day length and that is less.
 */
function roomCharge(
  b: BilledBooking,
  room: Resource,
  date: string,
  left: number,
  terms: BookingTerms | undefined,
): OwnCharge {
  const elapsed = b.endMs - b.startMs;
  const hours = Math.ceil(elapsed / HOUR_MS);
  const includedHours = Math.min(left, hours);
  const charged = hours - includedHours;
  if (charged === 0) return { line: undefined, includedHours };
  const prices = room.prices;
  const byHours = prices?.hourCents === undefined ? undefined : charged * prices.hourCents;
  const halfDay =
    prices?.halfDayCents !== undefined && elapsed <= prices.halfDayMinutes * MINUTE_MS
      ? prices.halfDayCents
      : undefined;
  const base = { site: b.site, item: room.id, dates: [date] };
  if (halfDay !== undefined && (byHours === undefined || halfDay < byHours))
    return {
      includedHours,
      line: { ...base, kind: 'room-half-day', description: `${room.name}: half-day`, quantity: 1, unitCents: halfDay },
    };
  if (prices?.hourCents === undefined) return { line: undefined, includedHours };
  const included = terms?.includedRoomHoursPerMonth ?? 0;
  const description =
    included > 0 ? `${room.name}: hours beyond the ${included} included a month` : `${room.name}: hours`;
  return {
    includedHours,
    line: { ...base, kind: 'room-hours', description, quantity: charged, unitCents: prices.hourCents },
  };
}

/** A desk or a desk pool: each site-local day the booking covers, at the day price if it has one. */
function deskCharge(b: BilledBooking, desk: Resource, zone: string): OwnCharge {
  const dayCents = desk.prices?.dayCents;
  if (dayCents === undefined) return { line: undefined, includedHours: 0 };
  const dates = coveredDays(b.startMs, b.endMs, zone);
  return {
    includedHours: 0,
    line: {
      site: b.site,
      kind: 'desk-booking',
      item: desk.id,
      description: `${desk.name}: booked days`,
      quantity: dates.length,
      unitCents: dayCents,
      dates,
    },
  };
}

/** The site-local dates from the start's to that of the last instant before the end. */
function coveredDays(startMs: number, endMs: number, zone: string): string[] {
  const dates: string[] = [];
  const last = localDay(endMs - 1, zone);
  for (let day = DateTime.fromMillis(startMs, { zone }).startOf('day'); ; day = day.plus({ days: 1 })) {
    const date = day.toISODate() ?? '';
    dates.push(date);
    if (date >= last) return dates;
  }
}
