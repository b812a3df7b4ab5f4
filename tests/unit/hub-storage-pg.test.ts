import { describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { PG_MIGRATIONS } from '../../cloud-sync/hub/pg-migrations.js';
import { migratePostgres, MIGRATION_LOCK } from '../../cloud-sync/hub/storage/pg-schema.js';
import { PostgresHubDb } from '../../cloud-sync/hub/storage/postgres.js';
import pg from 'pg';
import { freshPgDatabase, pgAdmin } from '../harness/hub-db.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

/** PostgreSQL's own ways (the unit-pg project only): its connections, its failures, its migrations. */
describe('hub storage on PostgreSQL', () => {
  const cleanups = cleanupsAfterEach();
  const open = async (url?: string, options?: Parameters<typeof openHubDatabase>[1]): Promise<HubDb> => {
    const db = await openHubDatabase(url ?? (await freshPgDatabase()), options);
    cleanups.push(() => db.close());
    return db;
  };

  it('a connection the server ends while idle in the pool costs nothing: the next call takes another', async () => {
    const db = await open();
    const pid = await db.value<number>('SELECT pg_backend_pid()');
    await pgAdmin([`SELECT pg_terminate_backend(${pid}, 5000)`]); // returns once it is gone
    expect(await db.value('SELECT COUNT(*) FROM site_progress')).toBe(0);
    expect(await db.value('SELECT pg_backend_pid()')).not.toBe(pid);
    expect(db.available).toBe(true);
  });

  it('a transaction whose connection is lost fails with store.unavailable, saying so, and leaves nothing behind', async () => {
    const db = await open();
    await expect(
      db.transaction(async (tx) => {
        await tx.run(
          "INSERT INTO sites (id, name, time_zone, capacity, created_at, updated_at) VALUES ('a', 'A', 'UTC', 1, 0, 0)",
        );
        const pid = await tx.value<number>('SELECT pg_backend_pid()');
        await pgAdmin([`SELECT pg_terminate_backend(${pid}, 5000)`]);
        await tx.run(
          "INSERT INTO sites (id, name, time_zone, capacity, created_at, updated_at) VALUES ('b', 'B', 'UTC', 1, 0, 0)",
        );
      }),
    ).rejects.toMatchObject({
      code: 'store.unavailable',
      message: expect.stringContaining(
        'lost the connection to PostgreSQL at postgresql://postgres@127.0.0.1',
      ) as string,
    });
    expect(db.available).toBe(false);
    expect(await db.value('SELECT COUNT(*) FROM sites')).toBe(0);
    expect(db.available).toBe(true);
  });

  it('a statement past statementTimeoutMs is cancelled by the server: store.unavailable, and the pool goes on', async () => {
    const db = await open(undefined, { statementTimeoutMs: 200 });
    const started = Date.now();
    await expect(db.value('SELECT pg_sleep(5)')).rejects.toMatchObject({
      code: 'store.unavailable',
      message: expect.stringContaining('statement timeout') as string,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await db.value('SELECT 1')).toBe(1);
  });

  it('an unreachable server is store.unavailable within connectTimeoutMs, saying where, without the password', async () => {
    const started = Date.now();
    await expect(
      openHubDatabase('postgresql://tessera:s3cret@127.0.0.1:1/hub', { connectTimeoutMs: 500 }),
    ).rejects.toMatchObject({
      code: 'store.unavailable',
      message: expect.stringMatching(
        /^cannot connect to PostgreSQL at postgresql:\/\/tessera:\*\*\*@127\.0\.0\.1:1\/hub/,
      ),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a string holding a NUL rather than storing it cut off', async () => {
    const db = await open();
    await expect(
      db.run(
        "INSERT INTO sites (id, name, time_zone, capacity, created_at, updated_at) VALUES ('s', ?, 'UTC', 1, 0, 0)",
        ['Murat\u0000 annex'],
      ),
    ).rejects.toMatchObject({ code: 'request.invalid', message: expect.stringContaining('NUL') as string });
    expect(await db.value('SELECT COUNT(*) FROM sites')).toBe(0);
  });

  it('PostgreSQL refusing a statement is a PgError with its SQLSTATE and the statement, not store.unavailable', async () => {
    const db = await open();
    await expect(db.value('SELECT * FROM no_such_table')).rejects.toMatchObject({
      name: 'PgError',
      sqlState: '42P01',
      message: expect.stringContaining('(in: SELECT * FROM no_such_table)') as string,
    });
    expect(db.available).toBe(true);
  });

  it('hub instances opening a fresh database at once: both succeed, each migration applied once', async () => {
    const url = await freshPgDatabase();
    const [a, b, c] = await Promise.all([open(url), open(url), open(url)]);
    expect(await a.value('SELECT version FROM schema_version')).toBe(PG_MIGRATIONS.length);
    // Rows a migration inserts are there once; a second run of an entry would have failed on its CREATE TABLE.
    expect(await b.value('SELECT COUNT(*) FROM directory_revision')).toBe(1);
    expect(await c.value('SELECT COUNT(*) FROM erasure_salt')).toBe(1);
  });

  it('a hub instance waits for another one migrating, past its own statement bound', async () => {
    const url = await freshPgDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const opening = open(url, { statementTimeoutMs: 100 });
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // ten times the bound, and its margin
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      const db = await opening;
      expect(await db.value('SELECT version FROM schema_version')).toBe(PG_MIGRATIONS.length);
    } finally {
      await holder.end();
    }
  });

  it('a database at version 10 goes on: event bodies become jsonb, parsed back as they were', async () => {
    const url = await freshPgDatabase();
    const before = new PostgresHubDb(url);
    const event = (seq: number, memberId: string) => ({
      v: 1,
      site: 'murat',
      seq,
      id: `00000000-0000-4000-8000-00000000000${seq}`,
      at: '2026-12-03T09:30:00+01:00',
      type: 'presence.in',
      data: { memberId, door: 'front' },
    });
    const members = ['m-1', 'Zoë 😀 «quoted» "x"', 'back\\u0000slash', 'nul\u0000inside', 'lone\ud800'];
    try {
      await migratePostgres(before, PG_MIGRATIONS.slice(0, 10), 'the hub database');
      for (const [i, m] of members.entries())
        await before.run(
          "INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ('murat', ?, 'x', 'a', 'presence.in', ?, 0)",
          [i + 1, JSON.stringify(event(i + 1, m))],
        );
      // What databases of earlier versions hold, made at every start then: gone at version 11.
      await before.exec(`CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER LANGUAGE sql IMMUTABLE
        AS $$ SELECT strpos(haystack, needle) $$`);
    } finally {
      await before.close();
    }
    const db = await open(url);
    expect(await db.value('SELECT version FROM schema_version')).toBe(PG_MIGRATIONS.length);
    expect(
      await db.value(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'body' AND table_schema = current_schema()",
      ),
    ).toBe('jsonb');
    expect(
      await db.value(
        "SELECT COUNT(*) FROM pg_proc WHERE proname = 'instr' AND pronamespace = CAST(current_schema() AS regnamespace)",
      ),
    ).toBe(0);
    const bodies = (await db.column<string>('SELECT body FROM events ORDER BY seq')).map(
      (b) => JSON.parse(b) as unknown,
    );
    // NUL characters and lone surrogates, which jsonb cannot hold, became the replacement character.
    expect(bodies).toEqual(
      ['m-1', 'Zoë 😀 «quoted» "x"', 'back\\u0000slash', 'nul\ufffdinside', 'lone\ufffd'].map((m, i) =>
        event(i + 1, m),
      ),
    );
  });
});
