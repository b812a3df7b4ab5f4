import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../edge/store/db.js';
import { applyErasures } from '../../edge/store/erasure.js';
import { MIGRATIONS } from '../../edge/store/migrations.js';
import { EdgeStore } from '../../edge/store/store.js';
import { openSqlite } from '../../shared/platform/sqlite.js';
import { tempDir } from '../support/temp-dir.js';
import { pseudonymOf } from '../../shared/protocol/erasure.js';

const tempDb = (): string => join(tempDir('tessera-occupancy-'), 'edge.db');

/** What the counter must always say: the rows of presence, counted. */
const counted = (store: EdgeStore) =>
  store.db.prepare<[], number>('SELECT COUNT(*) FROM presence').pluck().get() ?? Number.NaN;

/** The schema version that introduced the occupancy counter. */
const COUNTER_VERSION = MIGRATIONS.findIndex((sql) => sql.includes("'occupancy'")) + 1;

describe('the site’s occupancy, kept as a counter', () => {
  it('a database from before the counter starts it at the members already in', () => {
    expect(COUNTER_VERSION).toBeGreaterThan(1);
    const path = tempDb();
    const old = openSqlite(path, MIGRATIONS.slice(0, COUNTER_VERSION - 1), 'the site database');
    const checkIn = old.prepare('INSERT INTO presence (member, since, door) VALUES (?, ?, ?)');
    for (const member of ['alice', 'bob', 'chloe']) checkIn.run(member, 1_000, 'front');
    old.close();
    const store = new EdgeStore(openDatabase(path), 'murat', 'Europe/Paris');
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.presence.occupancy()).toBe(3);
    store.transaction(() => store.presence.checkIn('dan', 2_000, 'front'));
    expect(store.presence.occupancy()).toBe(4);
    store.close();
  });

  it('follows check-ins, check-outs and any delete from presence, and a rollback undoes it', () => {
    const store = EdgeStore.open(tempDb(), 'murat', 'Europe/Paris');
    expect(store.presence.occupancy()).toBe(0);
    store.transaction(() => {
      for (const member of ['alice', 'bob', 'chloe']) store.presence.checkIn(member, 1_000, 'front');
    });
    expect(store.presence.occupancy()).toBe(3);
    store.transaction(() => store.presence.checkOut('bob'));
    // A check-out of someone not in deletes nothing.
    store.transaction(() => store.presence.checkOut('bob'));
    expect(store.presence.occupancy()).toBe(2);
    expect(() =>
      store.transaction(() => {
        store.presence.checkIn('dan', 2_000, 'front');
        store.presence.checkOut('alice');
        store.presence.checkOut('chloe');
        throw new Error('power cut in the middle');
      }),
    ).toThrow('power cut');
    expect(store.presence.occupancy()).toBe(2);
    // A check-in of someone already in is refused whole.
    expect(() => store.transaction(() => store.presence.checkIn('alice', 3_000, 'front'))).toThrow(/UNIQUE/);
    expect(store.presence.occupancy()).toBe(2);
    store.db.prepare('DELETE FROM presence').run();
    expect(store.presence.occupancy()).toBe(0);
    expect(counted(store)).toBe(0);
    store.close();
  });

  it('an erasure that finds the pseudonym already in still counts one person for the two rows it merges', () => {
    const store = EdgeStore.open(tempDb(), 'murat', 'Europe/Paris');
    const salt = '0123456789abcdef0123456789abcdef';
    const pseudonym = pseudonymOf(salt, 'alice');
    store.transaction(() => {
      store.presence.checkIn('alice', 1_000, 'front');
      store.presence.checkIn(pseudonym, 500, 'front');
      store.presence.checkIn('bob', 1_000, 'front');
    });
    expect(store.presence.occupancy()).toBe(3);
    const counts = store.transaction(() => applyErasures(store.db, [{ pseudonym, salt }]));
    expect(counts.members).toBe(1);
    expect(store.presence.occupancy()).toBe(2);
    expect(counted(store)).toBe(2);
    // The member's own row is the one kept, under the pseudonym, as before the counter.
    const sinceOf = (member: string) => store.presence.list().find((p) => p.member === member)?.since;
    expect(sinceOf(pseudonym)).toBe(1_000);
    expect(sinceOf('alice')).toBeUndefined();
    store.close();
  });

  it('a site’s database opened anew keeps the count', () => {
    const path = tempDb();
    const store = EdgeStore.open(path, 'murat', 'Europe/Paris');
    store.transaction(() => store.presence.checkIn('alice', 1_000, 'front'));
    store.close();
    const again = new EdgeStore(openDatabase(path), 'murat', 'Europe/Paris');
    expect(again.presence.occupancy()).toBe(1);
    again.close();
    const raw = new Database(path);
    expect(raw.prepare("SELECT value FROM counters WHERE name = 'occupancy'").pluck().get()).toBe(1);
    raw.close();
  });
});
