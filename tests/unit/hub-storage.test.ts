import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb, type Tx } from '../../cloud-sync/hub/db.js';
import { sqlDialect } from '../../cloud-sync/hub/storage/dialect.js';
import { rewritePlaceholders } from '../../cloud-sync/hub/storage/placeholders.js';
import { HUB_DB_KIND, lastingHubDb, testHubDb } from '../harness/hub-db.js';
import { sleep } from '../support/sleep.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The storage contract: what the hub's modules rely on, checked on the store of the project
 * running it (SQLite in `unit`, PostgreSQL in `unit-pg`), with the same expectations on both.
 */
describe(`hub storage contract (${HUB_DB_KIND})`, () => {
  let db: HubDb;
  beforeEach(async () => {
    db = await openHubDatabase(await testHubDb());
    const blob = db.dialect === 'postgres' ? 'BYTEA' : 'BLOB';
    await db.exec(`CREATE TABLE scratch (id BIGINT PRIMARY KEY, n BIGINT, t TEXT, b ${blob})`);
  });
  afterEach(async () => {
    await db.close();
  });
  const insert = (q: Tx | HubDb, id: number, n: number | null, t: string | null) =>
    q.run('INSERT INTO scratch (id, n, t) VALUES (?, ?, ?)', [id, n, t]);
  const count = (q: Tx | HubDb = db) => q.value<number>('SELECT COUNT(*) FROM scratch');
  const texts = () => db.column<string>('SELECT t FROM scratch ORDER BY id');

  it('is the store its project says', () => {
    expect(db.dialect).toBe(HUB_DB_KIND);
    expect(db.open).toBe(true);
    expect(db.available).toBe(true);
  });

  it('all, get, column, value, run and exec give what they say, nothing as undefined or []', async () => {
    await db.exec(
      "INSERT INTO scratch (id, n, t) VALUES (1, 10, 'a'); INSERT INTO scratch (id, n, t) VALUES (2, 20, 'b')",
    );
    expect(await db.all('SELECT id, t FROM scratch ORDER BY id')).toEqual([
      { id: 1, t: 'a' },
      { id: 2, t: 'b' },
    ]);
    expect(await db.get('SELECT id, t FROM scratch ORDER BY id DESC')).toEqual({ id: 2, t: 'b' });
    expect(await db.column('SELECT t FROM scratch ORDER BY id')).toEqual(['a', 'b']);
    expect(await db.value('SELECT n FROM scratch WHERE id = 2')).toBe(20);
    expect(await db.run('UPDATE scratch SET n = n + 1')).toEqual({ changes: 2 });
    expect(await db.run('DELETE FROM scratch WHERE id = 3')).toEqual({ changes: 0 });
    expect(await db.all('SELECT * FROM scratch WHERE id = 3')).toEqual([]);
    expect(await db.get('SELECT * FROM scratch WHERE id = 3')).toBeUndefined();
    expect(await db.column('SELECT t FROM scratch WHERE id = 3')).toEqual([]);
    expect(await db.value('SELECT t FROM scratch WHERE id = 3')).toBeUndefined();
    expect(await db.value('SELECT t FROM scratch WHERE id = 1 AND t IS NULL')).toBeUndefined();
    expect(await db.value('SELECT NULL')).toBeNull();
  });

  it('binds ? and @name placeholders, a name used twice once, and leaves a ? or @ inside a literal alone', async () => {
    await insert(db, 1, 10, 'a?b');
    await insert(db, 2, 20, "it's @home");
    expect(await db.get("SELECT id FROM scratch WHERE t = ? AND t <> '?'", ["it's @home"])).toEqual({ id: 2 });
    const named = 'SELECT id FROM scratch WHERE n >= @lo AND n <= @hi AND id <= @hi ORDER BY id';
    expect(await db.column(named, { lo: 5, hi: 20 })).toEqual([1, 2]);
    expect(await db.column(named, { lo: 15, hi: 20 })).toEqual([2]);
    expect(await db.column("SELECT t FROM scratch WHERE t LIKE '%?%' OR t = '@lo'")).toEqual(['a?b']);
    await expect(db.column(named, { lo: 5 })).rejects.toThrow(/hi/);
    await expect(db.value('SELECT ? + ?', [1])).rejects.toThrow(RangeError);
    await expect(db.value('SELECT ?', [true])).rejects.toThrow(TypeError);
    expect(await db.run('UPDATE scratch SET t = @t WHERE id = @id', { id: 1, t: null })).toEqual({ changes: 1 });
    expect(await db.value('SELECT t IS NULL FROM scratch WHERE id = 1')).toBe(1);
  });

  it('integers past 32 bits, counts, sums and BIGINT columns as numbers; booleans as 1 or 0; NULL as null', async () => {
    const ms = Date.UTC(2026, 11, 3, 9, 30);
    await insert(db, 1, ms, 'Télécentre « Murat » 🚪');
    await insert(db, 2, null, null);
    await insert(db, 3, -(2 ** 40), '');
    expect(await db.all('SELECT id, n, t FROM scratch ORDER BY id')).toEqual([
      { id: 1, n: ms, t: 'Télécentre « Murat » 🚪' },
      { id: 2, n: null, t: null },
      { id: 3, n: -(2 ** 40), t: '' },
    ]);
    const totals = await db.get<Record<string, unknown>>(
      'SELECT COUNT(*) AS c, SUM(n) AS s, MAX(n) AS m, MIN(id) AS lo, COUNT(n) AS present FROM scratch',
    );
    expect(totals).toEqual({ c: 3, s: ms - 2 ** 40, m: ms, lo: 1, present: 2 });
    for (const v of Object.values(totals ?? {})) expect(typeof v).toBe('number');
    // A parameter's type is clear from its context, or given by CAST: on PostgreSQL, ? alone is text.
    expect(await db.value('SELECT CAST(? AS BIGINT) + 1', [ms])).toBe(ms + 1);
    expect(await db.value('SELECT id FROM scratch WHERE n = ?', [ms])).toBe(1);
    expect(await db.value('SELECT id FROM scratch WHERE n = ?', [BigInt(ms)])).toBe(1);
    expect(await db.column('SELECT n IS NULL FROM scratch ORDER BY id')).toEqual([0, 1, 0]);
    expect(await db.column('SELECT n > 0 FROM scratch ORDER BY id')).toEqual([1, null, 0]);
    expect(await db.value('SELECT EXISTS (SELECT 1 FROM scratch WHERE id = 2)')).toBe(1);
    expect(await db.value('SELECT 1 = 2')).toBe(0);
  });

  it('stores bytes as Buffers, and gives them back byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0]);
    await db.run('INSERT INTO scratch (id, b) VALUES (?, ?)', [1, bytes]);
    const back = await db.value<Buffer>('SELECT b FROM scratch WHERE id = 1');
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back?.equals(bytes)).toBe(true);
    expect(await db.value('SELECT id FROM scratch WHERE b = ?', [bytes])).toBe(1);
  });

  it('gives JSON columns back as their text; the dialect reads fields of it and of a bound array', async () => {
    const event = {
      v: 1,
      site: 'murat',
      seq: 1,
      id: '0f6c2d64-5c0a-4d7e-9f3e-6a1b2c3d4e5f',
      at: '2026-12-03T09:30:00+01:00',
      type: 'presence.in',
      data: { memberId: 'm-1', door: 'front' },
    };
    await db.run('INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      event.site,
      event.seq,
      event.id,
      event.at,
      event.type,
      JSON.stringify(event),
      Date.UTC(2026, 11, 3),
    ]);
    const body = await db.value<string>('SELECT body FROM events WHERE site = ? AND seq = ?', ['murat', 1]);
    expect(typeof body).toBe('string');
    expect(JSON.parse(body as string)).toEqual(event);
    const d = sqlDialect(db);
    expect(await db.value(`SELECT ${d.jsonText('body', 'data.memberId')} FROM events`)).toBe('m-1');
    expect(await db.value(`SELECT ${d.jsonText('body', 'data.badge')} FROM events`)).toBeNull();
    expect(await db.value(`SELECT seq FROM events WHERE ${d.jsonText('body', 'type')} = ?`, ['presence.in'])).toBe(1);
    await db.run("INSERT INTO scratch (id, t) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    expect(
      await db.column(`SELECT id FROM scratch WHERE t IN ${d.jsonArrayValues('?')} ORDER BY id`, [
        JSON.stringify(['c', 'a', 'x']),
      ]),
    ).toEqual([1, 3]);
    const among = (values: string[]) =>
      db.column(`SELECT id FROM scratch WHERE ${d.inJsonArray('t', '@among')} ORDER BY id`, {
        among: JSON.stringify(values),
      });
    expect(await among(['c', 'b', 'x'])).toEqual([2, 3]);
    expect(await among([])).toEqual([]);
    expect(await db.value(`SELECT ${d.greatest('id', '?')} FROM scratch WHERE id = 1`, [7])).toBe(7);
    expect(await db.column(`SELECT id FROM scratch WHERE ${d.contains('t', '?')} ORDER BY id`, ['b'])).toEqual([2]);
  });

  it('RETURNING gives the new id of an identity column', async () => {
    const sql =
      "INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES (?, 'r', 'd', 'p', 1) RETURNING id";
    const first = await db.value<number>(sql, ['t1']);
    const second = await db.value<number>(sql, ['t2']);
    expect(typeof first).toBe('number');
    expect(second).toBeGreaterThan(first as number);
    expect(await db.value('SELECT topic FROM dead_letters WHERE id = ?', [second])).toBe('t2');
  });

  it('commits a transaction with its value, and rolls it back whole when its function rejects', async () => {
    expect(
      await db.transaction(async (tx) => {
        await insert(tx, 1, 1, 'kept');
        await insert(tx, 2, 2, 'kept too');
        return count(tx);
      }),
    ).toBe(2);
    const failure = new Error('disk says no');
    await expect(
      db.transaction(async (tx) => {
        await insert(tx, 3, 3, 'gone');
        expect(await count(tx)).toBe(3);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await texts()).toEqual(['kept', 'kept too']);
    // A statement that fails and is not caught rolls back the whole transaction.
    await expect(
      db.transaction(async (tx) => {
        await insert(tx, 4, 4, 'gone');
        await insert(tx, 1, 1, 'duplicate key');
      }),
    ).rejects.toThrow();
    expect(await count()).toBe(2);
  });

  it('a nested transaction is a savepoint: rolled back alone, or kept with its transaction', async () => {
    const out = await db.transaction(async (tx) => {
      await insert(tx, 1, 1, 'outer');
      await expect(
        tx.transaction(async (sp) => {
          await insert(sp, 2, 2, 'inner, rolled back');
          await sp.transaction(async (deeper) => insert(deeper, 3, 3, 'deeper, rolled back with it'));
          expect(await count(sp)).toBe(3);
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      expect(await count(tx)).toBe(1);
      // A failed statement inside a savepoint leaves the transaction usable once it is rolled back.
      await expect(tx.transaction(async (sp) => insert(sp, 1, 1, 'duplicate key'))).rejects.toThrow();
      const kept = await tx.transaction(async (sp) => {
        await insert(sp, 4, 4, 'inner, kept');
        return 'savepoint value';
      });
      await insert(tx, 5, 5, 'outer again');
      return kept;
    });
    expect(out).toBe('savepoint value');
    expect(await texts()).toEqual(['outer', 'inner, kept', 'outer again']);
    // A savepoint released, then its transaction rolled back: nothing of either stays.
    await expect(
      db.transaction(async (tx) => {
        await tx.transaction(async (sp) => insert(sp, 6, 6, 'inner, then rolled back'));
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await count()).toBe(3);
  });

  it('a transaction whose function caught a failed statement never reports a commit that did not happen', async () => {
    // SQLite undoes the failed statement alone; PostgreSQL aborts the whole transaction. Either
    // way, a transaction that resolves has committed everything its function wrote.
    const outcome = await db
      .transaction(async (tx) => {
        await insert(tx, 1, 1, 'before');
        await insert(tx, 1, 1, 'duplicate key').catch(() => undefined);
        return 'resolved';
      })
      .catch((err: Error) => err);
    if (outcome === 'resolved') expect(await texts()).toEqual(['before']);
    else {
      expect(outcome).toBeInstanceOf(Error);
      expect(await count()).toBe(0);
    }
    expect(outcome === 'resolved').toBe(db.dialect === 'sqlite');
  });

  it('a transaction the store itself ended (a trigger aborting it) commits nothing of what follows', async () => {
    // SQLite's RAISE(ROLLBACK) ends the whole transaction, not only the savepoint it fired in;
    // PostgreSQL's exceptions end the savepoint. What resolves has committed all of it, else none.
    await db.exec(
      db.dialect === 'sqlite'
        ? "CREATE TRIGGER refuse BEFORE INSERT ON scratch WHEN NEW.t = 'refused' BEGIN SELECT RAISE(ROLLBACK, 'refused'); END"
        : `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
           CREATE TRIGGER refuse BEFORE INSERT ON scratch FOR EACH ROW WHEN (NEW.t = 'refused') EXECUTE FUNCTION refuse()`,
    );
    const outcome = await db
      .transaction(async (tx) => {
        await insert(tx, 1, 1, 'before');
        await expect(tx.transaction(async (sp) => insert(sp, 2, 2, 'refused'))).rejects.toThrow('refused');
        await insert(tx, 3, 3, 'after');
        return 'resolved';
      })
      .catch((err: Error) => err);
    expect(await texts()).toEqual(outcome === 'resolved' ? ['before', 'after'] : []);
    expect(outcome === 'resolved').toBe(db.dialect === 'postgres');
  });

  it('the database used inside its own transaction, or a handle used after its end, is a TypeError', async () => {
    await db.transaction(async (tx) => {
      await expect(db.value('SELECT 1')).rejects.toThrow(TypeError);
      await expect(db.run('DELETE FROM scratch')).rejects.toThrow(/from inside one of its transactions/);
      await expect(db.transaction(async () => 1)).rejects.toThrow(/from inside one of its transactions/);
      await expect(db.exec('SELECT 1')).rejects.toThrow(TypeError);
      await tx.transaction(async (sp) => {
        await expect(tx.value('SELECT 1')).rejects.toThrow(/a savepoint of this transaction is open/);
        await expect(db.value('SELECT 1')).rejects.toThrow(TypeError);
        await sp.value('SELECT 1');
      });
      await insert(tx, 1, 1, 'still usable');
    });
    let kept: Tx | undefined;
    let later: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      kept = tx;
      // Started inside, run after the end: outside the transaction, on the database.
      later = sleep(5).then(() => db.value('SELECT COUNT(*) FROM scratch'));
    });
    await expect(kept?.value('SELECT 1')).rejects.toThrow(/this transaction has ended/);
    await expect(kept?.transaction(async () => 1)).rejects.toThrow(/this transaction has ended/);
    expect(await later).toBe(1);
  });

  it('concurrent transactions never interleave on a row they update: read, wait, write; no update is lost', async () => {
    await insert(db, 1, 0, 'counter');
    const { forUpdate } = sqlDialect(db);
    const log: string[] = [];
    const bump = (i: number) =>
      db.transaction(async (tx) => {
        const n = await tx.value<number>(`SELECT n FROM scratch WHERE id = 1${forUpdate}`);
        log.push(`read ${i}`);
        await sleep(2); // others run meanwhile; none of them may read n before this one writes it
        await tx.run('UPDATE scratch SET n = ? WHERE id = 1', [(n as number) + 1]);
        log.push(`wrote ${i}`);
      });
    // Statements on the database itself at the same time: never inside a transaction's span.
    const outside = Array.from({ length: 10 }, () => db.value<number>('SELECT n FROM scratch WHERE id = 1'));
    await Promise.all([...Array.from({ length: 12 }, (_, i) => bump(i)), ...outside]);
    expect(await db.value('SELECT n FROM scratch WHERE id = 1')).toBe(12);
    for (let k = 0; k < log.length; k += 2) expect(log[k + 1]).toBe(log[k]?.replace('read', 'wrote'));
    for (const n of await Promise.all(outside)) expect(n).toBeGreaterThanOrEqual(0);
  });

  it('a long transaction lets the event loop turn while it works: timers fire before it commits', async () => {
    let fired = 0;
    let working = true;
    const timer = setInterval(() => {
      if (working) fired++;
    }, 1);
    try {
      await db.transaction(async (tx) => {
        // Statements one after the other, nothing awaited but them, until the timer fired five times
        // (a few milliseconds when the loop turns; bounded at 10 s for a store whose loop never turns,
        // where it fires none, however loaded the machine).
        const until = performance.now() + 10_000;
        for (let id = 1; fired < 5 && performance.now() < until; id++) await insert(tx, id, id, 'x');
      });
    } finally {
      working = false;
      clearInterval(timer);
    }
    // Without the turns, SQLite's statements resolve back to back and no timer fires until the commit.
    expect(fired).toBeGreaterThanOrEqual(5);
  });

  it('a statement outside an open transaction never sees its uncommitted writes', async () => {
    const order: string[] = [];
    let inserted!: () => void;
    // Registered here, outside the transaction: what it runs is outside it too.
    const reading = new Promise<void>((resolve) => (inserted = resolve)).then(async () => {
      const n = await count();
      order.push('read');
      return n;
    });
    await db.transaction(async (tx) => {
      await insert(tx, 1, 1, 'uncommitted');
      inserted();
      // PostgreSQL: the read runs on another connection meanwhile, so the commit waits for it (a
      // read that waited for the commit would never end: the test fails on its timeout instead of
      // on a race). SQLite: the read cannot run before the commit (one connection): a moment to try.
      if (db.dialect === 'sqlite') await sleep(20);
      else await reading;
      order.push('commit');
    });
    const seen = await reading;
    // SQLite: the read waits for the transaction (one connection), then sees its rows;
    // PostgreSQL: it runs at once on another connection and sees the last committed state.
    expect({ seen, order }).toEqual(
      db.dialect === 'sqlite' ? { seen: 1, order: ['commit', 'read'] } : { seen: 0, order: ['read', 'commit'] },
    );
  });

  it('close waits for the transactions under way, then every call is refused; it can be called again', async () => {
    let committed = false;
    const running = db.transaction(async (tx) => {
      await sleep(30);
      await insert(tx, 1, 1, 'written while closing');
      committed = true;
    });
    await sleep(5);
    const closed = db.close();
    expect(db.open).toBe(false);
    await closed;
    expect(committed).toBe(true);
    await running;
    await expect(db.value('SELECT 1')).rejects.toThrow(TypeError);
    await expect(db.transaction(async () => 1)).rejects.toThrow(TypeError);
    await db.close();
  });

  it('opening an up-to-date database again changes nothing; a newer schema is refused', async () => {
    const target = await lastingHubDb(tempDir('tessera-hub-storage-'));
    await (await openHubDatabase(target)).close();
    const again = await openHubDatabase(target);
    expect(await again.value('SELECT revision FROM directory_revision')).toBe(0);
    await again.exec(
      again.dialect === 'postgres' ? 'UPDATE schema_version SET version = 999' : 'PRAGMA user_version = 999',
    );
    await again.close();
    await expect(openHubDatabase(target)).rejects.toThrow(/schema version 999, newer than this program knows/);
  });
});

describe('hub storage: placeholders for PostgreSQL', () => {
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
});
