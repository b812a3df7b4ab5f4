import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { BookingStore } from '../../cloud-sync/hub/bookings/store.js';
import { peakOverlap } from '../../cloud-sync/hub/bookings/rules.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { storeRuns } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { call, seedNetwork } from './hub-bookings-fixtures.js';

/**
 * Many requests at once, through the API, across a change of the clocks in Paris: whatever
 * order they commit in, a room never holds two bookings at one instant and a pool never more
 * than its size.
 */
const ALL_DAY = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }];
const SEASONS = [
  { name: 'spring forward', now: '2026-03-27T08:00:00Z', dates: ['2026-03-28', '2026-03-29', '2026-03-30'] },
  { name: 'fall back', now: '2026-10-23T08:00:00Z', dates: ['2026-10-24', '2026-10-25', '2026-10-26'] },
];
const POOL_SIZE = 2;
interface When {
  date: number;
  from: string;
  to: string;
}
const MEMBERS = ['ana', 'leo', 'nina'];

const quarter = fc
  .integer({ min: 0, max: 95 })
  .map((q) => `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`);
const when = fc
  .record({ date: fc.integer({ min: 0, max: 2 }), a: quarter, b: quarter })
  .filter(({ a, b }) => a !== b)
  .map(({ date, a, b }) => ({ date, from: a < b ? a : b, to: a < b ? b : b === '00:00' ? '24:00' : a }));
const request = fc.oneof(
  fc.record({
    kind: fc.constant('book' as const),
    resource: fc.constantFrom('night-room', 'night-pool'),
    member: fc.constantFrom(...MEMBERS),
    when,
  }),
  fc.record({
    kind: fc.constant('move' as const),
    pick: fc.nat(),
    resource: fc.constantFrom('night-room', 'night-pool'),
    when,
  }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
);

async function checkInvariants(hub: Hub): Promise<void> {
  const rows = (await new BookingStore().inMonth(hub.store.db, 0, Date.parse('2027-01-01T00:00:00Z'))).filter(
    (b) => b.status === 'confirmed',
  );
  for (const resource of ['night-room', 'night-pool']) {
    const mine = rows.filter((b) => b.resource === resource);
    for (const b of mine) {
      const peak = peakOverlap(mine, b);
      expect(peak, `${resource} at ${new Date(b.startMs).toISOString()}`).toBeLessThanOrEqual(
        resource === 'night-room' ? 1 : POOL_SIZE,
      );
    }
  }
}

describe.each(SEASONS)('concurrent bookings across the $name', (season) => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeAll(async () => {
    const s = await signedInHub(silent, new ManualClock(season.now));
    hub = s.hub;
    admin = s.admin;
    await seedNetwork(hub, admin);
    const put = (id: string, body: object) =>
      call(hub, admin, 'PUT', `/resources/${id}`, { site: 'murat', hours: ALL_DAY, ...body });
    expect((await put('night-room', { kind: 'room', name: 'Night room', capacity: 4 })).status).toBe(200);
    expect((await put('night-pool', { kind: 'desk-pool', name: 'Night pool', size: POOL_SIZE })).status).toBe(200);
  });
  afterAll(async () => hub.stop());

  it('never overlaps a room nor fills a pool past its size', async () => {
    const ids: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 2, maxLength: 12 }), async (requests) => {
        const answers = await Promise.all(
          requests.map((r) => {
            const at = (w: When) => ({
              date: season.dates[w.date],
              from: w.from,
              to: w.to,
            });
            if (r.kind === 'book')
              return call(hub, admin, 'POST', '/bookings', { resource: r.resource, member: r.member, ...at(r.when) });
            const id = ids[r.pick % Math.max(1, ids.length)] ?? 'none';
            if (r.kind === 'move')
              return call(hub, admin, 'PATCH', `/bookings/${id}`, { resource: r.resource, ...at(r.when) });
            return call(hub, admin, 'POST', `/bookings/${id}/cancel`);
          }),
        );
        for (const a of answers) {
          expect([200, 201, 400, 404, 409]).toContain(a.status);
          if (a.status === 201) ids.push(a.body.item.id);
        }
        await checkInvariants(hub);
      }),
      { numRuns: storeRuns({ sqlite: 25, postgres: 8 }) },
    );
    // The property saw bookings made, not only refusals.
    expect(ids.length).toBeGreaterThan(0);
  });
});
