import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { BUCKET_MS, historySeries } from '../../cloud-sync/hub/occupancy/buckets.js';
import { OccupancyProjection, type DeclaredSite } from '../../cloud-sync/hub/occupancy/projection.js';
import { storeRuns, testHubDb } from '../harness/hub-db.js';

const MURAT: DeclaredSite = { id: 'murat', name: 'Télécentre de Murat', timeZone: 'Europe/Paris', capacity: 4 };
const NAMES: Record<string, string> = { alice: 'Alice Martin', bob: 'Bob Durand' };

/** A presence event at a site-local Paris time on Monday 23 November 2026 (UTC+1). */
function presence(
  site: string,
  seq: number,
  type: 'presence.in' | 'presence.out',
  memberId: string,
  hhmm: string,
): SiteEvent {
  const at = `2026-11-23T${hhmm}:00+01:00`;
  const base = { v: 1 as const, site, seq, id: randomUUID(), at };
  return type === 'presence.in'
    ? { ...base, type, data: { memberId } }
    : { ...base, type, data: { memberId, cause: 'badge', via: 'exit_reader', minutes: 1 } };
}

const opened: HubDb[] = [];
afterEach(() => opened.splice(0).forEach((db) => db.close()));

function projectionOn(db = openHubDatabase(testHubDb()), declared: DeclaredSite[] = [MURAT]) {
  opened.push(db);
  return {
    db,
    projection: new OccupancyProjection(
      db,
      () => declared,
      (id) => NAMES[id],
    ),
  };
}

describe('occupancy projection', () => {
  it('counts who is in at a site from check-ins and check-outs, with names, since when, and the rate against capacity', () => {
    const { projection } = projectionOn();
    const changed = projection.apply([
      presence('murat', 1, 'presence.in', 'alice', '08:45'),
      presence('murat', 2, 'presence.in', 'bob', '09:10'),
      presence('murat', 3, 'presence.in', 'zoe', '09:20'),
    ]);
    expect([...changed]).toEqual(['murat']);
    projection.apply([presence('murat', 4, 'presence.out', 'zoe', '10:00')]);
    expect(projection.site('murat')).toEqual({
      site: 'murat',
      name: 'Télécentre de Murat',
      timeZone: 'Europe/Paris',
      capacity: 4,
      present: 2,
      rate: 0.5,
    });
    expect(projection.whoIsIn('murat')).toEqual([
      { memberId: 'alice', name: 'Alice Martin', since: '2026-11-23T08:45:00+01:00' },
      { memberId: 'bob', name: 'Bob Durand', since: '2026-11-23T09:10:00+01:00' },
    ]);
  });

  it('a re-sent or late event never undoes a newer one: a member is as their highest-seq presence event says', () => {
    const { projection } = projectionOn();
    const checkIn = presence('murat', 1, 'presence.in', 'alice', '08:45');
    const checkOut = presence('murat', 2, 'presence.out', 'alice', '12:00');
    projection.apply([checkOut]);
    projection.apply([checkIn]);
    projection.apply([checkIn, checkOut]);
    expect(projection.site('murat').present).toBe(0);
  });

  it('whatever the order and repetition of delivery, the count is that of the events applied in seq order', () => {
    // Two stores for the whole property, each run on a site of its own (the projection keeps sites
    // apart): on PostgreSQL a fresh schema per run, every migration applied, cost more than the run.
    const inOrder = projectionOn().projection;
    const scrambled = projectionOn().projection;
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('alice', 'bob', 'chloe'), fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 1000 }),
        (steps, seed) => {
          const site = `site-${++run}`;
          const events = steps.map(([member, inside], i) =>
            presence(site, i + 1, inside ? 'presence.in' : 'presence.out', member, '09:00'),
          );
          inOrder.apply(events);
          const shuffled = [...events, ...events.slice(0, seed % events.length)].sort(
            (a, b) => ((a.seq * 7919 + seed) % 101) - ((b.seq * 7919 + seed) % 101),
          );
          for (const e of shuffled) scrambled.apply([e]);
          expect(
            scrambled
              .whoIsIn(site)
              .map((m) => m.memberId)
              .sort(),
          ).toEqual(
            inOrder
              .whoIsIn(site)
              .map((m) => m.memberId)
              .sort(),
          );
        },
      ),
      { numRuns: storeRuns({ sqlite: 100, postgres: 30 }) },
    );
  });

  it('after a restart on the same database, the people still in are still counted', () => {
    const { db, projection } = projectionOn();
    projection.apply([
      presence('murat', 1, 'presence.in', 'alice', '08:45'),
      presence('murat', 2, 'presence.in', 'bob', '09:00'),
    ]);
    const again = new OccupancyProjection(
      db,
      () => [MURAT],
      (id) => NAMES[id],
    );
    expect(again.site('murat').present).toBe(2);
    expect(again.whoIsIn('murat').map((m) => m.since)).toEqual([
      '2026-11-23T08:45:00+01:00',
      '2026-11-23T09:00:00+01:00',
    ]);
  });

  it('the network shows every declared site, empty ones too, and sites not declared yet that have people in, with the total', () => {
    const { projection } = projectionOn(undefined, [
      MURAT,
      { id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 6 },
    ]);
    projection.apply([presence('murat', 1, 'presence.in', 'alice', '08:45')]);
    projection.apply([presence('riom', 1, 'presence.in', 'bob', '08:50')]);
    const n = projection.network();
    expect(n.sites.map((s) => [s.site, s.present, s.capacity])).toEqual([
      ['allanche', 0, 6],
      ['murat', 1, 4],
      ['riom', 1, null],
    ]);
    expect(n.total).toEqual({ present: 2, capacity: 10, rate: 0.2 });
    expect(projection.network((s) => s === 'murat').total).toEqual({ present: 1, capacity: 4, rate: 0.25 });
  });

  it('keeps history in 15-minute buckets of the events own time: the peak of each, carried over quiet ones', () => {
    const { projection } = projectionOn();
    projection.apply([
      presence('murat', 1, 'presence.in', 'alice', '09:00'),
      presence('murat', 2, 'presence.in', 'bob', '09:05'),
      presence('murat', 3, 'presence.out', 'bob', '09:10'),
      presence('murat', 4, 'presence.out', 'alice', '09:50'),
    ]);
    const from = Date.parse('2026-11-23T08:45:00+01:00');
    const points = projection.history('murat', from, from + 5 * BUCKET_MS);
    expect(points.map((p) => [new Date(p.start).toISOString(), p.present, p.rate])).toEqual([
      ['2026-11-23T07:45:00.000Z', 0, 0],
      ['2026-11-23T08:00:00.000Z', 2, 0.5],
      ['2026-11-23T08:15:00.000Z', 1, 0.25],
      ['2026-11-23T08:30:00.000Z', 1, 0.25],
      ['2026-11-23T08:45:00.000Z', 1, 0.25],
      ['2026-11-23T09:00:00.000Z', 0, 0],
    ]);
  });

  it('a history series has one point per bucket and never a negative or fractional count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 95 }), peak: fc.nat(50), last: fc.nat(50) }), {
          maxLength: 40,
        }),
        (rows) => {
          const from = 0;
          const points = historySeries(
            rows.map((r) => ({ startMs: r.slot * BUCKET_MS, peak: r.peak, last: r.last })),
            undefined,
            from,
            95 * BUCKET_MS,
            10,
          );
          expect(points).toHaveLength(96);
          for (const p of points) expect(Number.isInteger(p.present) && p.present >= 0).toBe(true);
        },
      ),
    );
  });
});
