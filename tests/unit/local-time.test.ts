import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/platform/clock.js';
import {
  cachedIsoInZone,
  cachedLocalDay,
  cachedLocalDayBounds,
  cachedLocalWeekStart,
  cachedWallClock,
} from '../../shared/protocol/local-time.js';
import type { Plan } from '../../shared/protocol/directory.js';
import { isClosed, isoInZone, isWithin, localDay, localWeekStart } from '../../shared/protocol/schedule.js';
import type { WeeklyWindow } from '../../shared/protocol/schedule.js';
import { bookedOnDay } from '../../edge/access/bookings.js';
import { planOpensAt } from '../../edge/access/plan-window.js';
import { quotaExhausted } from '../../edge/access/quota.js';
import type { SiteRules } from '../../edge/access/types.js';
import { EdgeStore } from '../../edge/store/store.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The days the clocks change in 2026, one zone per hemisphere and one that changes at midnight. */
const TRANSITIONS: Array<{ zone: string; days: string[] }> = [
  { zone: 'Europe/Paris', days: ['2026-03-29', '2026-10-25'] },
  { zone: 'Australia/Sydney', days: ['2026-04-05', '2026-10-04'] },
  // Chile changes at local midnight: 2026-04-05 00:00 happens twice, 2026-09-06 00:00 never.
  { zone: 'America/Santiago', days: ['2026-04-05', '2026-09-06'] },
  { zone: 'Asia/Kolkata', days: ['2026-03-29'] },
  { zone: 'UTC', days: ['2026-10-25'] },
  { zone: 'Europe/London', days: ['2026-10-25'] },
];

/** What luxon says directly, with no cache in between. */
function direct(at: number, zone: string) {
  const t = DateTime.fromMillis(at, { zone });
  const start = t.startOf('day');
  return {
    day: localDay(at, zone),
    weekStart: localWeekStart(at, zone),
    bounds: { start: start.toMillis(), end: start.plus({ days: 1 }).startOf('day').toMillis() },
    wall: { weekday: t.weekday, minuteOfDay: t.hour * 60 + t.minute },
    iso: isoInZone(at, zone),
  };
}

function cached(at: number, zone: string) {
  return {
    day: cachedLocalDay(at, zone),
    weekStart: cachedLocalWeekStart(at, zone),
    bounds: cachedLocalDayBounds(at, zone),
    wall: cachedWallClock(at, zone),
    iso: cachedIsoInZone(at, zone),
  };
}

/** From the evening before the transition day to the morning after it, site-local. */
function aroundDay(zone: string, day: string): { from: number; to: number } {
  const midnight = DateTime.fromISO(day, { zone });
  return { from: midnight.minus({ hours: 3 }).toMillis(), to: midnight.plus({ hours: 30 }).toMillis() };
}

/** A small seeded PRNG, so that a failing order of instants comes back the same. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('site-local time computed once per stretch (shared/protocol/local-time.ts)', () => {
  for (const { zone, days } of TRANSITIONS)
    for (const day of days)
      it(`equals luxon every minute (and at odd milliseconds) around ${day} in ${zone}`, () => {
        const { from, to } = aroundDay(zone, day);
        let checked = 0;
        for (let at = from; at < to; at += MINUTE) {
          for (const t of [at, at + 1, at + 59_999, at + 31_517]) {
            expect(cached(t, zone), `${zone} at ${new Date(t).toISOString()}`).toEqual(direct(t, zone));
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(4 * 30 * 60);
      });

  it('equals luxon at the millisecond on each side of each change of offset', () => {
    for (const { zone, days } of TRANSITIONS)
      for (const day of days) {
        const { from, to } = aroundDay(zone, day);
        for (let at = from; at < to; at += MINUTE) {
          if (DateTime.fromMillis(at, { zone }).offset === DateTime.fromMillis(at + MINUTE, { zone }).offset) continue;
          // The change falls within this minute: walk it by the millisecond's neighbours of each second.
          for (let t = at - 1000; t <= at + MINUTE + 1000; t += 997)
            for (const u of [t, t + 1, t - 1]) expect(cached(u, zone), `${zone} ${u}`).toEqual(direct(u, zone));
        }
      }
  });

  it('follows a clock moved backwards and forwards, and a change of zone, in any order', () => {
    const random = prng(20260329);
    const instants = TRANSITIONS.flatMap(({ days, zone }) => days.map((day) => aroundDay(zone, day)));
    const zones = TRANSITIONS.map((t) => t.zone);
    for (let i = 0; i < 1500; i++) {
      const span = instants[Math.floor(random() * instants.length)] ?? { from: 0, to: 1 };
      const at = span.from + Math.floor(random() * (span.to - span.from));
      const zone = zones[Math.floor(random() * zones.length)] ?? 'UTC';
      expect(cached(at, zone), `${zone} at ${at}`).toEqual(direct(at, zone));
      // The same instant and its neighbours again, then a step back: what a clock set back does.
      for (const t of [at, at + 1, at - 1, at - DAY, at + MINUTE, at - 3_600_000])
        expect(cached(t, zone), `${zone} at ${t}`).toEqual(direct(t, zone));
    }
  });

  it('answers as luxon does for a zone it does not know', () => {
    expect(cachedLocalDay(0, 'Not/AZone')).toBe(localDay(0, 'Not/AZone'));
    expect(cachedLocalWeekStart(0, 'Not/AZone')).toBe(localWeekStart(0, 'Not/AZone'));
    expect(cachedIsoInZone(0, 'Not/AZone')).toBe(isoInZone(0, 'Not/AZone'));
    expect(cachedWallClock(0, 'Not/AZone')).toBeUndefined();
  });
});

describe('the door rules on cached local time decide as luxon directly', () => {
  const windows: WeeklyWindow[] = [
    { days: ['sat', 'sun'], from: '01:30', to: '02:30' },
    { days: ['sun'], from: '02:59', to: '03:01' },
    { days: ['sat'], from: '23:00', to: '00:30' },
    { days: ['sun', 'mon'], from: '23:59', to: '24:00' },
  ];
  const plan: Plan = { id: 'p', name: 'P', access: windows, sites: 'all', lockers: false };
  const staffedPlan: Plan = { ...plan, access: 'staffed' };

  for (const { zone, days } of TRANSITIONS)
    for (const day of days)
      it(`plan windows, closures, bookings of the day and the quota day around ${day} in ${zone}`, () => {
        const site = {
          id: 's',
          timeZone: zone,
          hours: windows,
          closures: [{ from: day }],
        } as unknown as SiteRules;
        const { from, to } = aroundDay(zone, day);
        const usedDays = [day, DateTime.fromISO(day).minus({ days: 1 }).toISODate() ?? '', '2026-01-01', 'garbage'];
        const booking = { start: DateTime.fromISO(day, { zone }).plus({ hours: 12 }).toMillis() };
        const bookings = [{ start: booking.start, end: booking.start + MINUTE }];
        let opened = 0;
        for (let at = from; at < to; at += MINUTE) {
          const expected = isWithin(windows, at, zone);
          if (expected) opened++;
          expect(planOpensAt(plan, site, at), `${zone} ${new Date(at).toISOString()}`).toBe(expected);
          expect(planOpensAt(staffedPlan, site, at)).toBe(expected && !isClosed(site.closures, at, zone));
          const today = localDay(at, zone);
          const week = localWeekStart(at, zone);
          // The quota as luxon reads it: days of this ISO week, today free once spent.
          const spent = new Set(
            usedDays.filter((d) => {
              const date = DateTime.fromISO(d, { zone: 'UTC' });
              return date.isValid && /^\d{4}-\d\d-\d\d$/.test(d) && date.startOf('week').toISODate() === week;
            }),
          );
          for (const perWeek of [1, 2])
            expect(quotaExhausted(perWeek, usedDays, at, zone)).toBe(!spent.has(today) && spent.size >= perWeek);
          expect(bookedOnDay(bookings, at, zone)).toBe(today === day);
        }
        expect(opened).toBeGreaterThan(0);
      });
});

describe('events carry the ISO time luxon writes', () => {
  it('across both changes of the clocks in Europe/Paris, written by the store as a manual clock walks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-local-time-'));
    const store = EdgeStore.open(join(dir, 'edge.db'), 'site', 'Europe/Paris');
    try {
      for (const day of ['2026-03-29', '2026-10-25']) {
        const { from, to } = aroundDay('Europe/Paris', day);
        const clock = new ManualClock(from);
        while (clock.now() < to) {
          const at = clock.now();
          const event = store.transaction(() =>
            store.events.append({ type: 'door.forced', data: { door: 'front' } }, at),
          );
          expect(event.at).toBe(isoInZone(at, 'Europe/Paris'));
          clock.advance(7 * MINUTE + 13_001);
        }
      }
      // A clock set back an hour, across the fall-back: the repeated hour keeps its own offset.
      const back = DateTime.fromISO('2026-10-25T02:30:00+01:00').toMillis();
      for (const at of [back, back - 3_600_000, back, back - 3_600_000 - 1]) {
        const event = store.transaction(() =>
          store.events.append({ type: 'door.forced', data: { door: 'front' } }, at),
        );
        expect(event.at).toBe(isoInZone(at, 'Europe/Paris'));
      }
      expect(isoInZone(back - 3_600_000, 'Europe/Paris')).toBe('2026-10-25T02:30:00.000+02:00');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
