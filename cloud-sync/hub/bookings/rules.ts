import { DateTime } from 'luxon';
import type { Resource } from '../../../shared/protocol/bookings.js';
import type { Member, Plan } from '../../../shared/protocol/directory.js';
import { DAYS, minutesOf, type WeeklyWindow } from '../../../shared/protocol/schedule.js';
import { TesseraError } from '../../../shared/platform/errors.js';

/**
 * The rules of a booking, without storage: wall times to instants, bookable hours, a desk pool's
 * peak, the horizon, late cancellations. Instants are UTC ms throughout, so that an overlap is
 * one comparison whatever the clocks on the wall did (DST).
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** How far ahead a booking may start. */
export const BOOKING_HORIZON_DAYS = 90;

/** Half-open [startMs, endMs). */
export interface Span {
  startMs: number;
  endMs: number;
}

const invalid = (path: string, message: string) => new TesseraError('request.invalid', message, [{ path, message }]);

/**
 * The instant of wall time `hhmm` on `date` in `zone`. A wall time the clocks skip (spring
 * forward) or show twice (fall back) is refused, naming it: a booking never starts or ends at a
 * time its holder could read two ways, or at one that does not exist.
 */
export function wallInstant(date: string, hhmm: string, zone: string, path: string): number {
  const t = DateTime.fromISO(`${date}T${hhmm}`, { zone });
  if (!t.isValid) throw invalid(path, `${date} ${hhmm} is not a time in ${zone}`);
  if (hhmm === '24:00') return t.toMillis();
  const offsets = t.getPossibleOffsets();
  if (t.toFormat('HH:mm') !== hhmm || t.toISODate() !== date)
    throw invalid(path, `${date} ${hhmm} does not exist in ${zone} (the clocks go forward): choose another time`);
  if (offsets.length > 1)
    throw invalid(path, `${date} ${hhmm} happens twice in ${zone} (the clocks go back): choose another time`);
  return t.toMillis();
}

/** `from` to `to` on `date` in `zone` as instants; `to` must be later the same day (24:00: midnight after). */
export function wallSpan(w: { date: string; from: string; to: string }, zone: string): Span {
  if (minutesOf(w.to) <= minutesOf(w.from)) throw invalid('to', 'a booking ends after it starts, the same day');
  return { startMs: wallInstant(w.date, w.from, zone, 'from'), endMs: wallInstant(w.date, w.to, zone, 'to') };
}

/** The instants the weekly windows cover on the site-local days around `span`, merged. */
function bookableAround(windows: readonly WeeklyWindow[], span: Span, zone: string): Span[] {
  const first = DateTime.fromMillis(span.startMs, { zone }).startOf('day').minus({ days: 1 });
  const out: Span[] = [];
  for (let i = 0; i < 4; i++) {
    const day = first.plus({ days: i });
    const name = DAYS[day.weekday - 1];
    for (const w of windows) {
      if (name === undefined || !w.days.includes(name)) continue;
      const date = day.toISODate() ?? '';
      const endDay = minutesOf(w.to) <= minutesOf(w.from) ? (day.plus({ days: 1 }).toISODate() ?? '') : date;
      // A window's edge in a DST gap lands where luxon puts it (later): the door's own reading.
      const startMs = DateTime.fromISO(`${date}T${w.from}`, { zone }).toMillis();
      const endMs = DateTime.fromISO(`${endDay}T${w.to}`, { zone }).toMillis();
      if (endMs > startMs) out.push({ startMs, endMs });
    }
  }
  out.sort((a, b) => a.startMs - b.startMs);
  const merged: Span[] = [];
  for (const s of out) {
    const last = merged.at(-1);
    if (last && s.startMs <= last.endMs) last.endMs = Math.max(last.endMs, s.endMs);
    else merged.push({ ...s });
  }
  return merged;
}

/** Whether the whole of `span` lies in the resource's bookable hours (site-local). */
export function withinHours(windows: readonly WeeklyWindow[], span: Span, zone: string): boolean {
  return bookableAround(windows, span, zone).some((b) => b.startMs <= span.startMs && span.endMs <= b.endMs);
}

/** The most of `spans` that overlap at any instant of `within` (a sweep over their ends). */
export function peakOverlap(spans: readonly Span[], within: Span): number {
  const edges: Array<[number, number]> = [];
  for (const s of spans) {
    const from = Math.max(s.startMs, within.startMs);
    const to = Math.min(s.endMs, within.endMs);
    if (from < to) edges.push([from, 1], [to, -1]);
  }
  // At one instant an end comes before a start: end-exclusive spans that touch do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  return peak;
}

export const overlaps = (a: Span, b: Span): boolean => a.startMs < b.endMs && b.startMs < a.endMs;

/** Refuses a span starting in the past or beyond the horizon. */
export function checkHorizon(span: Span, nowMs: number): void {
  if (span.startMs < nowMs) throw invalid('from', 'a booking cannot start in the past');
  if (span.startMs > nowMs + BOOKING_HORIZON_DAYS * DAY_MS)
    throw invalid('date', `a booking starts at most ${BOOKING_HORIZON_DAYS} days ahead`);
}

/** Refuses a holder whose membership does not let them book the resource on `date`. */
export function checkHolder(member: Member, plan: Plan | undefined, resource: Resource, date: string): void {
  const refuse = (message: string) => {
    throw invalid('member', message);
  };
  if (member.status !== 'active') refuse(`member ${member.id} is suspended`);
  if (plan === undefined) refuse(`member ${member.id} has no plan`);
  else {
    if (resource.plans !== 'all' && !resource.plans.includes(plan.id))
      refuse(`plan ${plan.id} may not book ${resource.name}`);
    if (plan.sites !== 'all' && !plan.sites.includes(resource.site))
      refuse(`plan ${plan.id} does not open the site ${resource.site}`);
  }
  if (member.validFrom !== undefined && date < member.validFrom)
    refuse(`member ${member.id}'s membership starts on ${member.validFrom}`);
  if (member.validUntil !== undefined && date > member.validUntil)
    refuse(`member ${member.id}'s membership ends on ${member.validUntil}`);
}

/** Whether a cancellation at `nowMs` is late: after the resource's free-cancellation hours before the start. */
export const isLateCancellation = (resource: Resource, startMs: number, nowMs: number): boolean =>
  nowMs > startMs - resource.freeCancellationHours * HOUR_MS;

/** The conflict, if any, of `span` for the resource with the confirmed bookings `others` (the booking moved left out). */
export function conflictOf(resource: Resource, span: Span, others: readonly Span[]): string | undefined {
  if (resource.kind === 'desk-pool') {
    const peak = peakOverlap(others, span);
    return peak + 1 > (resource.size ?? 0)
      ? `${resource.name} is full then: its ${resource.size} desks are all booked at some moment of that time`
      : undefined;
  }
  return others.some((o) => overlaps(o, span)) ? `${resource.name} is already booked at that time` : undefined;
}
