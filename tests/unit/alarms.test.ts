import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb, type Sql } from '../../cloud-sync/hub/db.js';
import { type Alarm, AlarmBook } from '../../cloud-sync/hub/occupancy/alarms.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import { statusOf } from '../harness/hub-fixtures.js';
import { countingSql } from '../harness/counting-sql.js';
import { storeRuns, testHubDb } from '../harness/hub-db.js';

const NOW = Date.parse('2026-11-23T21:00:00Z');

const opened: HubDb[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

async function world() {
  const db = await openHubDatabase(await testHubDb());
  opened.push(db);
  const store = new HubStore(db);
  const alarms = new AlarmBook(db, () => NOW);
  let seq = 0;
  /** Events of site murat with the next seqs, Paris local times. */
  const events = (...es: Array<[string, NewEvent]>): SiteEvent[] =>
    es.map(
      ([hhmm, e]) =>
        ({ v: 1, site: 'murat', seq: ++seq, id: randomUUID(), at: `2026-11-23T${hhmm}:00+01:00`, ...e }) as SiteEvent,
    );
  /** Stores the events (as ingest does), then tells the alarm book in a transaction of its own. */
  const deliver = async (batch: SiteEvent[]) => {
    await store.ingest({ v: 1, site: batch[0]?.site ?? 'murat', events: batch }, NOW);
    return db.transaction((tx) => alarms.apply(tx, batch));
  };
  return { db, store, alarms, events, deliver };
}

const forced = (door = 'front'): NewEvent => ({ type: 'door.forced', data: { door } });
const secured = (after: 'forced' | 'held', door = 'front'): NewEvent => ({
  type: 'door.secured',
  data: { door, after },
});

describe('alarms', () => {
  it('a forced door is one active alarm; forced again while active counts, not a second alarm; door.secured clears it', async () => {
    const { alarms, events, deliver } = await world();
    await deliver(events(['22:00', forced()], ['22:01', forced()]));
    expect(await alarms.list({ open: true })).toMatchObject([
      {
        kind: 'door.forced',
        subject: 'front',
        count: 2,
        raisedAt: '2026-11-23T22:00:00+01:00',
        clearedAt: null,
        open: true,
      },
    ]);
    const [cleared] = await deliver(events(['22:05', secured('forced')]));
    expect(cleared).toMatchObject({ clearedAt: '2026-11-23T22:05:00+01:00', clearedBy: 'door.secured', open: true });
    await deliver(events(['23:00', forced()]));
    expect((await alarms.list()).map((a) => [a.count, a.clearedAt === null])).toEqual([
      [1, true],
      [2, false],
    ]);
  });

  it('a held-open alarm is not cleared by the end of a forced one, only by its own door.secured', async () => {
    const { alarms, events, deliver } = await world();
    await deliver(
      events(['09:00', { type: 'door.held', data: { door: 'front', seconds: 120 } }], ['09:01', secured('forced')]),
    );
    expect(await alarms.list({ open: true })).toMatchObject([{ kind: 'door.held', detail: '120 s', clearedAt: null }]);
    await deliver(events(['09:03', secured('held')]));
    expect((await alarms.list())[0]).toMatchObject({ clearedBy: 'door.secured' });
  });

  it('applying the same events again changes nothing: no new alarm, no extra count', async () => {
    const { db, alarms, events, deliver } = await world();
    const batch = events(
      ['22:00', forced()],
      ['22:01', forced()],
      ['22:02', { type: 'device.fault', data: { device: 'reader-1', kind: 'reader.lost' } }],
    );
    await deliver(batch);
    const before = await alarms.list();
    expect(await db.transaction((tx) => alarms.apply(tx, batch))).toEqual([]);
    expect(await alarms.list()).toEqual(before);
  });

  it('a door.secured that arrived before its door.forced (across a gap) leaves the alarm stored already cleared', async () => {
    const { alarms, events, deliver } = await world();
    const [first, second] = events(['22:00', forced()], ['22:02', secured('forced')]);
    await deliver([second as SiteEvent]);
    await deliver([first as SiteEvent]);
    expect(await alarms.list()).toMatchObject([
      { kind: 'door.forced', clearedAt: '2026-11-23T22:02:00+01:00', clearedBy: 'door.secured' },
    ]);
  });

  it('a lost reader is cleared when found; a sync rejection is over at once and stays open until acknowledged', async () => {
    const { alarms, events, deliver } = await world();
    await deliver(
      events(
        ['10:00', { type: 'device.fault', data: { device: 'ACR122U 00', kind: 'reader.lost', detail: 'unplugged' } }],
        [
          '10:01',
          { type: 'device.fault', data: { device: 'sync', kind: 'sync.rejected', detail: 'payload too large' } },
        ],
        ['10:02', { type: 'device.fault', data: { device: 'ACR122U 00', kind: 'reader.found' } }],
      ),
    );
    const list = await alarms.list();
    expect(list.map((a) => [a.kind, a.clearedBy, a.open])).toEqual([
      ['sync.rejected', 'one-off', true],
      ['reader.lost', 'reader.found', true],
    ]);
    const acked = await alarms.acknowledge(list[0]?.id ?? 0, 'manon');
    expect(acked).toMatchObject({ acknowledgedBy: 'manon', acknowledgedAt: new Date(NOW).toISOString(), open: false });
    expect((await alarms.acknowledge(acked.id, 'someone-else')).acknowledgedBy).toBe('manon');
    expect((await alarms.list({ open: true })).map((a) => a.kind)).toEqual(['reader.lost']);
    await expect(alarms.acknowledge(999, 'x')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a refused directory update, a relay that failed to move and a reader that keeps reading no UID each raise an alarm, open until acknowledged', async () => {
    const { alarms, events, deliver } = await world();
    await deliver(
      events(
        [
          '10:00',
          {
            type: 'device.fault',
            data: { device: 'hub', kind: 'directory.rejected', detail: 'forged: the signature is not the hub key’s' },
          },
        ],
        ['10:01', { type: 'device.fault', data: { device: 'front', kind: 'gpio.error', detail: 'EIO' } }],
        [
          '10:02',
          {
            type: 'device.fault',
            data: {
              device: 'front-in',
              kind: 'uid.unreadable',
              detail: '3 cards in a row whose UID could not be read',
            },
          },
        ],
      ),
    );
    expect((await alarms.list({ open: true })).map((a) => [a.kind, a.subject, a.clearedBy])).toEqual([
      ['reader.unreadable', 'front-in', 'one-off'],
      ['relay.failed', 'front', 'one-off'],
      ['directory.rejected', 'hub', 'one-off'],
    ]);
  });

  it('a site offline (last will) raises one site.offline alarm however many offline statuses come; online clears it', async () => {
    const { alarms } = await world();
    expect(await alarms.onStatus(statusOf('murat', { online: false }))).toHaveLength(1);
    expect(await alarms.onStatus(statusOf('murat', { online: false }))).toEqual([]);
    expect((await alarms.openCounts()).get('murat')).toBe(1);
    expect([await alarms.openCount('murat'), await alarms.openCount('lyon')]).toEqual([1, 0]);
    const [cleared] = await alarms.onStatus(statusOf('murat', { online: true }));
    expect(cleared).toMatchObject({
      kind: 'site.offline',
      subject: 'murat',
      clearedBy: 'site.online',
      clearedAt: new Date(NOW).toISOString(),
    });
    expect(await alarms.onStatus(statusOf('murat', { online: true }))).toEqual([]);
    // Cleared but not yet seen by anyone: still counted open, as by openCounts.
    expect(await alarms.openCount('murat')).toBe((await alarms.openCounts()).get('murat'));
    expect(await alarms.openCount('murat')).toBe(1);
  });

  it('a status that changes no alarm opens no transaction: a site online with none, or offline again', async () => {
    const { db } = await world();
    let transactions = 0;
    const counted = new Proxy(db, {
      get: (target, key) =>
        key === 'transaction'
          ? (fn: Parameters<typeof db.transaction>[0]) => (transactions++, target.transaction(fn))
          : (Reflect.get(target, key) as unknown),
    });
    const alarms = new AlarmBook(counted, () => NOW);
    await alarms.onStatus(statusOf('murat', { online: true }));
    expect(transactions).toBe(0);
    expect(await alarms.onStatus(statusOf('murat', { online: false }))).toHaveLength(1);
    expect(transactions).toBe(1);
    expect(await alarms.onStatus(statusOf('murat', { online: false }))).toEqual([]);
    expect(transactions).toBe(1);
    expect(await alarms.onStatus(statusOf('murat', { online: true }))).toHaveLength(1);
    expect(transactions).toBe(2);
  });

  it('a group of events of several sites, applied in one transaction, leaves the alarms the same events leave one at a time', async () => {
    const sites = ['murat', 'allanche'];
    const grouped = await world();
    const single = await world();
    let run = 0;
    const step = fc.oneof(
      fc.record({
        door: fc.constantFrom('front', 'back'),
        what: fc.constantFrom('forced', 'held', 'secured-forced', 'secured-held'),
      }),
      fc.record({ device: fc.constantFrom('r1', 'r2'), what: fc.constantFrom('lost', 'found', 'rejected') }),
      fc.constant({ what: 'presence' as const }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ site: fc.constantFrom(...sites), step, resend: fc.option(fc.nat(), { nil: undefined }) }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        fc.nat(),
        async (steps, split) => {
          const prefix = `g${++run}-`;
          const seqs = new Map<string, number>();
          const events: SiteEvent[] = [];
          for (const [i, s] of steps.entries()) {
            const site = prefix + s.site;
            const seq = (seqs.get(site) ?? 0) + 1;
            seqs.set(site, seq);
            const at = `2026-11-23T${String(10 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00+01:00`;
            events.push({ v: 1, site, seq, id: randomUUID(), at, ...eventOf(s.step) } as SiteEvent);
          }
          // Stored before they are applied, the later ones of each site first: a clearing event
          // may be held already when its alarm is raised (it came first, across a gap).
          const cut = split % events.length;
          const store = async (w: typeof grouped) => {
            for (const part of [events.slice(cut), events.slice(0, cut)])
              for (const site of new Set(part.map((e) => e.site)))
                await w.store.ingest({ v: 1, site, events: part.filter((e) => e.site === site) }, NOW);
          };
          await store(grouped);
          await store(single);
          const delivered = [...events];
          for (const [i, s] of steps.entries())
            if (s.resend !== undefined) delivered.splice(i + 1, 0, events[s.resend % events.length] as SiteEvent);
          const inGroup = await grouped.db.transaction((tx) => grouped.alarms.apply(tx, delivered));
          const oneByOne = new Map<number, Alarm>();
          for (const e of delivered)
            for (const a of await single.db.transaction((tx) => single.alarms.apply(tx, [e]))) oneByOne.set(a.id, a);
          expect(inGroup.map(withoutId)).toEqual([...oneByOne.values()].map(withoutId));
          const ofRun = async (w: typeof grouped) =>
            (await w.alarms.list({ sites: sites.map((s) => prefix + s), limit: 1000 })).map(withoutId);
          expect(await ofRun(grouped)).toEqual(await ofRun(single));
        },
      ),
      { numRuns: storeRuns({ sqlite: 80, postgres: 20 }) },
    );
  });

  it('a later clear is looked up in the index of clearing events, not through every later event of the site', async () => {
    const { db, store, alarms, events } = await world();
    // Raised alarms whose clear did not come: each one's lookup would step through all the later door.forced rows.
    const batch = events(...Array.from({ length: 50 }, (): [string, NewEvent] => ['22:00', forced()]));
    await store.ingest({ v: 1, site: 'murat', events: batch }, NOW);
    const lookups: Array<{ text: string; params: Parameters<Sql['all']>[1] }> = [];
    await db.transaction(async (tx) => {
      const recording: Sql = {
        ...tx,
        all: (text, params) => {
          if (text.includes('e.seq > v.column2')) lookups.push({ text, params });
          return tx.all(text, params);
        },
      };
      await alarms.apply(recording, batch);
    });
    expect(lookups).toHaveLength(1);
    const [lookup] = lookups as [(typeof lookups)[number]];
    // Fifty raises of one door, no clear between: its first and last raise are looked up, not all
    // fifty (the clearing type, then site, seq, door and after for each row).
    expect(lookup.params).toEqual([
      'door.secured',
      ...[batch[0], batch[49]].flatMap((e) => ['murat', e?.seq, 'front', 'forced']),
    ]);
    if (db.dialect === 'sqlite') {
      const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${lookup.text}`, lookup.params);
      expect(plan.map((r) => r.detail).join('\n')).toMatch(
        /SEARCH e USING INDEX events_clearing \(type=\? AND site=\? AND seq>\?\)/,
      );
    } else {
      // PostgreSQL plans from its statistics: the index is there, and the query states its condition.
      const [index] = await db.all<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname = 'events_clearing'",
      );
      expect(index?.indexdef).toMatch(/\(type, site, seq\) WHERE \(type = ANY/);
      expect(lookup.text).toContain("e.type IN ('door.secured', 'device.fault')");
    }
  });

  it('a group costs a few statements whatever its size, and none when no event of it concerns an alarm', async () => {
    const { db, store, alarms } = await world();
    let seq = 0;
    const group = (n: number) =>
      Array.from(
        { length: n },
        (_, i) =>
          ({
            v: 1,
            site: 'murat',
            seq: ++seq,
            id: randomUUID(),
            at: '2026-11-23T22:00:00+01:00',
            ...(i % 2 === 0 ? forced(`door-${i % 20}`) : secured('forced', `door-${(i + 3) % 20}`)),
          }) as SiteEvent,
      );
    const statementsFor = async (events: SiteEvent[]) => {
      if (events.length > 0) await store.ingest({ v: 1, site: 'murat', events }, NOW);
      return db.transaction(async (tx) => {
        const counted = countingSql(tx);
        await alarms.apply(counted.sql, events);
        return counted.statements();
      });
    };
    // The alarms concerned read, the clearing events stored past each raising one read, the raised inserted.
    expect(await statementsFor(group(4))).toBe(3);
    // And the alarms read then changed (counted again, cleared) written back; the subjects whose
    // first and last raise find different clears have the raises between looked up too.
    expect(await statementsFor(group(200))).toBe(5);
    const presence = Array.from({ length: 50 }, (_, i) => ({
      v: 1 as const,
      site: 'murat',
      seq: ++seq,
      id: randomUUID(),
      at: '2026-11-23T22:00:00+01:00',
      type: 'presence.in' as const,
      data: { memberId: `m${i}` },
    }));
    expect(await statementsFor(presence)).toBe(0);
  });
});

const withoutId = ({ id: _, ...rest }: Alarm) => rest;

type Step =
  | { door: string; what: 'forced' | 'held' | 'secured-forced' | 'secured-held' }
  | { device: string; what: 'lost' | 'found' | 'rejected' }
  | { what: 'presence' };

function eventOf(step: Step): NewEvent {
  if ('door' in step) {
    if (step.what === 'forced') return forced(step.door);
    if (step.what === 'held') return { type: 'door.held', data: { door: step.door, seconds: 90 } };
    return secured(step.what === 'secured-forced' ? 'forced' : 'held', step.door);
  }
  if ('device' in step) {
    const kind = step.what === 'lost' ? 'reader.lost' : step.what === 'found' ? 'reader.found' : 'sync.rejected';
    return { type: 'device.fault', data: { device: step.device, kind } };
  }
  return { type: 'presence.in', data: { memberId: 'alice' } };
}
