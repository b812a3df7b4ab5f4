import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../edge/store/db.js';
import { MIGRATIONS } from '../../edge/store/migrations.js';
import { EdgeStore } from '../../edge/store/store.js';
import { uuidv7 } from '../../shared/platform/ids.js';
import { openSqlite } from '../../shared/platform/sqlite.js';
import { tempDir } from '../support/temp-dir.js';

const tempDb = (): string => join(tempDir('tessera-events-'), 'edge.db');

/** The schema version that dropped the index of events by id. */
const BY_SEQ_VERSION = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE events_by_seq')) + 1;

describe('the site’s events, stored by seq alone', () => {
  it('a database from before keeps every event, its numbering and its acknowledgement', () => {
    expect(BY_SEQ_VERSION).toBeGreaterThan(1);
    const path = tempDb();
    const old = new EdgeStore(
      openSqlite(path, MIGRATIONS.slice(0, BY_SEQ_VERSION - 1), 'the site database'),
      'murat',
      'Europe/Paris',
    );
    const written = old.transaction(() =>
      [0, 1, 2].map((i) => old.events.append({ type: 'door.forced', data: { door: `door-${i}` } }, 1_795_000_000_000)),
    );
    old.events.markAcked(1);
    const rowsBefore = old.db.prepare('SELECT seq, id, at, at_ms, type, body FROM events ORDER BY seq').all();
    expect(old.db.prepare("SELECT name FROM pragma_index_list('events')").pluck().all()).toHaveLength(1);
    old.close();

    const store = new EdgeStore(openDatabase(path), 'murat', 'Europe/Paris');
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.db.prepare('SELECT seq, id, at, at_ms, type, body FROM events ORDER BY seq').all()).toEqual(
      rowsBefore,
    );
    expect(store.events.list(0, 10)).toEqual(written);
    expect(store.events.ackedSeq()).toBe(1);
    // The table's only b-tree is its rowid, the seq.
    expect(store.db.prepare("SELECT name FROM pragma_index_list('events')").pluck().all()).toEqual([]);
    const next = store.transaction(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0));
    expect(next.seq).toBe(4);
    expect(store.events.list(3, 10)).toEqual([next]);
    store.close();
  });

  it('a seq is still never held twice', () => {
    const store = EdgeStore.open(tempDb(), 'murat', 'Europe/Paris');
    const e = store.transaction(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0));
    expect(() =>
      store.db
        .prepare('INSERT INTO events (seq, id, at, at_ms, type, body) VALUES (?, ?, ?, ?, ?, ?)')
        .run(e.seq, uuidv7(0), e.at, 0, e.type, JSON.stringify(e)),
    ).toThrow(/UNIQUE|PRIMARY KEY/);
    store.close();
  });

  it('ids made in the same millisecond, across many refills of the random pool, are all different', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) ids.add(uuidv7(1_795_000_000_000));
    expect(ids.size).toBe(100_000);
  });
});
