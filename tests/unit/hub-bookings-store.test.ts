import { afterEach, describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { BookingStore, MAX_BOOKING_MS, type BookingRow } from '../../cloud-sync/hub/bookings/store.js';
import { testHubDb } from '../harness/hub-db.js';

const HOUR = 3_600_000;
const row = (id: string, over: Partial<BookingRow>): BookingRow => ({
  id,
  resource: 'room-a',
  site: 'murat',
  member: 'ana',
  startMs: 10 * HOUR,
  endMs: 11 * HOUR,
  status: 'confirmed',
  createdBy: 'acc-1',
  createdAt: 1,
  updatedAt: 1,
  cancelledAt: null,
  lateCancellation: false,
  ...over,
});

describe('BookingStore', () => {
  let db: HubDb | undefined;
  afterEach(async () => db?.close());

  it('reads back what it wrote, by member, site, resource and month, overlapping windows only', async () => {
    db = await openHubDatabase(await testHubDb());
    const store = new BookingStore();
    const early = row('b1', { startMs: 10 * HOUR, endMs: 12 * HOUR });
    const late = row('b2', { startMs: 30 * HOUR, endMs: 31 * HOUR, member: 'leo', site: 'lyon', resource: 'desk-1' });
    const long = row('b3', { startMs: 40 * HOUR, endMs: 40 * HOUR + MAX_BOOKING_MS, status: 'no_show' });
    for (const b of [late, early, long]) await store.insert(db, b);
    expect(await store.get(db, 'b1')).toEqual(early);
    expect(await store.get(db, 'nope')).toBeUndefined();
    expect(await store.get(db, 'a\u0000b')).toBeUndefined();
    // End exclusive: a window starting at the end does not overlap.
    expect(await store.forMember(db, 'ana', 12 * HOUR, 20 * HOUR)).toEqual([]);
    expect((await store.forMember(db, 'ana', 11 * HOUR, 50 * HOUR)).map((b) => b.id)).toEqual(['b1', 'b3']);
    // A booking that started a whole MAX_BOOKING_MS before still overlaps its last hour.
    expect((await store.forMember(db, 'ana', 40 * HOUR + MAX_BOOKING_MS - 1, 90 * HOUR)).map((b) => b.id)).toEqual([
      'b3',
    ]);
    expect((await store.forSite(db, 'lyon', 0, 100 * HOUR)).map((b) => b.id)).toEqual(['b2']);
    expect((await store.forResource(db, 'room-a', 0, 100 * HOUR)).map((b) => b.id)).toEqual(['b1', 'b3']);
    expect((await store.confirmedOn(db, 'room-a', 0, 100 * HOUR)).map((b) => b.id)).toEqual(['b1']);
    expect((await store.inMonth(db, 10 * HOUR, 40 * HOUR)).map((b) => b.id)).toEqual(['b1', 'b2']);
    // The availability's read: confirmed only, at the sites asked, overlapping the window.
    const spans = async (sites: string[], from: number, to: number) =>
      (await store.confirmedSpans(db!, sites, from, to)).sort((a, b) => a.startMs - b.startMs);
    expect(await spans(['murat', 'lyon'], 0, 100 * HOUR)).toEqual([
      { resource: 'room-a', site: 'murat', startMs: 10 * HOUR, endMs: 12 * HOUR },
      { resource: 'desk-1', site: 'lyon', startMs: 30 * HOUR, endMs: 31 * HOUR },
    ]);
    expect((await spans(['lyon'], 0, 100 * HOUR)).map((b) => b.resource)).toEqual(['desk-1']);
    expect(await spans(['murat'], 12 * HOUR, 100 * HOUR)).toEqual([]);
    expect(await spans([], 0, 100 * HOUR)).toEqual([]);
    const cancelled = { ...early, status: 'cancelled' as const, cancelledAt: 5, updatedAt: 5, lateCancellation: true };
    await store.update(db, cancelled);
    expect(await store.get(db, 'b1')).toEqual(cancelled);
    expect(await spans(['murat'], 0, 100 * HOUR)).toEqual([]);
  });
});
