import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { HUB_MIGRATIONS } from '../../cloud-sync/hub/migrations.js';
import { dialectOf } from '../../cloud-sync/hub/storage/hub-db.js';
import { toPostgres } from '../../cloud-sync/hub/storage/pg-schema.js';
import { rewritePlaceholders } from '../../cloud-sync/hub/storage/placeholders.js';
import { HUB_DB_KIND, lastingHubDb, testHubDb } from '../harness/hub-db.js';

/**
 * The storage contract: what the hub's modules rely on, checked on the store of the
 * project running it (SQLite in `unit`, PostgreSQL in `unit-pg`).
 */
describe(`hub storage contract (${HUB_DB_KIND})`, () => {
  let db: HubDb;
  beforeEach(() => {
    db = openHubDatabase(testHubDb());
    db.exec('CREATE TABLE scratch (id BIGINT PRIMARY KEY, n BIGINT, t TEXT)');
  });
  afterEach(() => {
    if (db.open) db.close();
  });
  const insert = () =>
    db.prepare<[number, number | null, string | null]>('INSERT INTO scratch (id, n, t) VALUES (?, ?, ?)');
  const count = () => db.prepare<[], number>('SELECT COUNT(*) FROM scratch').pluck().get();

  it('is the store its project says', () => {
    expect(dialectOf(db)).toBe(HUB_DB_KIND);
  });

  it('binds ? and @name placeholders, a name used twice once, and leaves a ? inside a literal alone', () => {
    insert().run(1, 10, 'a?b');
    insert().run(2, 20, "it's");
    expect(db.prepare<[string], { id: number }>("SELECT id FROM scratch WHERE t = ? AND t <> '?'").get("it's")).toEqual(
      { id: 2 },
    );
    const named = db
      .prepare<{ lo: number; hi: number }, number>(
        'SELECT id FROM scratch WHERE n >= @lo AND n <= @hi AND id <= @hi ORDER BY id',
      )
      .pluck();
    expect(named.all({ lo: 5, hi: 20 })).toEqual([1, 2]);
    expect(() => named.all({ lo: 5 } as never)).toThrow(/hi/);
    expect(db.prepare<[], string>("SELECT t FROM scratch WHERE t LIKE '%?%'").pluck().all()).toEqual(['a?b']);
  });

  it('gives integers past 32 bits, counts and sums as numbers, NULL as null, text as it was', () => {
    const ms = Date.UTC(2026, 11, 3, 9, 30);
    insert().run(1, ms, 'Télécentre « Murat » 🚪');
    insert().run(2, null, null);
    expect(db.prepare('SELECT id, n, t FROM scratch ORDER BY id').all()).toEqual([
      { id: 1, n: ms, t: 'Télécentre « Murat » 🚪' },
      { id: 2, n: null, t: null },
    ]);
    expect(db.prepare('SELECT COUNT(*) AS c, SUM(n) AS s, MAX(n) AS m FROM scratch').get()).toEqual({
      c: 2,
      s: ms,
      m: ms,
    });
    expect(db.prepare<[], number>('SELECT n IS NULL FROM scratch ORDER BY id').pluck().all()).toEqual([0, 1]);
  });

  it('reports the rows a statement changed, and RETURNING gives the new id', () => {
    insert().run(1, 1, 'x');
    insert().run(2, 2, 'x');
    expect(db.prepare<[string]>('UPDATE scratch SET n = n + 1 WHERE t = ?').run('x').changes).toBe(2);
    expect(db.prepare<[string]>('DELETE FROM scratch WHERE t = ?').run('nothing').changes).toBe(0);
    const id = db
      .prepare<[string], number>(
        "INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES (?, 'r', 'd', 'p', 1) RETURNING id",
      )
      .pluck()
      .get('t');
    expect(typeof id).toBe('number');
    expect(
      db
        .prepare<[number], string>('SELECT topic FROM dead_letters WHERE id = ?')
        .pluck()
        .get(id as number),
    ).toBe('t');
  });

  it('commits a transaction, rolls it back whole when it throws, and a nested one is a savepoint', () => {
    db.transaction(() => insert().run(1, 1, 'kept'))();
    expect(() =>
      db.transaction(() => {
        insert().run(2, 2, 'gone');
        throw new Error('disk says no');
      })(),
    ).toThrow('disk says no');
    expect(count()).toBe(1);
    const outer = db.transaction(() => {
      insert().run(3, 3, 'outer');
      try {
        db.transaction(() => {
          insert().run(4, 4, 'inner');
          throw new Error('inner fails');
        })();
      } catch {
        // the savepoint is rolled back, the outer transaction goes on
      }
      return count();
    });
    expect(outer()).toBe(2);
    expect(db.prepare<[], string>('SELECT t FROM scratch ORDER BY id').pluck().all()).toEqual(['kept', 'outer']);
    // A failed statement inside a transaction aborts it: the caller's catch rolls the whole of it back.
    expect(() => db.transaction(() => insert().run(1, 1, 'duplicate key'))()).toThrow();
    expect(count()).toBe(2);
    expect(() => db.transaction(() => Promise.resolve(1))()).toThrow(/promise/);
  });

  it('iterates over rows, and refuses calls once closed', () => {
    for (let i = 1; i <= 3; i++) insert().run(i, i * 10, null);
    expect([
      ...db.prepare<[number], number>('SELECT n FROM scratch WHERE n > ? ORDER BY n').pluck().iterate(10),
    ]).toEqual([20, 30]);
    db.close();
    expect(() => count()).toThrow();
  });

  it('opening an up-to-date database again changes nothing; a newer schema is refused', () => {
    db.close();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-hub-storage-'));
    const target = lastingHubDb(dir);
    openHubDatabase(target).close();
    const again = openHubDatabase(target);
    const version =
      dialectOf(again) === 'postgres' ? 'UPDATE schema_version SET version = 999' : 'PRAGMA user_version = 999';
    again.exec(version);
    again.close();
    expect(() => openHubDatabase(target)).toThrow(/schema version 999, newer than this program knows/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('hub storage: the translation to PostgreSQL', () => {
  it('rewrites placeholders outside literals, quoted names and comments', () => {
    expect(rewritePlaceholders(`SELECT '?', "a?", ? -- ?\n, ? /* ? */`)).toEqual({
      text: `SELECT '?', "a?", $1 -- ?\n, $2 /* ? */`,
      count: 2,
      names: undefined,
    });
    expect(rewritePlaceholders("SELECT @a, @b, @a, 'x''@c'")).toEqual({
      text: "SELECT $1, $2, $1, 'x''@c'",
      count: 2,
      names: ['a', 'b'],
    });
    expect(() => rewritePlaceholders('SELECT ?, @a')).toThrow(/mixes/);
  });

  it('translates every hub migration, and refuses what it has no translation for', () => {
    for (const m of HUB_MIGRATIONS) expect(toPostgres(m)).not.toMatch(/WITHOUT ROWID|AUTOINCREMENT|NOCASE|randomblob/);
    expect(toPostgres('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)')).toContain(
      'id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT COLLATE "C"',
    );
    expect(() => toPostgres('CREATE TABLE t (photo BLOB)')).toThrow(/BLOB/);
  });
});
