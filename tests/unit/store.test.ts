import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../../edge/store/store.js';
import { openDatabase } from '../../edge/store/db.js';
import { MIGRATIONS } from '../../edge/store/migrations.js';
import type { Harness } from '../harness/site.js';
import { startSite, UID } from '../harness/site.js';
import { SiteEvent } from '../../shared/protocol/events.js';

let site: Harness | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await site?.stop();
  site = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-store-'));
  dirs.push(dir);
  return join(dir, 'edge.db');
}

/** Asserts seqs are exactly 1..n, every event valid, and the counter agrees. */
function expectGapless(store: EdgeStore): number {
  const events = store.events.list(0, 10_000_000);
  events.forEach((e, i) => {
    expect(e.seq).toBe(i + 1);
    expect(SiteEvent.safeParse(e).success).toBe(true);
  });
  expect(store.events.lastSeq()).toBe(events.length);
  return events.length;
}

describe('the edge store', () => {
  it('opens in WAL mode at the latest schema version', () => {
    const db = openDatabase(tempDb());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it('refuses a database from a newer version instead of guessing', () => {
    const path = tempDb();
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(/newer than this program knows/);
  });

  it('a state change and its event commit together or not at all', async () => {
    site = await startSite();
    const before = site.store.events.lastSeq();
    expect(() =>
      site?.store.transaction(() => {
        site?.edge.presence.checkIn('alice', site.clock.now(), 'front', 'front-in');
        throw new Error('power cut in the middle');
      }),
    ).toThrow('power cut');
    expect(site.store.presence.occupancy()).toBe(0);
    expect(site.store.events.lastSeq()).toBe(before);
    expect(site.tap('front-in', UID.alice).presence).toBe('in');
    expectGapless(site.store);
  });

  it('tells its listeners once per committed transaction that appended events, never for a rollback', () => {
    const store = EdgeStore.open(tempDb(), 'murat', 'Europe/Paris');
    let told = 0;
    const off = store.onEventsCommitted(() => told++);
    const event = () => store.events.append({ type: 'door.forced', data: { door: 'front' } }, Date.now());
    store.transaction(() => {
      event();
      event();
      // A nested transaction (a savepoint) is not a commit: told once, for the outer one.
      store.transaction(event);
    });
    expect(told).toBe(1);
    store.transaction(() => store.events.lastSeq());
    expect(told).toBe(1);
    expect(() =>
      store.transaction(() => {
        event();
        throw new Error('power cut in the middle');
      }),
    ).toThrow('power cut');
    expect(told).toBe(1);
    // The rolled-back append is not carried into the next transaction that appends nothing.
    store.transaction(() => store.events.lastSeq());
    expect(told).toBe(1);
    store.transaction(event);
    expect(told).toBe(2);
    off();
    store.transaction(event);
    expect(told).toBe(2);
    expect(store.events.lastSeq()).toBe(5);
    store.close();
  });

  it('a transaction that reads then writes holds the write lock from its start, and tells its listeners as any other', () => {
    const path = tempDb();
    const store = EdgeStore.open(path, 'murat', 'Europe/Paris');
    let told = 0;
    store.onEventsCommitted(() => told++);
    const other = new Database(path);
    other.pragma('busy_timeout = 0');
    const otherWrites = () => other.prepare("UPDATE counters SET value = value WHERE name = 'acked'").run();
    const seq = store.readThenWrite(() => {
      // Nothing written yet, and already no other connection may write.
      expect(otherWrites).toThrow(/locked|busy/i);
      const last = store.events.lastSeq();
      // Inside a transaction it is a savepoint: the outer one commits, once.
      store.readThenWrite(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0));
      return last;
    });
    expect(seq).toBe(0);
    expect(told).toBe(1);
    expect(store.events.lastSeq()).toBe(1);
    expect(() =>
      store.readThenWrite(() => {
        store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0);
        throw new Error('power cut in the middle');
      }),
    ).toThrow('power cut');
    expect(told).toBe(1);
    expect(store.events.lastSeq()).toBe(1);
    // Once it ended, the lock is free.
    expect(otherWrites().changes).toBe(1);
    other.close();
    store.close();
  });

  it('refuses to append an event outside a transaction', async () => {
    site = await startSite();
    expect(() => site?.store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0)).toThrow(
      /inside the transaction/,
    );
  });

  it(
    'seq stays gapless after 10,000 mixed operations, and events carry site-local time',
    { timeout: 120_000 },
    async () => {
      site = await startSite({}, undefined, undefined, tempDb());
      const uids = [UID.alice, UID.bob, UID.chloe, UID.dan, UID.eve, UID.revoked, '04000000000099'];
      const readers = ['front-in', 'front-out', 'lockers', 'own-lockers'];
      let seed = 42;
      const next = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
      let taps = 0;
      for (let i = 0; i < 10_000; i++) {
        const op = next(10);
        if (op < 8 && ++taps)
          site.tap(readers[next(readers.length)] ?? 'front-in', uids[next(uids.length)] ?? UID.alice);
        else if (op === 8) site.edge.lockers.release('bank-a', 1 + next(2), site.clock.now());
        else site.edge.presence.sweepOverstays(site.clock.now());
        site.clock.advance(next(20) * 60_000);
      }
      const count = expectGapless(site.store);
      expect(taps).toBeGreaterThan(7_000);
      expect(count).toBeGreaterThanOrEqual(taps);
      const at = site.store.events.list(0, 1)[0]?.at ?? '';
      expect(at).toMatch(/^2026-11-23T\d\d:\d\d:\d\d\.\d{3}\+01:00$/);
    },
  );

  it('pruning old events never lets a seq be used twice', () => {
    const store = EdgeStore.open(tempDb(), 'murat', 'Europe/Paris');
    store.transaction(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0));
    store.db.prepare('DELETE FROM events').run();
    const e = store.transaction(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0));
    expect(e.seq).toBe(2);
    store.close();
  });
});

describe('renumbering a log that lost what the hub holds', () => {
  const append = (store: EdgeStore, n: number) => {
    for (let i = 0; i < n; i++)
      store.transaction(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0));
  };

  it('moves the events recorded since the loss after the confirmed seq, in order, with their ids, and parks numbers nobody holds', () => {
    const store = EdgeStore.open(tempDb(), 'murat', 'Europe/Paris');
    append(store, 5);
    store.parked.park(4, 4, 'refused by the broker', 0);
    const ids = store.events.list(0, 100).map((e) => e.id);
    expect(() => store.events.renumberAfter(100, 0)).toThrow(/nothing to renumber/);
    store.events.recordHubAhead(3);
    expect(store.events.behindHub()).toBeUndefined();
    store.events.recordHubAhead(40);
    expect(store.events.behindHub()).toBe(40);
    expect(() => store.events.renumberAfter(39, 0)).toThrow(/continue after 40/);
    expect(store.events.renumberAfter(42, 0)).toEqual({ from: 43, to: 47, skipped: { from: 41, to: 42 } });
    const moved = store.events.list(0, 100);
    expect(moved.map((e) => [e.seq, e.id])).toEqual(ids.map((id, i) => [43 + i, id]));
    expect(store.events.ackedSeq()).toBe(40);
    expect(store.events.behindHub()).toBeUndefined();
    expect(store.parked.list().map((p) => [p.from, p.to])).toEqual([
      [41, 42],
      [46, 46],
    ]);
    expect(store.transaction(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0)).seq).toBe(
      48,
    );
    expect(() => store.events.renumberAfter(100, 0)).toThrow(/nothing to renumber/);
    store.close();
  });

  it('refuses a restored copy, whose acknowledged events the hub already holds under the same numbers', () => {
    const store = EdgeStore.open(tempDb(), 'murat', 'Europe/Paris');
    append(store, 5);
    store.events.markAcked(3);
    store.events.recordHubAhead(40);
    expect(() => store.events.renumberAfter(40, 0)).toThrow(/restored copy/);
    expect(store.events.list(0, 100).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    store.close();
  });
});
