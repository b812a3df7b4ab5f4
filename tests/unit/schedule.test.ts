import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  ALWAYS,
  DAYS,
  coversWholeWeek,
  isClosed,
  isWithin,
  localDay,
  localWeekStart,
  minutesOf,
  nextLocalTime,
  type WeeklyWindow,
} from '../../shared/protocol/schedule.js';

const PARIS = 'Europe/Paris';
/** An instant written with its offset, parsed without luxon so expectations do not lean on it. */
const at = (isoWithOffset: string): number => {
  const ms = Date.parse(isoWithOffset);
  if (Number.isNaN(ms) || !/(Z|[+-]\d\d:\d\d)$/.test(isoWithOffset))
    throw new Error(`test instant needs an offset: ${isoWithOffset}`);
  return ms;
};
const everyDay = (from: string, to: string): WeeklyWindow[] => [{ days: [...DAYS], from, to }];

describe('isWithin across the DST changes in Europe/Paris', () => {
  const staffed = everyDay('08:30', '18:30');

  it('on the spring-forward Sunday an 08:30 window opens at 06:30 UTC, an hour earlier in UTC than the day before', () => {
    expect(isWithin(staffed, at('2026-03-29T06:29:00Z'), PARIS)).toBe(false);
    expect(isWithin(staffed, at('2026-03-29T06:30:00Z'), PARIS)).toBe(true);
    expect(isWithin(staffed, at('2026-03-28T06:30:00Z'), PARIS)).toBe(false); // 07:30 local the day before
    expect(isWithin(staffed, at('2026-03-28T07:29:00Z'), PARIS)).toBe(false);
    expect(isWithin(staffed, at('2026-03-28T07:30:00Z'), PARIS)).toBe(true);
  });

  it('on the spring-forward Sunday the window closes at 18:30 summer time', () => {
    expect(isWithin(staffed, at('2026-03-29T16:29:59Z'), PARIS)).toBe(true);
    expect(isWithin(staffed, at('2026-03-29T16:30:00Z'), PARIS)).toBe(false);
  });

  it('on the fall-back Sunday an 08:30 window opens at 07:30 UTC, an hour later in UTC than the day before', () => {
    expect(isWithin(staffed, at('2026-10-25T07:29:00Z'), PARIS)).toBe(false);
    expect(isWithin(staffed, at('2026-10-25T07:30:00Z'), PARIS)).toBe(true);
    expect(isWithin(staffed, at('2026-10-24T06:29:00Z'), PARIS)).toBe(false);
    expect(isWithin(staffed, at('2026-10-24T06:30:00Z'), PARIS)).toBe(true);
    expect(isWithin(staffed, at('2026-10-24T07:29:00Z'), PARIS)).toBe(true); // 09:29 local the day before
  });

  it('a wall time skipped by spring-forward is passed when the clock jumps', () => {
    const night = everyDay('02:30', '05:00');
    expect(isWithin(night, at('2026-03-29T00:59:59+00:00'), PARIS)).toBe(false); // 01:59:59 winter time
    expect(isWithin(night, at('2026-03-29T03:00:00+02:00'), PARIS)).toBe(true); // the clock now reads 03:00
  });

  it('in the hour repeated at fall-back the door follows the wall clock, which passes 02:30 twice', () => {
    const night = everyDay('02:30', '05:00');
    expect(isWithin(night, at('2026-10-25T02:45:00+02:00'), PARIS)).toBe(true);
    expect(isWithin(night, at('2026-10-25T02:15:00+01:00'), PARIS)).toBe(false);
    expect(isWithin(night, at('2026-10-25T02:30:00+01:00'), PARIS)).toBe(true);
  });
});

describe('isWithin for a window past midnight', () => {
  // Friday 2026-03-06 22:00 to Saturday 06:00, winter time (+01:00).
  const fridayNight: WeeklyWindow[] = [{ days: ['fri'], from: '22:00', to: '06:00' }];

  it.each([
    ['Friday 21:59', '2026-03-06T21:59:00+01:00', false],
    ['Friday 22:00', '2026-03-06T22:00:00+01:00', true],
    ['Friday 23:59', '2026-03-06T23:59:59+01:00', true],
    ['Saturday 00:00', '2026-03-07T00:00:00+01:00', true],
    ['Saturday 05:59', '2026-03-07T05:59:00+01:00', true],
    ['Saturday 06:00', '2026-03-07T06:00:00+01:00', false],
    ['Sunday 01:00 (Saturday is not listed)', '2026-03-08T01:00:00+01:00', false],
    ['Friday 03:00 (Thursday night is not listed)', '2026-03-06T03:00:00+01:00', false],
    ['Thursday 23:00', '2026-03-05T23:00:00+01:00', false],
  ])('a Friday 22:00-06:00 window at %s is %s', (_when, iso, open) => {
    expect(isWithin(fridayNight, at(iso), PARIS)).toBe(open);
  });

  it('a Sunday night window runs into Monday morning', () => {
    const sundayNight: WeeklyWindow[] = [{ days: ['sun'], from: '22:00', to: '06:00' }];
    expect(isWithin(sundayNight, at('2026-03-09T05:00:00+01:00'), PARIS)).toBe(true);
    expect(isWithin(sundayNight, at('2026-03-10T05:00:00+01:00'), PARIS)).toBe(false);
  });

  it('a Saturday night window spans the spring-forward night and closes at 06:00 summer time', () => {
    const saturdayNight: WeeklyWindow[] = [{ days: ['sat'], from: '22:00', to: '06:00' }];
    expect(isWithin(saturdayNight, at('2026-03-29T05:59:00+02:00'), PARIS)).toBe(true);
    expect(isWithin(saturdayNight, at('2026-03-29T06:00:00+02:00'), PARIS)).toBe(false);
  });
});

describe('isWithin with a 24:00 end', () => {
  const mondayEvening: WeeklyWindow[] = [{ days: ['mon'], from: '18:00', to: '24:00' }];

  it('an 18:00-24:00 window is open until the last minute of the day', () => {
    expect(isWithin(mondayEvening, at('2026-03-02T17:59:00+01:00'), PARIS)).toBe(false);
    expect(isWithin(mondayEvening, at('2026-03-02T18:00:00+01:00'), PARIS)).toBe(true);
    expect(isWithin(mondayEvening, at('2026-03-02T23:59:59+01:00'), PARIS)).toBe(true);
    expect(isWithin(mondayEvening, at('2026-03-03T00:00:00+01:00'), PARIS)).toBe(false);
  });

  it('ALWAYS is open at any instant, DST nights included', () => {
    for (const iso of [
      '2026-03-29T02:00:00+01:00',
      '2026-10-25T02:30:00+01:00',
      '2026-10-25T02:30:00+02:00',
      '2026-12-31T23:59:59+01:00',
    ]) {
      expect(isWithin(ALWAYS, at(iso), PARIS)).toBe(true);
    }
  });
});

describe('localDay and localWeekStart', () => {
  it.each([
    ['Sunday 23:59 in Paris', '2026-03-01T22:59:00Z', PARIS, '2026-03-01', '2026-02-23'],
    ['Monday 00:30 in Paris, still Sunday in UTC', '2026-03-01T23:30:00Z', PARIS, '2026-03-02', '2026-03-02'],
    ['the spring-forward Sunday at 23:59', '2026-03-29T21:59:00Z', PARIS, '2026-03-29', '2026-03-23'],
    ['the Monday after spring-forward at 00:00', '2026-03-29T22:00:00Z', PARIS, '2026-03-30', '2026-03-30'],
    [
      'the spring-forward Sunday at 03:00, just after the gap',
      '2026-03-29T01:00:00Z',
      PARIS,
      '2026-03-29',
      '2026-03-23',
    ],
    ['the fall-back Sunday at 23:59', '2026-10-25T22:59:00Z', PARIS, '2026-10-25', '2026-10-19'],
    ['the Monday after fall-back at 00:00', '2026-10-25T23:00:00Z', PARIS, '2026-10-26', '2026-10-26'],
    [
      'New York, Sunday 23:59 on its spring-forward day',
      '2026-03-09T03:59:00Z',
      'America/New_York',
      '2026-03-08',
      '2026-03-02',
    ],
    ['New York, Monday 00:00', '2026-03-09T04:00:00Z', 'America/New_York', '2026-03-09', '2026-03-09'],
    [
      'the turn of the year, a Friday in a week that began in December',
      '2026-12-31T23:30:00Z',
      PARIS,
      '2027-01-01',
      '2026-12-28',
    ],
  ])('%s', (_when, iso, zone, day, weekStart) => {
    expect(localDay(at(iso), zone)).toBe(day);
    expect(localWeekStart(at(iso), zone)).toBe(weekStart);
  });
});

describe('nextLocalTime', () => {
  it('the next 18:30 after Saturday evening is Sunday 18:30 summer time, 23 hours later', () => {
    const now = at('2026-03-28T19:00:00+01:00');
    expect(nextLocalTime(now, PARIS, '18:30')).toBe(at('2026-03-29T18:30:00+02:00'));
  });

  it('a wall time that is now is not next: the next one is tomorrow', () => {
    expect(nextLocalTime(at('2026-03-04T18:30:00+01:00'), PARIS, '18:30')).toBe(at('2026-03-05T18:30:00+01:00'));
    expect(nextLocalTime(at('2026-03-04T18:29:59.999+01:00'), PARIS, '18:30')).toBe(at('2026-03-04T18:30:00+01:00'));
  });

  it('02:30 does not exist on the spring-forward day: luxon moves it past the gap, still that day and after now', () => {
    const now = at('2026-03-29T00:00:00+01:00');
    const next = nextLocalTime(now, PARIS, '02:30');
    expect(next).toBeGreaterThan(now);
    expect(next).toBeGreaterThanOrEqual(at('2026-03-29T03:00:00+02:00')); // not before the gap
    expect(next).toBeLessThan(at('2026-03-30T02:30:00+02:00')); // not a day late
    expect(next).toBe(at('2026-03-29T03:30:00+02:00')); // 02:30 winter time, read in summer time
  });

  it('after the gap, the next 02:30 is the next day’s', () => {
    expect(nextLocalTime(at('2026-03-29T03:45:00+02:00'), PARIS, '02:30')).toBe(at('2026-03-30T02:30:00+02:00'));
  });

  it('the next 23:00 on the fall-back day is 23:00 at +01:00', () => {
    expect(nextLocalTime(at('2026-10-25T12:00:00+01:00'), PARIS, '23:00')).toBe(at('2026-10-25T23:00:00+01:00'));
    expect(nextLocalTime(at('2026-10-25T00:30:00+02:00'), PARIS, '23:00')).toBe(at('2026-10-25T23:00:00+01:00'));
  });

  it('02:30 happens twice on the fall-back night: the first one ahead is next', () => {
    expect(nextLocalTime(at('2026-10-25T00:00:00+02:00'), PARIS, '02:30')).toBe(at('2026-10-25T02:30:00+02:00'));
    expect(nextLocalTime(at('2026-10-25T02:45:00+02:00'), PARIS, '02:30')).toBe(at('2026-10-25T02:30:00+01:00'));
    expect(nextLocalTime(at('2026-10-25T02:30:00+01:00'), PARIS, '02:30')).toBe(at('2026-10-26T02:30:00+01:00'));
  });

  it('24:00 is the coming midnight', () => {
    expect(nextLocalTime(at('2026-03-04T10:00:00+01:00'), PARIS, '24:00')).toBe(at('2026-03-05T00:00:00+01:00'));
    expect(nextLocalTime(at('2026-03-29T01:00:00+01:00'), PARIS, '24:00')).toBe(at('2026-03-30T00:00:00+02:00'));
  });
});

describe('isClosed', () => {
  const christmas = [{ from: '2026-12-24', to: '2026-12-26' }];
  const newYear = [{ from: '2027-01-01' }];

  it('a closure runs from the first local midnight to the end of its last day', () => {
    expect(isClosed(christmas, at('2026-12-23T23:59:59+01:00'), PARIS)).toBe(false);
    expect(isClosed(christmas, at('2026-12-24T00:00:00+01:00'), PARIS)).toBe(true);
    expect(isClosed(christmas, at('2026-12-25T12:00:00+01:00'), PARIS)).toBe(true);
    expect(isClosed(christmas, at('2026-12-26T23:59:59+01:00'), PARIS)).toBe(true);
    expect(isClosed(christmas, at('2026-12-27T00:00:00+01:00'), PARIS)).toBe(false);
  });

  it('a closure without an end is one day, in site-local time', () => {
    expect(isClosed(newYear, at('2026-12-31T23:00:00Z'), PARIS)).toBe(true); // 00:00 in Paris
    expect(isClosed(newYear, at('2026-12-31T22:59:59Z'), PARIS)).toBe(false);
    expect(isClosed(newYear, at('2027-01-02T00:00:00+01:00'), PARIS)).toBe(false);
  });

  it('any of several closures closes the day, and none closes nothing', () => {
    expect(isClosed([...christmas, ...newYear], at('2027-01-01T12:00:00+01:00'), PARIS)).toBe(true);
    expect(isClosed([], at('2027-01-01T12:00:00+01:00'), PARIS)).toBe(false);
  });
});

describe('coversWholeWeek', () => {
  it.each<[string, WeeklyWindow[], boolean]>([
    ['ALWAYS covers the whole week', [...ALWAYS], true],
    [
      '00:00-24:00 listed day by day covers the whole week',
      DAYS.map((d) => ({ days: [d], from: '00:00', to: '24:00' })),
      true,
    ],
    [
      'two halves of each day cover the whole week',
      [...everyDay('00:00', '12:00'), ...everyDay('12:00', '24:00')],
      true,
    ],
    [
      'a day window plus an overnight window cover the whole week',
      [...everyDay('06:00', '22:00'), ...everyDay('22:00', '06:00')],
      true,
    ],
    [
      'without Sunday night, Monday 00:00-06:00 is left uncovered',
      [...everyDay('06:00', '22:00'), { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '22:00', to: '06:00' }],
      false,
    ],
    [
      'every day but Sunday is not the whole week',
      [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', to: '24:00' }],
      false,
    ],
    ['every day until 23:59 is not the whole week', everyDay('00:00', '23:59'), false],
    [
      'a one-minute gap at noon is not the whole week',
      [...everyDay('00:00', '12:00'), ...everyDay('12:01', '24:00')],
      false,
    ],
    ['no windows cover nothing', [], false],
  ])('%s', (_name, windows, whole) => {
    expect(coversWholeWeek(windows)).toBe(whole);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties against references that read the wall clock another way.

const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'UTC',
];
const WEEKDAYS_EN = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minute of the week (Monday 00:00 = 0) shown by the zone's wall clock, read with Intl, not luxon. */
function wallMinuteOfWeek(epochMs: number, zone: string): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, format);
  }
  const parts = format.formatToParts(epochMs);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? 'missing';
  const day = WEEKDAYS_EN.indexOf(part('weekday'));
  if (day < 0) throw new Error(`unexpected weekday ${part('weekday')}`);
  return day * 1440 + Number(part('hour')) * 60 + Number(part('minute'));
}

/** Each listed day's window as a stretch of the week's minutes, wrapping from Sunday into Monday. */
function isWithinByWeekMinutes(windows: readonly WeeklyWindow[], epochMs: number, zone: string): boolean {
  const now = wallMinuteOfWeek(epochMs, zone);
  return windows.some((w) => {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    const length = to > from ? to - from : 1440 - from + to;
    return w.days.some((d) => {
      const start = DAYS.indexOf(d) * 1440 + from;
      return (((now - start) % 10080) + 10080) % 10080 < length;
    });
  });
}

/** The concrete [start, end) instants of every window opening on the local day of the instant or the day before. */
function isWithinByIntervals(windows: readonly WeeklyWindow[], epochMs: number, zone: string): boolean {
  const wall = (date: DateTime, hhmm: string) =>
    hhmm === '24:00'
      ? date.plus({ days: 1 }).startOf('day')
      : date.set({ hour: Number(hhmm.slice(0, 2)), minute: Number(hhmm.slice(3)), second: 0, millisecond: 0 });
  const today = DateTime.fromMillis(epochMs, { zone }).startOf('day');
  return [today, today.minus({ days: 1 })].some((date) =>
    windows.some((w) => {
      if (!w.days.includes(DAYS[date.weekday - 1] ?? 'mon')) return false;
      const start = wall(date, w.from);
      const end = wall(minutesOf(w.to) > minutesOf(w.from) ? date : date.plus({ days: 1 }), w.to);
      return start.toMillis() <= epochMs && epochMs < end.toMillis();
    }),
  );
}

/** Hours of 2026 at which each zone's offset changes, found by luxon, to aim instants at DST nights. */
const TRANSITIONS = ZONES.flatMap((zone) => {
  const found: number[] = [];
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 3_600_000) {
    if (DateTime.fromMillis(t, { zone }).offset !== DateTime.fromMillis(t + 3_600_000, { zone }).offset) found.push(t);
  }
  return found.map((t) => ({ zone, t }));
});

const hhmm = fc
  .integer({ min: 0, max: 1440 })
  .map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
const windowArb = fc
  .record({ days: fc.subarray([...DAYS], { minLength: 1 }), from: hhmm, to: hhmm })
  .filter((w) => w.from !== w.to);
const windowsArb = fc.array(windowArb, { minLength: 1, maxLength: 4 });

/** An instant anywhere, near a DST change of the zone, or right at a window's boundary. */
function instantArb(zone: string, windows: readonly WeeklyWindow[]): fc.Arbitrary<number> {
  const anywhere = fc.integer({ min: Date.UTC(2025, 11, 1), max: Date.UTC(2027, 1, 1) });
  const near = TRANSITIONS.filter((x) => x.zone === zone).map((x) =>
    fc.integer({ min: x.t - 2 * 86_400_000, max: x.t + 2 * 86_400_000 }),
  );
  const boundary = fc
    .record({
      w: fc.constantFrom(...windows),
      edge: fc.constantFrom('from', 'to') as fc.Arbitrary<'from' | 'to'>,
      base: fc.oneof(anywhere, ...near),
      nudge: fc.constantFrom(-60_000, -1, 0, 1, 59_999),
    })
    .map(({ w, edge, base, nudge }) => {
      const m = minutesOf(w[edge]);
      const day = DateTime.fromMillis(base, { zone }).startOf('day');
      return (
        day
          .plus({ days: Math.floor(m / 1440) })
          .set({ hour: Math.floor(m / 60) % 24, minute: m % 60 })
          .toMillis() + nudge
      );
    });
  return fc.oneof(anywhere, ...near, boundary, boundary);
}

const caseArb = fc
  .record({ zone: fc.constantFrom(...ZONES), windows: windowsArb })
  .chain(({ zone, windows }) => instantArb(zone, windows).map((ms) => ({ zone, windows, ms })));

describe('schedule properties', () => {
  it('isWithin agrees with the wall clock read by Intl and laid out as minutes of the week', () => {
    const seen = { open: 0, closed: 0 };
    fc.assert(
      fc.property(caseArb, ({ zone, windows, ms }) => {
        const open = isWithin(windows, ms, zone);
        seen[open ? 'open' : 'closed']++;
        expect(open).toBe(isWithinByWeekMinutes(windows, ms, zone));
      }),
      { numRuns: 3000 },
    );
    expect(Math.min(seen.open, seen.closed)).toBeGreaterThan(300); // both answers were put to the test
  });

  it('isWithin agrees with each window’s concrete start and end instants, away from DST changes', () => {
    // Near a DST change the two readings differ on purpose: a boundary in a skipped hour is moved by
    // luxon's set(), one in a repeated hour is crossed twice by the wall clock.
    const seen = { open: 0, closed: 0 };
    fc.assert(
      fc.property(caseArb, ({ zone, windows, ms }) => {
        const offsets = [-2, -1, 0, 1].map((d) => DateTime.fromMillis(ms + d * 86_400_000, { zone }).offset);
        fc.pre(offsets.every((o) => o === offsets[0]));
        const open = isWithin(windows, ms, zone);
        seen[open ? 'open' : 'closed']++;
        expect(open).toBe(isWithinByIntervals(windows, ms, zone));
      }),
      { numRuns: 2000 },
    );
    expect(Math.min(seen.open, seen.closed)).toBeGreaterThan(200);
  });

  it('coversWholeWeek agrees with isWithin at every minute of a week', () => {
    // Windows cut from one cycle of the day, every day, sometimes with a day left out of one piece.
    const cutWindows = fc
      .record({
        cuts: fc.uniqueArray(fc.integer({ min: 0, max: 1439 }), { minLength: 1, maxLength: 4 }),
        drop: fc.option(fc.nat(), { nil: undefined }),
      })
      .map(({ cuts, drop }) => {
        const sorted = [...cuts]
          .sort((a, b) => a - b)
          .map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
        const pieces: WeeklyWindow[] =
          sorted.length === 1
            ? everyDay('00:00', '24:00')
            : sorted.map((from, i) => ({ days: [...DAYS], from, to: sorted[(i + 1) % sorted.length] ?? from }));
        if (drop === undefined) return pieces;
        return pieces
          .map((w, i) => (i === drop % pieces.length ? { ...w, days: DAYS.filter((_, d) => d !== drop % 7) } : w))
          .filter((w) => w.days.length > 0);
      });
    const monday = Date.UTC(2026, 0, 5);
    fc.assert(
      fc.property(fc.oneof(windowsArb, cutWindows), (windows) => {
        let every = true;
        for (let m = 0; m < 10080 && every; m++) every = isWithin(windows, monday + m * 60_000, 'UTC');
        expect(coversWholeWeek(windows)).toBe(every);
      }),
      { numRuns: 60 },
    );
  });

  it('nextLocalTime is strictly after now, and no minute before it shows that wall time', () => {
    const caseNext = fc.record({ zone: fc.constantFrom(...ZONES), target: hhmm }).chain(({ zone, target }) =>
      instantArb(zone, [{ days: ['mon'], from: target, to: target === '00:00' ? '01:00' : '00:00' }]).map((ms) => ({
        zone,
        target,
        ms,
      })),
    );
    fc.assert(
      fc.property(caseNext, ({ zone, target, ms }) => {
        const next = nextLocalTime(ms, zone, target);
        const shown = minutesOf(target) % 1440;
        expect(next).toBeGreaterThan(ms);
        expect(next - ms).toBeLessThanOrEqual(26 * 3_600_000);
        for (let t = Math.floor(ms / 60_000) * 60_000 + 60_000; t < next; t += 60_000) {
          if (wallMinuteOfWeek(t, zone) % 1440 === shown)
            throw new Error(`${new Date(t).toISOString()} shows ${target} before ${new Date(next).toISOString()}`);
        }
        // It shows the wall time, unless that time was skipped by a change of offset just before.
        if (wallMinuteOfWeek(next, zone) % 1440 !== shown) {
          expect(DateTime.fromMillis(next - 3 * 3_600_000, { zone }).offset).not.toBe(
            DateTime.fromMillis(next, { zone }).offset,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
