import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb, type Sql } from '../../cloud-sync/hub/db.js';
import { HubLive, SITE_WATCH_MS } from '../../cloud-sync/hub/occupancy/live.js';
import type { LiveMessage } from '../../cloud-sync/hub/occupancy/live-feed.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import { LogCapture } from '../harness/log-capture.js';
import { testHubDb } from '../harness/hub-db.js';
import { eventually } from '../support/eventually.js';

const opened: HubDb[] = [];
const lives: HubLive[] = [];
afterEach(async () => {
  lives.splice(0).forEach((l) => l.stop());
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

const checkIn = (memberId: string): NewEvent => ({ type: 'presence.in', data: { memberId } });
const forced = (door: string): NewEvent => ({ type: 'door.forced', data: { door } });

async function world() {
  const db = await openHubDatabase(await testHubDb());
  opened.push(db);
  const store = new HubStore(db);
  const clock = new ManualClock('2026-11-23T08:00:00Z');
  const logs = new LogCapture();
  const start = () => {
    const live = new HubLive({
      db,
      store,
      clock,
      log: pino(logs),
      declaredSites: async (q: Sql) =>
        q.all('SELECT id, name, time_zone AS "timeZone", capacity FROM sites ORDER BY id'),
      memberNames: async () => new Map(),
    });
    lives.push(live);
    return live;
  };
  let seq = 0;
  /** Stores murat's events as ingest does, without telling any live side. */
  const store_ = async (...events: NewEvent[]) => {
    const list = events.map(
      (e) =>
        ({
          v: 1,
          site: 'murat',
          seq: ++seq,
          id: randomUUID(),
          at: new Date(clock.now()).toISOString(),
          ...e,
        }) as SiteEvent,
    );
    await store.ingest({ v: 1, site: 'murat', events: list }, clock.now());
    return list;
  };
  return { db, clock, logs, start, store: store_ };
}

/** Makes the database refuse every write of presence (a store failing in the middle of the recovery). */
async function refusePresence(db: HubDb): Promise<() => Promise<void>> {
  if (db.dialect === 'sqlite') {
    await db.exec(
      `CREATE TRIGGER refuse_presence BEFORE INSERT ON presence_state BEGIN SELECT RAISE(ABORT, 'disk says no'); END`,
    );
    return () => db.exec('DROP TRIGGER refuse_presence');
  }
  await db.exec(`CREATE FUNCTION refuse_presence() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk says no'; END $$;
    CREATE TRIGGER refuse_presence BEFORE INSERT ON presence_state FOR EACH ROW EXECUTE FUNCTION refuse_presence()`);
  return () => db.exec('DROP TRIGGER refuse_presence ON presence_state; DROP FUNCTION refuse_presence()');
}

describe('the live side at start', () => {
  it('projects again the events stored since its cursor, alarms included, and saves the cursor', async () => {
    const { db, clock, start, store } = await world();
    await store(checkIn('alice'), checkIn('bob'), forced('front'));
    const live = start();
    await live.recover();
    expect((await live.projection.site('murat')).present).toBe(2);
    expect((await live.alarms.list({ open: true })).map((a) => a.kind)).toEqual(['door.forced']);
    expect(await db.value('SELECT received_at FROM live_cursor WHERE id = 1')).toBe(clock.now());
  });

  it('a recovery the store fails is logged, never thrown, and done at the next watch once the store answers', async () => {
    const { db, clock, logs, start, store } = await world();
    await store(checkIn('alice'), checkIn('bob'));
    const allow = await refusePresence(db);
    const live = start();
    await expect(live.recover()).resolves.toBeUndefined();
    expect(logs.lines().some((l) => l.includes('not recovered'))).toBe(true);
    // Nothing half-applied is held: the transaction of the page was rolled back.
    expect((await live.projection.site('murat')).present).toBe(0);
    expect(await db.value('SELECT received_at FROM live_cursor WHERE id = 1')).toBeUndefined();
    await allow();
    live.watchHeartbeats();
    clock.advance(SITE_WATCH_MS);
    await eventually(async () => (await live.projection.site('murat')).present === 2, 'the recovery at the next watch');
    await eventually(
      async () => (await db.value('SELECT received_at FROM live_cursor WHERE id = 1')) !== undefined,
      'the cursor saved',
    );
    // Logged once, however many watches failed.
    expect(logs.lines().filter((l) => l.includes('not recovered'))).toHaveLength(1);
  });

  it('what ingest hands it is written in the ingest transaction, and told to live clients only once committed', async () => {
    const { db, start, store } = await world();
    const live = start();
    await live.recover();
    const told: LiveMessage[] = [];
    live.feed.subscribe((m) => told.push(m));
    const events = await store(checkIn('alice'), forced('front'));
    // A transaction that fails after the live side wrote: nothing of it stays, nobody is told.
    await expect(
      db.transaction(async (tx) => {
        await live.onApplied(tx, events);
        throw new Error('the ingest commit failed');
      }),
    ).rejects.toThrow('the ingest commit failed');
    expect(await db.value('SELECT COUNT(*) FROM presence_state')).toBe(0);
    expect(await live.alarms.list()).toEqual([]);
    expect(told).toEqual([]);
    // Committed: told once the function it returned runs.
    const tell = await db.transaction((tx) => live.onApplied(tx, events));
    expect(told).toEqual([]);
    tell();
    expect(told.map((m) => m.kind)).toEqual(['event', 'event', 'alarm', 'occupancy']);
    expect(told.find((m) => m.kind === 'occupancy')?.data).toMatchObject({ site: 'murat', present: 1 });
    await eventually(() => told.some((m) => m.kind === 'health'), 'the site health told');
  });
});
