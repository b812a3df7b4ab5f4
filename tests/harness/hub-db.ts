import { join } from 'node:path';
import pg from 'pg';
import type { HubDb } from '../../cloud-sync/hub/db.js';

/**
 * Where hub tests keep their database (the hub's whole suite runs on both stores).
 * The vitest projects `*-pg` set TESSERA_TEST_HUB_DB=postgres (vitest.config.ts); each call
 * then gives a fresh schema of the test PostgreSQL database, dropped by the global teardown
 * (tests/pg-setup.ts). Otherwise: SQLite, in memory or in the test's folder.
 */
export const HUB_DB_KIND: 'sqlite' | 'postgres' =
  process.env.TESSERA_TEST_HUB_DB === 'postgres' ? 'postgres' : 'sqlite';

/** The server the PostgreSQL runs use (127.0.0.1:5432 here; trust authentication). */
export const TEST_PG_URL = process.env.TESSERA_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
/** Every schema of one test run starts with this; the global teardown drops them. */
export const pgSchemaPrefix = (run: string) => `tessera_test_${run}_`;

let schemas = 0;

/**
 * Runs statements on a PostgreSQL server (default: the test one), outside any hub, each in its
 * own transaction; returns the first column of the last one's rows.
 */
export async function pgAdmin(statements: string[], url = TEST_PG_URL): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    let rows: unknown[] = [];
    for (const sql of statements) rows = (await client.query({ text: sql, rowMode: 'array' })).rows.map((r) => r[0]);
    return rows;
  } finally {
    await client.end();
  }
}

/** A new, empty PostgreSQL schema, as the URL of a hub database in it. */
export async function freshPgDatabase(): Promise<string> {
  const run = process.env.TESSERA_TEST_PG_RUN ?? 'adhoc';
  const schema = `${pgSchemaPrefix(run)}${process.pid}_${++schemas}`;
  await pgAdmin([`CREATE SCHEMA ${schema}`]);
  // %XX is decoded in a URL, not "+": no URLSearchParams here. Commits need not wait for the disk in tests.
  return `${TEST_PG_URL}${TEST_PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-csearch_path=${schema} -csynchronous_commit=off`)}`;
}

/**
 * How many runs a property test that writes to the hub's store makes: its full count on SQLite,
 * fewer on PostgreSQL, where each statement is a round trip to the server. The same property
 * checks the same store code on both; the count stays bounded on a loaded machine, where a
 * round trip can take milliseconds.
 */
export const storeRuns = (runs: { sqlite: number; postgres: number }): number =>
  HUB_DB_KIND === 'postgres' ? runs.postgres : runs.sqlite;

/** A hub database for one test: in memory (SQLite) or a fresh schema (PostgreSQL). */
export async function testHubDb(): Promise<string> {
  return HUB_DB_KIND === 'postgres' ? freshPgDatabase() : ':memory:';
}

/**
 * A hub database that outlives the hub using it (restart tests: open it again with the same
 * string): a file in `dir` (SQLite) or a fresh schema (PostgreSQL).
 */
export async function lastingHubDb(dir: string, file = 'hub.db'): Promise<string> {
  return HUB_DB_KIND === 'postgres' ? freshPgDatabase() : join(dir, file);
}

/** Makes the database refuse every event of `site` (a store failure in the middle of a transaction). */
export async function refuseEventsOf(db: HubDb, site: string): Promise<void> {
  if (db.dialect === 'sqlite') {
    await db.exec(
      `CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.site = '${site}' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`,
    );
    return;
  }
  await db.exec(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk says no'; END $$;
    CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.site = '${site}') EXECUTE FUNCTION refuse()`);
}
