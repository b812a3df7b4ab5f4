import { describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { PG_MIGRATIONS } from '../../cloud-sync/hub/pg-migrations.js';
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
});
