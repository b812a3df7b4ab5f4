import { afterEach, describe, expect, it } from 'vitest';
import { applyErasures } from '../../edge/store/erasure.js';
import { Directory } from '../../shared/protocol/directory.js';
import { pseudonymOf } from '../../shared/protocol/erasure.js';
import type { Booking } from '../../shared/protocol/bookings.js';
import { startSite, type Harness } from '../harness/site.js';
import { ALICE_SALON, BOOKING_DIRECTORY, DESKS, MINUTE_MS } from './edge-booking-fixtures.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const START = Date.parse(ALICE_SALON.start);
const END = Date.parse(ALICE_SALON.end);

let site: Harness | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

async function bookingSite(): Promise<Harness> {
  site = await startSite({}, BOOKING_DIRECTORY);
  return site;
}

const ids = (spans: Array<{ id: string }>) => spans.map((s) => s.id);

const deskBooking = (id: string, start: string, end: string, member = 'alice'): Booking => ({
  id,
  resource: DESKS.id,
  site: 'murat',
  member,
  start,
  end,
});

describe('bookings in the site’s directory', () => {
  it('a replaced directory brings its resources and bookings, and a replace drops those it no longer names', async () => {
    const s = await bookingSite();
    expect(s.store.bookings.size()).toBe(1);
    expect(s.store.db.prepare('SELECT id, kind FROM resources ORDER BY id').all()).toEqual([
      { id: 'open-space', kind: 'desk-pool' },
      { id: 'salon', kind: 'room' },
    ]);
    s.edge.applyDirectory(Directory.parse({ ...BOOKING_DIRECTORY, bookings: [] }), 'test');
    expect(s.store.bookings.size()).toBe(0);
  });

  it('finds a member’s booking of a resource only within the margin around an instant', async () => {
    const s = await bookingSite();
    const grace = 15 * MINUTE_MS;
    const around = (at: number, member = 'alice', resource = 'salon') =>
      ids(s.store.bookings.around(member, resource, at, grace));
    expect(around(START - grace)).toEqual([ALICE_SALON.id]);
    expect(around(START - grace - 1)).toEqual([]);
    expect(around(END + grace - 1)).toEqual([ALICE_SALON.id]);
    expect(around(END + grace)).toEqual([]);
    expect(around(START, 'bob')).toEqual([]);
    expect(around(START, 'alice', 'open-space')).toEqual([]);
  });

  it('finds a member’s bookings at the site that overlap a span, end exclusive', async () => {
    const s = await bookingSite();
    const overlapping = (from: number, to: number, member = 'alice', where = 'murat') =>
      ids(s.store.bookings.overlapping(member, where, from, to));
    expect(overlapping(END, END + HOUR_MS)).toEqual([]);
    expect(overlapping(START - HOUR_MS, START)).toEqual([]);
    expect(overlapping(END - 1, END)).toEqual([ALICE_SALON.id]);
    expect(overlapping(START - DAY_MS, START + DAY_MS)).toEqual([ALICE_SALON.id]);
    expect(overlapping(START - DAY_MS, START + DAY_MS, 'bob')).toEqual([]);
    expect(overlapping(START - DAY_MS, START + DAY_MS, 'alice', 'allanche')).toEqual([]);
  });

  it('the tap path’s lookups are answered from the member index, not a scan', async () => {
    const s = await bookingSite();
    const plan = (sql: string) =>
      JSON.stringify(s.store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('alice', 'salon', 1, 2));
    expect(
      plan('SELECT id FROM bookings WHERE member = ? AND resource = ? AND start_ms <= ? AND end_ms > ?'),
    ).toContain('bookings_member_start');
    expect(plan('SELECT id FROM bookings WHERE member = ? AND site = ? AND start_ms < ? AND end_ms > ?')).toContain(
      'bookings_member_start',
    );
  });

  it('edits upsert and delete bookings and resources; a booking whose resource is missing is dangling', async () => {
    const s = await bookingSite();
    const moved = { ...ALICE_SALON, start: '2026-11-23T13:00:00Z', end: '2026-11-23T14:00:00Z' };
    const desk = deskBooking('bk-desk', '2026-11-24T07:00:00Z', '2026-11-24T17:00:00Z');
    expect(
      s.edge.applyDirectoryChanges(
        [
          { entity: 'booking', value: moved },
          { entity: 'booking', value: desk },
        ],
        2,
        'test',
        s.clock.now(),
      ),
    ).toEqual([]);
    expect(ids(s.store.bookings.around('alice', 'salon', START, 0))).toEqual([]);
    expect(ids(s.store.bookings.around('alice', 'salon', Date.parse(moved.start), 0))).toEqual([moved.id]);
    expect(s.store.bookings.size()).toBe(2);

    // Deleting the desk pool would orphan its booking: the whole delta is refused.
    const dangling = s.edge.applyDirectoryChanges([{ entity: 'resource', id: DESKS.id }], 3, 'test', s.clock.now());
    expect(dangling).toEqual(['booking bk-desk: no resource open-space']);
    expect(s.store.directory.describe()?.revision).toBe(2);

    const gone = [
      { entity: 'booking' as const, id: desk.id },
      { entity: 'resource' as const, id: DESKS.id },
    ];
    expect(s.edge.applyDirectoryChanges(gone, 3, 'test', s.clock.now())).toEqual([]);
    expect(s.store.bookings.size()).toBe(1);
    expect(s.store.db.prepare('SELECT id FROM resources').pluck().all()).toEqual(['salon']);
  });

  it('retention drops bookings ended more than a day ago and keeps the rest', async () => {
    const s = await bookingSite();
    const later = deskBooking('bk-later', '2026-11-25T08:00:00Z', '2026-11-25T17:00:00Z');
    s.edge.applyDirectoryChanges([{ entity: 'booking', value: later }], 2, 'test', s.clock.now());
    // Pruned every hour on the hour from the start: the run one day after the salon booking
    // ended, to the millisecond, keeps it; the next one drops it.
    s.clock.advanceTo(END + DAY_MS);
    expect(s.store.bookings.size()).toBe(2);
    s.clock.advanceTo(END + DAY_MS + HOUR_MS);
    expect(s.store.bookings.size()).toBe(1);
    expect(ids(s.store.bookings.overlapping('alice', 'murat', 0, Number.MAX_SAFE_INTEGER))).toEqual([later.id]);
  });

  it('a member erased by the hub loses their bookings at the site with their badges', async () => {
    const s = await bookingSite();
    const salt = '0123456789abcdef0123456789abcdef';
    s.store.transaction(() => applyErasures(s.store.db, [{ pseudonym: pseudonymOf(salt, 'alice'), salt }]));
    expect(s.store.bookings.size()).toBe(0);
    expect(JSON.stringify(s.store.db.prepare('SELECT * FROM bookings').all())).not.toContain('alice');
  });
});
