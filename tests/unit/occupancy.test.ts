import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { openHubDatabase, type HubDb, type Sql } from '../../cloud-sync/hub/db.js';
import { BUCKET_MS, historySeries } from '../../cloud-sync/hub/occupancy/buckets.js';
import {
  OccupancyProjection,
  type DeclaredSite,
  type PresentMember,
} from '../../cloud-sync/hub/occupancy/projection.js';
import { sqlDialect } from '../../cloud-sync/hub/storage/dialect.js';
import { countingSql } from '../harness/counting-sql.js';
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
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

const names = async (_q: Sql, ids: readonly string[]) =>
  new Map(ids.flatMap((id) => (NAMES[id] === undefined ? [] : [[id, NAMES[id]] as const])));

/** A projection as the hub starts one: who is in read from the table. */
async function loaded(db: HubDb, declared: DeclaredSite[] = [MURAT]) {
  const projection = new OccupancyProjection(db, async () => declared, names);
  await projection.reload();
  return projection;
}

async function projectionOn(declared: DeclaredSite[] = [MURAT]) {
  const db = await openHubDatabase(await testHubDb());
  opened.push(db);
  return { db, projection: await loaded(db, declared) };
}

describe('occupancy projection', () => {
  it('counts who is in at a site from check-ins and check-outs, with names, since when, and the rate against capacity', async () => {
    const { db, projection } = await projectionOn();
    const changed = await projection.apply(db, [
      presence('murat', 1, 'presence.in', 'alice', '08:45'),
      presence('murat', 2, 'presence.in', 'bob', '09:10'),
      presence('murat', 3, 'presence.in', 'zoe', '09:20'),
    ]);
    expect([...changed]).toEqual(['murat']);
    await projection.apply(db, [presence('murat', 4, 'presence.out', 'zoe', '10:00')]);
    expect(await projection.site('murat')).toEqual({
      site: 'murat',
      name: 'Télécentre de Murat',
      timeZone: 'Europe/Paris',
      capacity: 4,
      present: 2,
      rate: 0.5,
    });
    expect(await projection.whoIsIn('murat')).toEqual([
      { memberId: 'alice', name: 'Alice Martin', since: '2026-11-23T08:45:00+01:00' },
      { memberId: 'bob', name: 'Bob Durand', since: '2026-11-23T09:10:00+01:00' },
    ]);
  });

  it('a re-sent or late event never undoes a newer one: a member is as their highest-seq presence event says', async () => {
    const { db, projection } = await projectionOn();
    const checkIn = presence('murat', 1, 'presence.in', 'alice', '08:45');
    const checkOut = presence('murat', 2, 'presence.out', 'alice', '12:00');
    await projection.apply(db, [checkOut]);
    await projection.apply(db, [checkIn]);
    await projection.apply(db, [checkIn, checkOut]);
    expect((await projection.site('murat')).present).toBe(0);
  });

  it('whatever the order and repetition of delivery, the count is that of the events applied in seq order', async () => {
    // Two stores for the whole property, each run on a site of its own (the projection keeps sites
    // apart): on PostgreSQL a fresh schema per run, every migration applied, cost more than the run.
    const inOrder = await projectionOn();
    const scrambled = await projectionOn();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('alice', 'bob', 'chloe'), fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 1000 }),
        async (steps, seed) => {
          const site = `site-${++run}`;
          const events = steps.map(([member, inside], i) =>
            presence(site, i + 1, inside ? 'presence.in' : 'presence.out', member, '09:00'),
          );
          await inOrder.projection.apply(inOrder.db, events);
          const shuffled = [...events, ...events.slice(0, seed % events.length)].sort(
            (a, b) => ((a.seq * 7919 + seed) % 101) - ((b.seq * 7919 + seed) % 101),
          );
          for (const e of shuffled) await scrambled.projection.apply(scrambled.db, [e]);
          const ids = async (p: OccupancyProjection) => (await p.whoIsIn(site)).map((m) => m.memberId).sort();
          expect(await ids(scrambled.projection)).toEqual(await ids(inOrder.projection));
        },
      ),
      { numRuns: storeRuns({ sqlite: 100, postgres: 30 }) },
    );
  });

  it('a group of presence events of several sites, in one transaction, projects as the same events applied one at a time', async () => {
    // Each site's events in seq order, the sites interleaved, some earlier events re-sent later in the group.
    const sites = ['murat', 'allanche', 'riom'];
    const members = ['alice', 'bob', 'chloe', 'dan', 'eve'];
    const grouped = await projectionOn();
    const single = await projectionOn();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            site: fc.constantFrom(...sites),
            member: fc.constantFrom(...members),
            inside: fc.boolean(),
            minutes: fc.integer({ min: 0, max: 3 * 60 }),
            resend: fc.option(fc.nat(), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 120 },
        ),
        async (steps) => {
          const prefix = `g${++run}-`;
          const seqs = new Map<string, number>();
          const events: SiteEvent[] = [];
          for (const s of steps) {
            const site = prefix + s.site;
            const seq = (seqs.get(site) ?? 0) + 1;
            seqs.set(site, seq);
            const at = Date.parse('2026-11-23T08:00:00+01:00') + s.minutes * 60_000;
            const hhmm = new Date(at + 3600_000).toISOString().slice(11, 16);
            const e = presence(site, seq, s.inside ? 'presence.in' : 'presence.out', s.member, hhmm);
            events.push(e);
            if (s.resend !== undefined) events.push(events[s.resend % events.length] as SiteEvent);
          }
          const changedInGroup = await grouped.db.transaction((tx) => grouped.projection.apply(tx, events));
          const changedOneByOne = new Set<string>();
          for (const e of events)
            for (const site of await single.projection.apply(single.db, [e])) changedOneByOne.add(site);
          expect([...changedInGroup].sort()).toEqual([...changedOneByOne].sort());
          const ofRun = sites.map((s) => prefix + s);
          expect(await stored(grouped.db, ofRun)).toEqual(await stored(single.db, ofRun));
          for (const site of ofRun) {
            expect(await grouped.projection.whoIsIn(site)).toEqual(await single.projection.whoIsIn(site));
            expect(await grouped.projection.site(site)).toEqual(await single.projection.site(site));
          }
          // Memory and table agree: a projection started on the database holds the same people
          // (listed in the table's order where they arrived at the same minute).
          const restarted = await loaded(grouped.db);
          const byId = (members: PresentMember[]) => [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
          for (const site of ofRun)
            expect(byId(await restarted.whoIsIn(site))).toEqual(byId(await grouped.projection.whoIsIn(site)));
        },
      ),
      { numRuns: storeRuns({ sqlite: 60, postgres: 15 }) },
    );
  });

  it('a group costs the same few statements whatever its size and its number of sites', async () => {
    const { db, projection } = await projectionOn();
    const statementsFor = (events: SiteEvent[]) =>
      db.transaction(async (tx) => {
        const counted = countingSql(tx);
        await projection.apply(counted.sql, events);
        return counted.statements();
      });
    const group = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) =>
        presence(`s${i % 5}`, from + i, i % 3 === 2 ? 'presence.out' : 'presence.in', `m${i % 40}`, '09:00'),
      );
    const small = await statementsFor(group(5, 1));
    const large = await statementsFor(group(500, 1000));
    // The members' stored presence read, the members changed and the buckets touched written.
    expect(small).toBe(3);
    expect(large).toBe(3);
    // Events that change nothing are read, not written.
    expect(await statementsFor(group(500, 1000))).toBe(1);
    expect(await statementsFor([])).toBe(0);
  });

  it('a projection that missed what another instance wrote reads the site again before counting', async () => {
    const { db, projection: first } = await projectionOn();
    const second = await loaded(db);
    await first.apply(db, [presence('murat', 1, 'presence.in', 'alice', '08:45')]);
    // The second instance never heard of alice's arrival: her departure still counts as one less.
    expect([...(await second.apply(db, [presence('murat', 2, 'presence.out', 'alice', '09:30')]))]).toEqual(['murat']);
    await second.apply(db, [presence('murat', 3, 'presence.in', 'bob', '10:10')]);
    expect((await second.whoIsIn('murat')).map((m) => m.memberId)).toEqual(['bob']);
    // Her departure is in the history: nobody between 09:45 and 10:00.
    const from = Date.parse('2026-11-23T08:45:00+01:00');
    expect((await second.history('murat', from, from + 5 * BUCKET_MS)).map((p) => p.present)).toEqual([
      1, 1, 1, 1, 0, 1,
    ]);
  });

  it('after a restart on the same database, the people still in are still counted', async () => {
    const { db, projection } = await projectionOn();
    await projection.apply(db, [
      presence('murat', 1, 'presence.in', 'alice', '08:45'),
      presence('murat', 2, 'presence.in', 'bob', '09:00'),
    ]);
    const again = await loaded(db);
    expect((await again.site('murat')).present).toBe(2);
    expect((await again.whoIsIn('murat')).map((m) => m.since)).toEqual([
      '2026-11-23T08:45:00+01:00',
      '2026-11-23T09:00:00+01:00',
    ]);
  });

  it('the network shows every declared site, empty ones too, and sites not declared yet that have people in, with the total', async () => {
    const { db, projection } = await projectionOn([
      MURAT,
      { id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 6 },
    ]);
    await projection.apply(db, [presence('murat', 1, 'presence.in', 'alice', '08:45')]);
    await projection.apply(db, [presence('riom', 1, 'presence.in', 'bob', '08:50')]);
    const n = await projection.network();
    expect(n.sites.map((s) => [s.site, s.present, s.capacity])).toEqual([
      ['allanche', 0, 6],
      ['murat', 1, 4],
      ['riom', 1, null],
    ]);
    expect(n.total).toEqual({ present: 2, capacity: 10, rate: 0.2 });
    expect((await projection.network((s) => s === 'murat')).total).toEqual({ present: 1, capacity: 4, rate: 0.25 });
  });

  it('keeps history in 15-minute buckets of the events own time: the peak of each, carried over quiet ones', async () => {
    const { db, projection } = await projectionOn();
    await projection.apply(db, [
      presence('murat', 1, 'presence.in', 'alice', '09:00'),
      presence('murat', 2, 'presence.in', 'bob', '09:05'),
      presence('murat', 3, 'presence.out', 'bob', '09:10'),
      presence('murat', 4, 'presence.out', 'alice', '09:50'),
    ]);
    const from = Date.parse('2026-11-23T08:45:00+01:00');
    const points = await projection.history('murat', from, from + 5 * BUCKET_MS);
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

/** The presence and history rows of `sites`, in key order. */
async function stored(db: HubDb, sites: readonly string[]) {
  const list = JSON.stringify(sites);
  const d = sqlDialect(db);
  return {
    presence: await db.all(
      `SELECT site, member_id, seq, present, since FROM presence_state WHERE site IN ${d.jsonArrayValues('?')} ORDER BY site, member_id`,
      [list],
    ),
    buckets: await db.all(
      `SELECT site, start_ms, peak, last FROM occupancy_buckets WHERE site IN ${d.jsonArrayValues('?')} ORDER BY site, start_ms`,
      [list],
    ),
  };
}
