import { DateTime, IANAZone } from 'luxon';
import { isoInZone, localDay, localWeekStart } from './schedule.js';

/**
 * Site-local time on a hot path (a tap), with luxon as the only judge of time zones and DST, but
 * asked once per stretch of time rather than once per call. For an instant, luxon gives the local
 * day, its week, its bounds and the zone's offset, and finds how long all of that holds: until
 * the next local midnight or the next change of offset (a DST change), whichever comes first.
 * Within that stretch the wall clock moves exactly as real time does (one offset, one day), so an
 * instant's wall time is the stretch's start plus the time elapsed since. An instant outside the
 * stretch (the next day, a DST change, a clock set back) asks luxon again; each zone has its own
 * stretch, so a change of the site's zone is a different entry, never a stale one.
 */

/** What holds over [from, until) in one zone. */
interface Span {
  from: number;
  until: number;
  day: string;
  weekStart: string;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  /** The local day's first instant and the next day's, as luxon's `startOf('day')` gives them. */
  dayStart: number;
  dayEnd: number;
  /** Wall-clock milliseconds since local midnight at `from`. */
  wallAtFrom: number;
  /** The offset as luxon writes it at the end of an ISO time: `+02:00`, `Z`. */
  offsetIso: string;
}

const HOUR_MS = 3_600_000;
/** Zones remembered at once; a site has one, tests a few. */
const MAX_ZONES = 32;

const spans = new Map<string, Span>();

/**
 * The first instant after `from` (at most `end`) where the zone's offset differs from `offset`.
 * Hour by hour, then bisection to the millisecond: no zone changes its offset twice within an hour.
 */
function nextOffsetChange(zone: IANAZone, from: number, end: number, offset: number): number {
  let lo = from;
  let hi = end;
  for (let t = Math.min(from + HOUR_MS, end - 1); hi === end; t = Math.min(t + HOUR_MS, end - 1)) {
    if (zone.offset(t) !== offset) hi = t;
    else if (t >= end - 1) return end;
    else lo = t;
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (zone.offset(mid) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** luxon's answers at `at`, and how long they hold; undefined when luxon cannot answer (an unknown zone, a year past 9999). */
function spanAt(at: number, zoneName: string): Span | undefined {
  const dt = DateTime.fromMillis(at, { zone: zoneName });
  const day = dt.toISODate();
  const iso = dt.toISO();
  const weekStart = dt.startOf('week').toISODate();
  if (!dt.isValid || day === null || iso === null || weekStart === null || !/^\d{4}-/.test(day)) return undefined;
  const start = dt.startOf('day');
  const dayStart = start.toMillis();
  const dayEnd = start.plus({ days: 1 }).startOf('day').toMillis();
  // `YYYY-MM-DDTHH:mm:ss.SSS` is 23 characters; the offset follows.
  if (!(dayStart <= at && at < dayEnd) || !iso.startsWith(`${day}T`) || iso.length <= 23) return undefined;
  const zone = IANAZone.create(zoneName);
  return {
    from: at,
    until: nextOffsetChange(zone, at, dayEnd, dt.offset),
    day,
    weekStart,
    weekday: dt.weekday,
    dayStart,
    dayEnd,
    wallAtFrom: ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1000 + dt.millisecond,
    offsetIso: iso.slice(23),
  };
}

function span(at: number, zone: string): Span | undefined {
  // A fraction of a millisecond has no place in an ISO time: luxon's own answer then.
  if (!Number.isInteger(at)) return undefined;
  const known = spans.get(zone);
  if (known && known.from <= at && at < known.until) return known;
  const fresh = spanAt(at, zone);
  if (!fresh) return undefined;
  if (!known && spans.size >= MAX_ZONES) spans.clear();
  spans.set(zone, fresh);
  return fresh;
}

/** The site-local calendar day of an instant, `YYYY-MM-DD` (as `localDay`). */
export function cachedLocalDay(at: number, zone: string): string {
  return span(at, zone)?.day ?? localDay(at, zone);
}

/** The Monday starting the site-local ISO week of an instant, `YYYY-MM-DD` (as `localWeekStart`). */
export function cachedLocalWeekStart(at: number, zone: string): string {
  return span(at, zone)?.weekStart ?? localWeekStart(at, zone);
}

/** The instants of the site-local day's first and next midnights (23 or 25 hours apart when the clocks change). */
export function cachedLocalDayBounds(at: number, zone: string): { start: number; end: number } {
  const s = span(at, zone);
  if (s) return { start: s.dayStart, end: s.dayEnd };
  const start = DateTime.fromMillis(at, { zone }).startOf('day');
  return { start: start.toMillis(), end: start.plus({ days: 1 }).startOf('day').toMillis() };
}

/** The wall clock's weekday (1 = Monday) and minute of the day at an instant; undefined when luxon cannot tell. */
export function cachedWallClock(at: number, zone: string): { weekday: number; minuteOfDay: number } | undefined {
  const s = span(at, zone);
  if (s) return { weekday: s.weekday, minuteOfDay: Math.floor((s.wallAtFrom + (at - s.from)) / 60_000) };
  const t = DateTime.fromMillis(at, { zone });
  return t.isValid ? { weekday: t.weekday, minuteOfDay: t.hour * 60 + t.minute } : undefined;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/** ISO 8601 with the zone's offset at that instant, the very string luxon writes (as `isoInZone`). */
export function cachedIsoInZone(at: number, zone: string): string {
  const s = span(at, zone);
  if (!s) return isoInZone(at, zone);
  const wall = s.wallAtFrom + (at - s.from);
  const ms = wall % 1000;
  const seconds = Math.floor(wall / 1000);
  return `${s.day}T${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}.${pad3(ms)}${s.offsetIso}`;
}
